package mcpauth

import (
	"errors"
	"net/http"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
)

// SessionsFunc adapts a function to Sessions.
type SessionsFunc func(r *http.Request) (Session, bool, error)

// Current implements Sessions.
func (f SessionsFunc) Current(r *http.Request) (Session, bool, error) { return f(r) }

// GrantView is a grant as GET /v1/mcp-grants lists it.
type GrantView struct {
	ID           string    `json:"id"`
	ClientID     string    `json:"clientId"`
	ClientName   string    `json:"clientName"`
	ConnectionID string    `json:"connectionId"`
	Resource     string    `json:"resource"`
	ReadOnly     bool      `json:"readOnly"`
	Toolset      string    `json:"toolset,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
}

// ViewOf returns g as listed.
func ViewOf(g *store.MCPGrant) GrantView {
	return GrantView{ID: g.ID, ClientID: g.ClientID, ClientName: g.ClientName, ConnectionID: g.ConnectionID,
		Resource: g.Resource, ReadOnly: g.ReadOnly, Toolset: g.Toolset, CreatedAt: g.CreatedAt}
}

// ListGrantsHandler serves GET /v1/mcp-grants behind the API-key
// middleware: the tenant's live grants, {"grants": [...]}.
func (s *Server) ListGrantsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gs, err := s.opts.Store.ListMCPGrants(r.Context(), restapi.TenantID(r.Context()))
		if err != nil {
			restapi.WriteError(w, r, err)
			return
		}
		out := make([]GrantView, 0, len(gs))
		for _, g := range gs {
			out = append(out, ViewOf(g))
		}
		restapi.WriteJSON(w, http.StatusOK, map[string]any{"grants": out})
	})
}

// RevokeGrantHandler serves DELETE /v1/mcp-grants/{grant} behind the
// API-key middleware: it revokes the grant, and so every token issued
// under it (204). Only a credential without limits may revoke.
func (s *Server) RevokeGrantHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sc := restapi.KeyScope(r.Context()); sc.Limited() {
			restapi.WriteError(w, r, &deskconn.Error{Code: deskconn.CodeForbidden, Err: action.ErrOutOfScope,
				Message: "this credential is limited (" + sc.String() + "): it cannot revoke grants; use an API key without limits"})
			return
		}
		id := r.PathValue("grant")
		err := s.opts.Store.RevokeMCPGrant(r.Context(), restapi.TenantID(r.Context()), id, s.now())
		if errors.Is(err, store.ErrNotFound) {
			restapi.WriteError(w, r, deskconn.Errorf(deskconn.CodeNotFound, "no live grant %q: list them with GET /v1/mcp-grants", clip(id, 60)))
			return
		}
		if err != nil {
			restapi.WriteError(w, r, err)
			return
		}
		s.log.Info("mcpauth: revoked a grant", "grant", id, "tenant", restapi.TenantID(r.Context()))
		w.WriteHeader(http.StatusNoContent)
	})
}
