// Package mcpserver is deskconn's MCP adapter: it serves the action registry
// (internal/action) as Model Context Protocol tools with the official Go SDK,
// over stdio (`deskconn mcp`) and streamable HTTP (`deskconn serve`, at
// /mcp/{connection}).
//
// The tools are generated from the registry, one per action, never from a
// second list: the tool's name and description are the action's, its input
// schema a lean view of the action's (see lean.go: tools/list is part of
// every conversation, so it stays under 30 KB), and its annotations map from
// action.Hints. Tools carry no output schema; OutputSchema gives the shape of
// their structured content: the action's output, a dry-run plan (write
// actions) or an error envelope {"error": {...}}. Options.Toolsets and
// Options.ReadOnly serve part of the catalogue.
//
// Every call goes through (*action.Registry).Invoke, which validates the
// input (reporting every problem at once), applies the connection's policy
// and maps errors. The adapter renders results once:
//
//   - success: structured content is the action's output; the text content
//     is a one-line summary (for lists and dry runs) followed by the same
//     JSON, so clients that only read text see everything once;
//   - a domain error (*deskconn.Error): a tool result with isError, whose
//     text says what to change — each field's JSON Pointer and problem,
//     which lookup tool finds a missing or wrong id, the candidates of an
//     ambiguous selector, how to confirm a destructive action — and whose
//     structured content is {"error": {code, message, errors, candidates,
//     upstream, retryAfterSeconds}};
//   - only protocol misuse (an unknown tool, a malformed request) is a
//     JSON-RPC error, answered by the SDK.
package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	segjson "github.com/segmentio/encoding/json"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/filedata"
)

// Resolver returns the target (tenant, API key, connection and its Zoho Desk
// client) of one tool call. It runs for every call, so a connection's
// status and policies are always current. An error it returns is rendered to
// the model like an action's error: return a *deskconn.Error (not_found,
// needs_reauth...) whose message says what to do; any other error is shown
// as "internal error" and logged.
type Resolver func(ctx context.Context, req *mcp.CallToolRequest) (action.Target, error)

// Options configure New. The zero value works.
type Options struct {
	// Name and Version identify the server to clients (default "deskconn"
	// and "dev").
	Name    string
	Version string
	// Instructions are sent to clients at initialization (default: a short
	// guide to the tools; see DefaultInstructions).
	Instructions string
	// Logger receives one record per failed tool call (default: discard).
	// Records carry the action, the code and the connection id, never
	// input values or secrets.
	Logger *slog.Logger
	// Toolsets limits the tools to the actions of these toolsets (names
	// from action.Toolsets; check user input with ParseToolsets). Empty
	// serves every action.
	Toolsets []string
	// ReadOnly serves only read-only actions (Hints.ReadOnly): the others
	// are neither listed nor callable.
	ReadOnly bool
	// Actions, if not empty, serves only these actions (an API key limited
	// to named actions sees only those tools).
	Actions []string
}

// DefaultInstructions is the guide sent to clients when Options.Instructions
// is empty.
const DefaultInstructions = "These tools act on one Zoho Desk connection. " +
	"Each tool's description says which lookup tool gives the ids it takes: list_organizations, list_departments, list_teams, " +
	"list_agents / find_agent_by_email, list_products, list_roles, list_profiles, search_contacts, search_accounts, search_tickets, " +
	"search_articles, list_article_categories. " +
	"Tool schemas leave out fields that every tool shares; send them when needed: " +
	"orgId (from list_organizations; optional when the connection has a default organization); " +
	"on list tools, paging with from and limit (in params, or at the top level for tools without params; each page says how to get the next); " +
	"on every write, dryRun: true (returns the exact Zoho requests, changes nothing), an idempotencyKey (1-255 characters; a retry with the same key never acts twice) " +
	"and confirm: true when a call fails asking for confirmation (destructive tools under the default policy). " +
	"A failed call returns isError with what to change: fix every listed field and call again."

// New returns an MCP server with one tool per action of reg that
// opts.Toolsets and opts.ReadOnly allow, in registry order. reg must not
// change afterwards. resolve supplies the target of each call. New panics
// on an unknown toolset name or if an action's schema cannot be served
// (programming errors, as with the SDK's AddTool).
func New(reg *action.Registry, resolve Resolver, opts *Options) *mcp.Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Name == "" {
		o.Name = "deskconn"
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Instructions == "" {
		o.Instructions = DefaultInstructions
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	for _, name := range o.Toolsets {
		if !slices.Contains(action.Toolsets, name) {
			panic(fmt.Sprintf("mcpserver: unknown toolset %q", name))
		}
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: o.Name, Title: "deskconn: Zoho Desk", Version: o.Version}, &mcp.ServerOptions{
		Instructions: o.Instructions,
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
	})
	srv.AddReceivingMiddleware(encodeResults)
	hints := newHinter(reg)
	for _, a := range reg.List() {
		if !o.serves(a) {
			continue
		}
		h := &handler{reg: reg, act: a, resolve: resolve, log: o.Logger, hints: hints, structured: hasStructured(a)}
		srv.AddTool(Tool(a), h.call)
	}
	return srv
}

