package action

import (
	"encoding/json"
	"errors"
	"net/url"
	"sync"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// Conn is what an action knows about the connection it runs on. The
// connection manager fills it from the stored connection; it holds no secret.
type Conn struct {
	ID   string
	Name string
	// DefaultOrgID is the organisation chosen at connect time ("" if none).
	DefaultOrgID string
	// Policies maps action name to "allow", "deny" or "confirm"; actions not
	// listed get Action.DefaultPolicy.
	Policies map[string]string
	// UserID and UserEmail identify the connection's own Zoho user (e.g. so
	// that deactivate_agent can refuse to deactivate it).
	UserID    string
	UserEmail string
}

// Target is who calls an action and where: the tenant, the API key (""
// for the CLI and the web page), the connection and its Zoho client.
type Target struct {
	Tenant   string
	APIKeyID string
	// Scope limits what the API key may do (zero for the CLI and unscoped
	// keys); a call outside it is refused as forbidden, naming the limit.
	Scope KeyScope
	Conn  Conn
	// Desk is the connection's Zoho Desk client. It may be nil for callers
	// that only dry-run or validate; handlers then fail with an internal
	// error if they try to use it.
	Desk *zohodesk.Client
}

// Call is what a handler receives besides its input. It is used by one
// invocation only; its methods are safe for concurrent use by the handler's
// goroutines.
type Call struct {
	Tenant   string
	APIKeyID string
	Conn     Conn
	Desk     *zohodesk.Client
	// DryRun is true when the caller asked for a dry run: the handler may
	// read from Zoho to resolve its input but must not write; it returns
	// call.Plan(requests...) instead of sending.
	DryRun bool

	mu        sync.Mutex
	requestID string
	detail    string
	writes    []store.WriteMark
}

// OrgID returns the organisation to use: in (the input's orgId) if set, else
// the connection's default organisation. Without either it returns an
// invalid error on /orgId that says how to find one.
func (c *Call) OrgID(in string) (string, error) {
	if in != "" {
		return in, nil
	}
	if c.Conn.DefaultOrgID != "" {
		return c.Conn.DefaultOrgID, nil
	}
	return "", deskconn.Invalid("orgId is required: this connection has no default organisation",
		deskconn.FieldError{Pointer: "/orgId", Code: problemMissing,
			Message: "is required because the connection has no default organisation; call list_organizations to find the organisation id"})
}

// SetRequestID records the Zoho request id of the (last) write the handler
// sent, for the audit log. Errors from zohodesk carry their own.
func (c *Call) SetRequestID(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requestID = id
}

// SetDetail records a short, safe summary of what was done for the audit log
// ("ticket 1234 created"). Never put input values, secrets or file contents
// in it.
func (c *Call) SetDetail(detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.detail = detail
}

// Created records that the handler created an object in Zoho Desk: kind
// ("ticket", "thread", "comment", "contact" or "account"), the id Zoho
// returned and the modifiedTime it answered with ("" when none). Updated
// records a change of an existing object, with the modifiedTime Zoho
// answered the write with. When the action succeeds, the registry stores
// them as write marks with its audit record (store.WriteMark), and the
// events Zoho reports for exactly these changes name the action as their
// actor.
func (c *Call) Created(kind, id, modifiedTime string) {
	c.wrote(store.WriteKey(kind, id, ""))
	if modifiedTime != "" {
		c.wrote(store.WriteKey(kind, id, modifiedTime))
	}
}

// Updated: see Created. Without a modifiedTime it records nothing: a
// change cannot be told from a later one without it.
func (c *Call) Updated(kind, id, modifiedTime string) {
	if id != "" && modifiedTime != "" {
		c.wrote(store.WriteKey(kind, id, modifiedTime))
	}
}

func (c *Call) wrote(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, store.WriteMark{Key: key})
}

func (c *Call) auditInfo() (requestID, detail string, writes []store.WriteMark) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requestID, c.detail, c.writes
}

// PlannedRequest is one Zoho request a write would send, as a dry run
// reports it. Path is relative to the Desk API base ("/tickets"). Header
// holds only non-secret headers (orgId); never an Authorization header.
// Body is the JSON body, or for a multipart upload a description of the
// parts (file name and size, never the file contents).
type PlannedRequest struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Query  url.Values        `json:"query,omitempty"`
	Header map[string]string `json:"header,omitempty"`
	Body   any               `json:"body,omitempty"`
}

// DryRunResult is what Invoke returns for a dry run, in place of the
// action's output.
type DryRunResult struct {
	DryRun   bool             `json:"dryRun"`
	Action   string           `json:"action"`
	Requests []PlannedRequest `json:"requests"`
}

// planned is the error a handler returns in dry-run mode.
type planned struct{ requests []PlannedRequest }

func (p *planned) Error() string { return "action: dry run planned" }

// Plan returns the error a write handler returns in dry-run mode, carrying
// the Zoho requests it would have sent. Invoke turns it into a DryRunResult:
//
//	req := action.PlannedRequest{Method: "POST", Path: "/tickets", Body: body}
//	if call.DryRun {
//		return Out{}, call.Plan(req)
//	}
//
// Calling Plan outside a dry run returns an internal error, so that a
// handler that forgets to check DryRun fails loudly instead of reporting a
// plan for a write it did not make.
func (c *Call) Plan(reqs ...PlannedRequest) error {
	if !c.DryRun {
		return errors.New("action: Plan called outside a dry run")
	}
	return &planned{requests: reqs}
}

// DryRunSchemaJSON is the JSON Schema of DryRunResult.
var DryRunSchemaJSON = json.RawMessage(`{"type":"object","properties":{` +
	`"dryRun":{"type":"boolean","const":true},"action":{"type":"string"},` +
	`"requests":{"type":"array","items":{"type":"object","properties":{` +
	`"method":{"type":"string"},"path":{"type":"string"},` +
	`"query":{"type":"object","additionalProperties":{"type":"array","items":{"type":"string"}}},` +
	`"header":{"type":"object","additionalProperties":{"type":"string"}},"body":{}},` +
	`"required":["method","path"]}}},"required":["dryRun","action","requests"]}`)
