package restapi

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
)

// RouteAudit is the activity log route (mounted by New).
const RouteAudit = "GET /v1/audit"

// AuditView is one audit record as the REST API shows it: who (API key id,
// "" for the CLI or the web page), which connection and action, the
// outcome, a short safe summary (never a secret or file contents) and
// Zoho's request id.
type AuditView struct {
	ID             int64     `json:"id"`
	Time           time.Time `json:"time"`
	APIKeyID       string    `json:"apiKeyId"`
	ConnectionID   string    `json:"connectionId"`
	ConnectionName string    `json:"connection,omitempty"`
	Action         string    `json:"action"`
	Outcome        string    `json:"outcome"`
	ZohoRequestID  string    `json:"zohoRequestId,omitempty"`
	DurationMS     float64   `json:"durationMs"`
	Detail         string    `json:"detail,omitempty"`
}

// AuditPage is the body of GET /v1/audit: records newest first, and the
// cursor of the next (older) page, "" on the last one.
type AuditPage struct {
	Records []AuditView `json:"records"`
	Next    string      `json:"next,omitempty"`
}

const (
	auditDefaultLimit = 100
	auditMaxLimit     = 1000
	ndjson            = "application/x-ndjson"
)

// NewAuditView returns the view of r; names maps connection ids to names.
func NewAuditView(r *store.AuditRecord, names map[string]string) AuditView {
	return AuditView{ID: r.ID, Time: r.Time, APIKeyID: r.APIKeyID, ConnectionID: r.ConnectionID, ConnectionName: names[r.ConnectionID],
		Action: r.Action, Outcome: r.Outcome, ZohoRequestID: r.ZohoRequestID,
		DurationMS: float64(r.Duration.Microseconds()) / 1000, Detail: r.Detail}
}

// apiAudit serves GET /v1/audit: the tenant's audit log, newest first,
// filtered by connection (id or name), action, outcome and key, paged by
// limit and before. With Accept: application/x-ndjson or format=jsonl it
// exports every matching record (from before on) as JSON lines instead.
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tenantID := TenantID(ctx)
	q := r.URL.Query()
	var problems []deskconn.FieldError
	f := store.AuditFilter{TenantID: tenantID, Action: q.Get("action"), Outcome: q.Get("outcome"), APIKeyID: q.Get("key"), Limit: auditDefaultLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > auditMaxLimit {
			problems = append(problems, deskconn.FieldError{Pointer: "/limit", Code: "invalid", Message: "give a whole number from 1 to 1000"})
		}
		f.Limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			problems = append(problems, deskconn.FieldError{Pointer: "/before", Code: "invalid", Message: "give the next cursor of the previous page"})
		}
		f.BeforeID = n
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "jsonl" {
		problems = append(problems, deskconn.FieldError{Pointer: "/format", Code: "invalid", Message: "use json or jsonl"})
	}
	if len(problems) > 0 {
		WriteError(w, r, deskconn.Invalid("the audit query is not valid", problems...))
		return
	}
	conns, err := s.store.ListConnections(ctx, tenantID)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	names := make(map[string]string, len(conns))
	for _, c := range conns {
		names[c.ID] = c.Name
	}
	if v := q.Get("connection"); v != "" {
		f.ConnectionID = v
		for _, c := range conns {
			if c.Name == v {
				f.ConnectionID = c.ID
			}
		}
	}
	// A key limited to one connection sees that connection's records only.
	if sc := KeyScope(ctx); sc.ConnectionID != "" {
		if f.ConnectionID != "" && f.ConnectionID != sc.ConnectionID {
			WriteError(w, r, sc.CheckConnection(f.ConnectionID, q.Get("connection")))
			return
		}
		f.ConnectionID = sc.ConnectionID
	}
	if format == "jsonl" || (format == "" && acceptsNDJSON(r)) {
		s.exportAudit(w, r, f, names)
		return
	}
	recs, err := s.store.ListAudit(ctx, f)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	page := AuditPage{Records: make([]AuditView, 0, len(recs))}
	for _, rec := range recs {
		page.Records = append(page.Records, NewAuditView(rec, names))
	}
	if len(recs) == f.Limit {
		page.Next = strconv.FormatInt(recs[len(recs)-1].ID, 10)
	}
	WriteJSON(w, http.StatusOK, page)
}

// exportAudit writes every record matching f, newest first, one JSON
// object a line, reading the store a page at a time.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, f store.AuditFilter, names map[string]string) {
	w.Header().Set("Content-Type", ndjson)
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	f.Limit = auditMaxLimit
	wrote := false
	for {
		recs, err := s.store.ListAudit(r.Context(), f)
		if err != nil {
			if !wrote {
				w.Header().Del("Content-Type")
				WriteError(w, r, err)
				return
			}
			// Mid-stream the status is sent: end the body short, and log.
			s.log.Error("audit export cut short", "request_id", RequestID(r.Context()), "err", err)
			return
		}
		for _, rec := range recs {
			if err := enc.Encode(NewAuditView(rec, names)); err != nil {
				return // the client went away
			}
			wrote = true
		}
		if len(recs) < f.Limit {
			return
		}
		f.BeforeID = recs[len(recs)-1].ID
	}
}

// acceptsNDJSON reports whether the Accept header asks for JSON lines.
func acceptsNDJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == ndjson {
			return true
		}
	}
	return false
}