// Tool returns the MCP tool definition New serves for a: the action's name
// and description, the lean view of its input schema (see lean.go)
// and its annotations. It has no output schema: see OutputSchema.
func Tool(a *action.Action) *mcp.Tool {
	h := a.Hints()
	an := &mcp.ToolAnnotations{ReadOnlyHint: h.ReadOnly, IdempotentHint: h.Idempotent}
	// Optional hints are sent only where they differ from the MCP defaults
	// (destructive and open-world true) and mean something
	// (destructiveHint only for writes).
	if !h.ReadOnly && !h.Destructive {
		an.DestructiveHint = new(false)
	}
	if !h.OpenWorld {
		an.OpenWorldHint = new(false)
	}
	// No title: the action's title only spells out its name ("List
	// teams" for list_teams), and clients show the name without one.
	return &mcp.Tool{
		Name:        a.Name(),
		Description: a.Description(),
		InputSchema: leanInputSchema(a),
		Annotations: an,
	}
}

// OutputSchema returns the schema of the structured content of a's results:
// the action's output schema widened (with anyOf) to admit the two other
// shapes a call can return, a dry-run plan (write actions) and an error
// envelope {"error": {...}}. It returns nil when a's output is not an
// object: such an action's results are served as text only. Tools do not
// advertise it, to keep tools/list small; REST's /v1/actions serves the
// action's output schema.
func OutputSchema(a *action.Action) json.RawMessage {
	if !hasStructured(a) {
		return nil
	}
	branches := []json.RawMessage{a.OutputSchemaJSON()}
	if a.IsWrite() {
		branches = append(branches, action.DryRunSchemaJSON)
	}
	branches = append(branches, errorSchemaJSON)
	schema, err := json.Marshal(struct {
		Type  string            `json:"type"`
		AnyOf []json.RawMessage `json:"anyOf"`
	}{"object", branches})
	if err != nil {
		panic(fmt.Sprintf("mcpserver: output schema of %s: %v", a.Name(), err))
	}
	return schema
}

// hasStructured reports whether a's results carry structured content: whether
// OutputSchema is not nil, without building it.
func hasStructured(a *action.Action) bool { return a.OutputIsObject() }

// errorSchemaJSON is the schema of the structured content of an error
// result: {"error": <the domain error>}.
var errorSchemaJSON = json.RawMessage(`{"type":"object","properties":{"error":{"type":"object","properties":{` +
	`"code":{"type":"string","enum":["invalid","ambiguous","not_found","conflict","unauthenticated","needs_reauth","forbidden","rate_limited","unavailable","internal","outcome_unknown"]},` +
	`"message":{"type":"string"},` +
	`"errors":{"type":"array","items":{"type":"object","properties":{"pointer":{"type":"string"},"code":{"type":"string"},"message":{"type":"string"},"lookup":{"type":"array","items":{"type":"string"}}},"required":["pointer","code","message"]}},` +
	`"candidates":{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"},"label":{"type":"string"},"details":{"type":"string"}},"required":["id","label"]}},` +
	`"upstream":{"type":"object","properties":{"status":{"type":"integer"},"errorCode":{"type":"string"},"message":{"type":"string"},"requestId":{"type":"string"}}},` +
	`"retryAfterSeconds":{"type":"integer","minimum":0}` +
	`},"required":["code","message"]}},"required":["error"],"additionalProperties":false}`)

// handler serves one action's tool.
type handler struct {
	reg        *action.Registry
	act        *action.Action
	resolve    Resolver
	log        *slog.Logger
	hints      *hinter
	structured bool

	// fromName is fromField(act), worked out on the first paged answer
	// (the input schema is cloned to read it).
	fromOnce sync.Once
	fromName string
}

// from returns the name of the action's paging field, as fromField.
func (h *handler) from() string {
	h.fromOnce.Do(func() { h.fromName = fromField(h.act) })
	return h.fromName
}

func (h *handler) call(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	start := time.Now()
	target, err := h.resolve(ctx, req)
	if err != nil {
		return h.fail(ctx, "", err, start), nil
	}
	var args json.RawMessage
	if req.Params != nil {
		args = req.Params.Arguments
	}
	if len(args) >= filedata.SpoolThreshold {
		// A large base64 fileData is decoded to a temporary file now, so
		// the call holds the file once (the arguments the SDK read), never
		// again as a string, a parsed tree and a struct (as REST does).
		sp := filedata.NewSpooler(0, "")
		defer func() {
			if err := sp.Close(); err != nil {
				h.log.Warn("remove spooled files", "err", err)
			}
		}()
		spooled, err := filedata.SpoolFileData(bytes.NewReader(args), sp)
		if err != nil {
			return h.fail(ctx, target.Conn.ID, err, start), nil
		}
		args, ctx = spooled, filedata.WithSpooler(ctx, sp)
	}
	out, err := h.reg.Invoke(ctx, target, h.act.Name(), args, action.InvokeOptions{})
	if errors.Is(err, action.ErrConfirmationRequired) {
		var ask *mcp.CallToolResult
		if ask, out, err = h.confirmByElicitation(ctx, req, target, args, err); ask != nil {
			return ask, nil
		}
	}
	if err != nil {
		return h.fail(ctx, target.Conn.ID, err, start), nil
	}
	return h.success(ctx, out), nil
}

