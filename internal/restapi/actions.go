package restapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/filedata"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// DefaultMaxActionBodyBytes caps the body of an action call: what the
// largest valid input needs. File uploads travel inside the JSON as base64
// (or as URLs), so the cap is the largest attachment deskconn sends
// (egress.DefaultMaxBytes, 20 MiB: Zoho's exact limit is a [GAP] in the API
// reference, 20 MB being common in Zoho products) in base64, wrapped at 76
// characters a line with CRLF as MIME encoders do (about 27.4 MiB), plus
// 1 MiB for the rest of the input. The base64 is decoded to a temporary
// file as it streams in (filedata.SpoolJSON), so the cap bounds disk and time, not
// memory.
const DefaultMaxActionBodyBytes = maxBase64Bytes + 1<<20

// maxBase64Bytes is the length of egress.DefaultMaxBytes in base64 wrapped
// at 76 characters a line with CRLF.
const maxBase64Bytes = (egress.DefaultMaxBytes + 2) / 3 * 4 * 78 / 76

// IdempotencyKeyHeader is the request header that carries an idempotency
// key for a write action (same meaning as the input's "idempotencyKey").
const IdempotencyKeyHeader = "Idempotency-Key"

// The routes MountActions registers.
const (
	RouteListActions = "GET /v1/actions"
	RouteGetAction   = "GET /v1/actions/{action}"
	RouteRunAction   = "POST /v1/connections/{connection}/actions/{action}"
)

// ActionsOptions configure the action endpoints.
type ActionsOptions struct {
	// Registry holds the actions; required.
	Registry *action.Registry
	// MaxBodyBytes caps an action call's body; default
	// DefaultMaxActionBodyBytes. A larger body is refused with 413.
	MaxBodyBytes int64
	// MaxFileBytes caps each base64 file spooled from a body (default
	// egress.DefaultMaxBytes); the action's own cap applies too. Beyond it
	// the file's bytes are counted, not kept, and the action reports it
	// as too large on its fileData.
	MaxFileBytes int64
	// SpoolDir is where base64 files are decoded to while a body streams
	// in ("": os.TempDir()). Each file lives as long as its request.
	SpoolDir string
}

// MountActions registers, behind the API-key middleware:
//
//   - GET /v1/actions: the catalogue (ActionList);
//   - GET /v1/actions/{action}: one ActionView, or a not_found problem;
//   - POST /v1/connections/{connection}/actions/{action}: runs the action on
//     the caller's connection ({connection} is its id or name) with the
//     body as the action's JSON input and the optional Idempotency-Key
//     header. It answers 200 with the action's output (or, for "dryRun":
//     true, an action.DryRunResult) as application/json, or a problem
//     (see ActionStatus). Another tenant's connection is not_found, exactly
//     like a missing one;
//   - GET and PUT /v1/connections/{connection}/policies: the policy each
//     action runs under on the connection (PolicyList), and replacing the
//     connection's policies (PolicyUpdate).
//
// Call it before the server starts serving.
func (s *Server) MountActions(opts ActionsOptions) error {
	if opts.Registry == nil {
		return errors.New("mount actions: Registry is required")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxActionBodyBytes
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = egress.DefaultMaxBytes
	}
	s.actions = opts.Registry.List()
	h := &actionHandlers{s: s, reg: opts.Registry, max: opts.MaxBodyBytes, maxFile: opts.MaxFileBytes, spoolDir: opts.SpoolDir}
	s.Mount(RouteListActions, http.HandlerFunc(h.list))
	s.Mount(RouteGetAction, http.HandlerFunc(h.get))
	s.Mount(RouteRunAction, http.HandlerFunc(h.run))
	s.Mount(RouteGetPolicies, http.HandlerFunc(h.getPolicies))
	s.Mount(RoutePutPolicies, http.HandlerFunc(h.putPolicies))
	return nil
}

// ActionHints is the JSON form of action.Hints (the MCP tool annotations).
type ActionHints struct {
	ReadOnly    bool `json:"readOnly"`
	Destructive bool `json:"destructive"`
	Idempotent  bool `json:"idempotent"`
	OpenWorld   bool `json:"openWorld"`
}

// ActionView describes one action to REST clients.
type ActionView struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// Kind is "read", "write" or "destructive" (ActionKind).
	Kind string `json:"kind"`
	// Write: the action changes data, accepts dryRun and idempotencyKey,
	// and is audited.
	Write bool `json:"write"`
	// DefaultPolicy is the policy when the connection sets none: "allow",
	// or "confirm" for destructive actions.
	DefaultPolicy string            `json:"defaultPolicy"`
	Hints         ActionHints       `json:"hints"`
	InputSchema   json.RawMessage   `json:"inputSchema"`
	OutputSchema  json.RawMessage   `json:"outputSchema"`
	Examples      []json.RawMessage `json:"examples,omitempty"`
}

// ActionList is the body of GET /v1/actions.
type ActionList struct {
	Actions []ActionView `json:"actions"`
}

// ActionKind returns "destructive", "write" or "read" for a.
func ActionKind(a *action.Action) string {
	switch {
	case a.IsDestructive():
		return "destructive"
	case a.IsWrite():
		return "write"
	default:
		return "read"
	}
}

// NewActionView returns the REST description of a; its schemas are the
// registry's, byte for byte.
func NewActionView(a *action.Action) ActionView {
	h := a.Hints()
	return ActionView{
		Name: a.Name(), Title: a.Title(), Description: a.Description(),
		Kind: ActionKind(a), Write: a.IsWrite(), DefaultPolicy: string(a.DefaultPolicy()),
		Hints:       ActionHints{ReadOnly: h.ReadOnly, Destructive: h.Destructive, Idempotent: h.Idempotent, OpenWorld: h.OpenWorld},
		InputSchema: a.InputSchemaJSON(), OutputSchema: a.OutputSchemaJSON(), Examples: a.Examples(),
	}
}

// ActionConn returns what an action knows about the stored connection c:
// no secret, only its identity, default organisation, policies and user.
func ActionConn(c *store.Connection) action.Conn {
	return action.Conn{
		ID: c.ID, Name: c.Name, DefaultOrgID: c.OrgID, Policies: c.Policies,
		UserID: c.UserID, UserEmail: c.UserEmail,
	}
}

// ActionTarget returns the target of an action call by the given tenant and
// API key (apiKeyID is "" for the CLI) on connection c with its Desk client.
func ActionTarget(tenantID, apiKeyID string, c *store.Connection, desk *zohodesk.Client) action.Target {
	return action.Target{Tenant: tenantID, APIKeyID: apiKeyID, Conn: ActionConn(c), Desk: desk}
}

// ActionStatus is the HTTP status of a domain error from an action call.
// It is StatusOf with one difference: input that is well-formed JSON but
// breaks the action's schema or rules (invalid) is 422 Unprocessable
// Content, while a body that is not JSON at all is 400 (the handler
// detects it before the registry runs). So, for action calls: invalid 422
// (malformed JSON 400), ambiguous 409 (the request is fine but matches
// several objects: pick one of the candidates), not_found 404, conflict
// 409, unauthenticated 401, needs_reauth 424 (the caller is authenticated
// but the connection's Zoho grant is dead: reconnect it), forbidden 403,
// rate_limited 429 with Retry-After, unavailable 503, internal 500.
func ActionStatus(code deskconn.Code) int {
	if code == deskconn.CodeInvalid {
		return http.StatusUnprocessableEntity
	}
	return StatusOf(code)
}

type actionHandlers struct {
	s        *Server
	reg      *action.Registry
	max      int64
	maxFile  int64
	spoolDir string
}

func (h *actionHandlers) list(w http.ResponseWriter, r *http.Request) {
	acts := h.reg.List()
	out := ActionList{Actions: make([]ActionView, 0, len(acts))}
	for _, a := range acts {
		out.Actions = append(out.Actions, NewActionView(a))
	}
	WriteJSON(w, http.StatusOK, out)
}

func (h *actionHandlers) get(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("action")
	a := h.reg.Lookup(name)
	if a == nil {
		WriteError(w, r, deskconn.Errorf(deskconn.CodeNotFound, "there is no action named %q; GET /v1/actions lists them", name))
		return
	}
	WriteJSON(w, http.StatusOK, NewActionView(a))
}