// success renders an action's (or a dry run's) JSON output.
func (h *handler) success(ctx context.Context, out json.RawMessage) *mcp.CallToolResult {
	text := string(out)
	if s := summary(h.act.Name(), h.from, out); s != "" {
		text = s + "\n" + text
	}
	return successResult(ctx, text, out, h.structured)
}

// fail renders err once as a tool error result and logs it.
func (h *handler) fail(ctx context.Context, connID string, err error, start time.Time) *mcp.CallToolResult {
	if errors.Is(ctx.Err(), context.Canceled) && errors.Is(err, context.Canceled) {
		// The client cancelled the call or ended the session (stdin
		// closed, connection dropped): nobody waits for the answer, and
		// nothing failed. (A deadline that passed is a failure, below.)
		h.log.LogAttrs(ctx, slog.LevelInfo, "mcp tool call cancelled by the client",
			slog.String("tool", h.act.Name()), slog.String("connection", connID), slog.Duration("duration", time.Since(start)))
	} else {
		h.logFailure(ctx, connID, err, start)
	}
	de := deskconn.AsError(err)
	env := h.hints.envelope(de)
	res := &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: h.hints.text(de, env)}}}
	if h.structured {
		res.StructuredContent = map[string]any{"error": env}
	}
	return res
}

// logFailure logs a failed call once: internal errors at error level with
// their cause (for operators only), transient ones at warn.
func (h *handler) logFailure(ctx context.Context, connID string, err error, start time.Time) {
	de := deskconn.AsError(err)
	level := slog.LevelInfo
	switch de.Code {
	case deskconn.CodeInternal:
		level = slog.LevelError
	case deskconn.CodeUnavailable, deskconn.CodeNeedsReauth, deskconn.CodeOutcomeUnknown:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("tool", h.act.Name()), slog.String("code", string(de.Code)),
		slog.String("connection", connID), slog.Duration("duration", time.Since(start)),
	}
	if de.Upstream != nil && de.Upstream.RequestID != "" {
		attrs = append(attrs, slog.String("zoho_request_id", de.Upstream.RequestID))
	}
	if de.Code == deskconn.CodeInternal && de.Err != nil {
		// The cause of an internal error is for operators only; it never
		// reaches the client.
		attrs = append(attrs, slog.String("cause", de.Err.Error()))
	}
	h.log.LogAttrs(ctx, level, "mcp tool call failed", attrs...)
}

// summary is a one-line description of a list or dry-run output, or "".
func summary(name string, from func() string, out json.RawMessage) string {
	var v struct {
		DryRun   bool `json:"dryRun"`
		Requests []struct {
			Method string `json:"method"`
			Path   string `json:"path"`
		} `json:"requests"`
		Count    *int `json:"count"`
		From     *int `json:"from"`
		HasMore  bool `json:"hasMore"`
		NextFrom *int `json:"nextFrom"`
	}
	// segmentio skips the rows (most of out) without decoding them.
	if segjson.Unmarshal(out, &v) != nil {
		return ""
	}
	switch {
	case v.DryRun:
		reqs := make([]string, len(v.Requests))
		for i, r := range v.Requests {
			reqs[i] = r.Method + " " + r.Path
		}
		if len(reqs) == 0 {
			return fmt.Sprintf("Dry run of %s: nothing was sent, and no request would be sent.", name)
		}
		return fmt.Sprintf("Dry run of %s: nothing was sent. It would send %d request(s) to Zoho Desk: %s. Send again without dryRun to do it.",
			name, len(reqs), strings.Join(reqs, ", "))
	case v.Count != nil:
		s := fmt.Sprintf("%d result(s)", *v.Count)
		if v.From != nil {
			s += fmt.Sprintf(" from index %d", *v.From)
		}
		if v.HasMore && v.NextFrom != nil {
			s += fmt.Sprintf("; more exist: pass %s=%d for the next page", from(), *v.NextFrom)
		} else if v.HasMore {
			s += "; more exist"
		}
		return s + "."
	}
	return ""
}

// fromField is where a's input takes the index of a page's first item:
// "from" at the top level, or "params.from".
func fromField(a *action.Action) string {
	if _, ok := a.InputSchema().Properties["from"]; ok {
		return "from"
	}
	return "params.from"
}

// errNoIdentity is the cause when an HTTP call reaches a tool without the
// identity the HTTP handler attaches.
var errNoIdentity = errors.New("mcpserver: tool call without an authenticated identity")