func (h *actionHandlers) run(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("action")
	// The action, then the connection, then the body: nothing is read for a
	// call that cannot run.
	if h.reg.Lookup(name) == nil {
		h.fail(w, r, name, "", deskconn.Errorf(deskconn.CodeNotFound, "there is no action named %q; GET /v1/actions lists them", name))
		return
	}
	tenantID := TenantID(ctx)
	desk, conn, err := h.s.opts.Manager.Client(ctx, tenantID, r.PathValue("connection"))
	if err != nil {
		h.fail(w, r, name, "", err)
		return
	}
	// Large base64 files are decoded to temporary files as the body
	// streams in; they are removed when the call is over.
	sp := filedata.NewSpooler(h.maxFile, h.spoolDir)
	defer func() {
		if err := sp.Close(); err != nil {
			h.s.log.Warn("remove spooled files", "request_id", RequestID(ctx), "err", err)
		}
	}()
	raw, err := readActionBody(w, r, h.max, sp)
	if err != nil {
		h.fail(w, r, name, conn.ID, err)
		return
	}
	ctx = filedata.WithSpooler(ctx, sp)
	t := ActionTarget(tenantID, APIKeyID(ctx), conn, desk)
	t.Scope = KeyScope(ctx)
	out, err := h.reg.Invoke(ctx, t, name, raw, action.InvokeOptions{IdempotencyKey: r.Header.Get(IdempotencyKeyHeader)})
	if err != nil {
		h.fail(w, r, name, conn.ID, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// fail renders err once: 400 for a malformed body, 408 for one that
// stalled, 413 for one too large, 415 for another media type, otherwise
// the problem of its domain code (ActionStatus). It logs internal errors
// with their cause, the only place they are logged.
func (h *actionHandlers) fail(w http.ResponseWriter, r *http.Request, name, connID string, err error) {
	var bad *bodyError
	if errors.As(err, &bad) {
		writeStatusProblem(w, r, bad.status, bad.err)
		return
	}
	de := deskconn.AsError(err)
	if de.Code == deskconn.CodeInternal {
		h.s.log.Error("action failed", "request_id", RequestID(r.Context()), "action", name, "connection", connID, "err", err)
	}
	writeStatusProblem(w, r, ActionStatus(de.Code), de)
}

// bodyError is a body that cannot be an action input: not JSON (400),
// stalled (408), too large (413) or of another media type (415).
type bodyError struct {
	status int
	err    *deskconn.Error
}

func (e *bodyError) Error() string { return e.err.Error() }

// readActionBody reads the body once, through a cap of max bytes, and
// returns it as one JSON value with every large base64 fileData value
// spooled to sp as it streams in (see filedata.SpoolJSON), checking that the body is
// exactly one JSON value. An empty body is the empty input {}. Offsets in
// its syntax errors are offsets in the body as sent.
func readActionBody(w http.ResponseWriter, r *http.Request, max int64, sp *filedata.Spooler) (json.RawMessage, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &bodyError{http.StatusUnsupportedMediaType, deskconn.Errorf(deskconn.CodeInvalid, "send the action input as JSON with the header Content-Type: application/json")}
		}
	}
	var body []byte
	var sh filedata.Shifts
	err := error(&http.MaxBytesError{Limit: max}) // a declared length over the cap: refused unread
	if r.ContentLength <= max {
		body, sh, err = filedata.SpoolJSON(http.MaxBytesReader(w, r.Body, max), sp)
	}
	if err == nil {
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 {
			return json.RawMessage("{}"), nil
		}
		if json.Valid(trimmed) { // exactly one value, white space around it
			return json.RawMessage(trimmed), nil
		}
		err = describeInvalidJSON(body, sh)
	}
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var jse *filedata.SyntaxError
	switch {
	case errors.As(err, &mbe):
		return nil, &bodyError{http.StatusRequestEntityTooLarge, deskconn.Errorf(deskconn.CodeInvalid,
			"the request body is larger than %d bytes; send large files as an http(s) URL in fileData instead of base64", max)}
	case errors.As(err, &se):
		return nil, &bodyError{http.StatusBadRequest, deskconn.Errorf(deskconn.CodeInvalid,
			"the body is not valid JSON (%s, at byte %d); send one JSON object", se.Error(), se.Offset)}
	case errors.As(err, &jse):
		return nil, &bodyError{http.StatusBadRequest, deskconn.Errorf(deskconn.CodeInvalid,
			"the body is not valid JSON (%s, at byte %d); send one JSON object", jse.Error(), jse.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, &bodyError{http.StatusBadRequest, deskconn.Errorf(deskconn.CodeInvalid,
			"the body is not valid JSON: it ends in the middle of a value; send one JSON object")}
	case isBodyTimeout(err):
		return nil, &bodyError{http.StatusRequestTimeout, deskconn.Errorf(deskconn.CodeInvalid,
			"the request body stalled: nothing arrived for a while, so the server stopped waiting; send the body without pauses")}
	case errors.Is(err, errTrailing):
		return nil, &bodyError{http.StatusBadRequest, deskconn.Errorf(deskconn.CodeInvalid,
			"the body has data after the JSON value (%s); send exactly one JSON object", err.Error())}
	default:
		// The connection broke or the request was cancelled while the
		// body streamed in, or a spooled file could not be written.
		return nil, fmt.Errorf("read action body: %w", err)
	}
}

var errTrailing = errors.New("data after the JSON value")

// trailingError is errTrailing with the offset where the extra data starts.
type trailingError struct{ offset int64 }

func (e *trailingError) Error() string        { return fmt.Sprintf("at byte %d", e.offset) }
func (e *trailingError) Is(target error) bool { return target == errTrailing }

// describeInvalidJSON returns the error a streaming decoder gives for body,
// known not to be exactly one JSON value: a *json.SyntaxError,
// io.ErrUnexpectedEOF, or a *trailingError, with offsets mapped to the
// body as sent through sh.
func describeInvalidJSON(body []byte, sh filedata.Shifts) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			se.Offset = sh.BodyOffset(se.Offset)
		}
		return err
	}
	// The first value decoded but the whole body is not valid JSON, so
	// something follows it.
	return &trailingError{offset: sh.BodyOffset(dec.InputOffset())}
}

// writeStatusProblem renders de as WriteError does, with the given status
// in place of StatusOf's. Only codes without a retry-after are re-mapped
// (invalid to 400, 413, 415 or 422), so it sets no Retry-After.
func writeStatusProblem(w http.ResponseWriter, r *http.Request, status int, de *deskconn.Error) {
	if status == StatusOf(de.Code) {
		WriteError(w, r, de)
		return
	}
	p := Problem{
		Type:       "https://deskconn.dev/problems/" + string(de.Code),
		Title:      http.StatusText(status),
		Status:     status,
		Detail:     de.Message,
		Code:       de.Code,
		Errors:     de.Fields,
		Candidates: de.Candidates,
		Upstream:   de.Upstream,
		RequestID:  RequestID(r.Context()),
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}
