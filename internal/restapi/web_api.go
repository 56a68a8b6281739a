package restapi

import (
	"bufio"
	"io"
	"net/http"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/usage"
)

// ConnectionView is the JSON form of a connection. It never holds a secret.
type ConnectionView struct {
	ID             string                 `json:"id"`
	Name           string                 `json:"name"`
	Status         string                 `json:"status"`
	ClientID       string                 `json:"clientId"`
	Scopes         []string               `json:"scopes"`
	RedirectURL    string                 `json:"redirectUrl"`
	Location       string                 `json:"location,omitempty"`
	AccountsServer string                 `json:"accountsServer,omitempty"`
	DeskBaseURL    string                 `json:"deskBaseUrl,omitempty"`
	OrgID          string                 `json:"orgId,omitempty"`
	OrgName        string                 `json:"orgName,omitempty"`
	OrgChoices     []connection.OrgChoice `json:"orgChoices,omitempty"`
	User           *UserView              `json:"user,omitempty"`
	LastError      string                 `json:"lastError,omitempty"`
	Events         *EventSourceView       `json:"events,omitempty"` // how its events come in; absent until enabled
	// Health is the connection's health: token state and next refresh,
	// last error, the organisation's credits today, calls and errors in
	// the last hour. Only GET /v1/connections/{connection} includes it.
	Health    *usage.Health `json:"health,omitempty"`
	CreatedAt time.Time     `json:"createdAt"`
	UpdatedAt time.Time     `json:"updatedAt"`
}

// UserView is the Zoho user a connection's token belongs to.
type UserView struct {
	ID    string `json:"id"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

func (s *Server) view(c *store.Connection) ConnectionView {
	v := ConnectionView{
		ID: c.ID, Name: c.Name, Status: string(c.Status), ClientID: c.ClientID, Scopes: c.Scopes,
		RedirectURL: s.opts.Manager.CallbackURL(), Location: c.Location, AccountsServer: c.AccountsServer,
		DeskBaseURL: c.DeskBaseURL, OrgID: c.OrgID, OrgName: c.OrgName, LastError: c.LastError,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if c.Status == store.StatusChooseOrg {
		v.OrgChoices = connection.OrgChoices(c)
	}
	if c.UserID != "" {
		v.User = &UserView{ID: c.UserID, Email: c.UserEmail, Name: c.UserName}
	}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	return v
}

// createRequest is the body of POST /v1/connections.
type createRequest struct {
	Name         string   `json:"name"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	Scopes       []string `json:"scopes"`
}

func (s *Server) apiCreate(w http.ResponseWriter, r *http.Request) {
	if err := requireFullKey(r.Context(), "create connections"); err != nil {
		WriteError(w, r, err)
		return
	}
	var req createRequest
	if err := DecodeJSON(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	c, err := s.opts.Manager.Create(r.Context(), TenantID(r.Context()), connection.CreateInput{
		Name: req.Name, ClientID: req.ClientID, ClientSecret: deskconn.Secret(req.ClientSecret), Scopes: req.Scopes,
	})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/connections/"+c.Name)
	WriteJSON(w, http.StatusCreated, s.view(c))
}

func (s *Server) apiList(w http.ResponseWriter, r *http.Request) {
	cs, err := s.opts.Manager.List(r.Context(), TenantID(r.Context()))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := make([]ConnectionView, 0, len(cs))
	sc := KeyScope(r.Context())
	for _, c := range cs {
		if sc.CheckConnection(c.ID, c.Name) != nil {
			continue // a key limited to one connection sees only it
		}
		out = append(out, s.withEvents(r.Context(), s.view(c)))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"connections": out})
}

func (s *Server) apiGet(w http.ResponseWriter, r *http.Request) {
	c, err := s.opts.Manager.Get(r.Context(), TenantID(r.Context()), r.PathValue("connection"))
	if err == nil {
		err = KeyScope(r.Context()).CheckConnection(c.ID, c.Name)
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	v := s.withEvents(r.Context(), s.view(c))
	h := s.Health(r.Context(), c)
	v.Health = &h
	WriteJSON(w, http.StatusOK, v)
}

func (s *Server) apiDelete(w http.ResponseWriter, r *http.Request) {
	if err := requireFullKey(r.Context(), "delete connections"); err != nil {
		WriteError(w, r, err)
		return
	}
	if err := s.opts.Manager.Delete(r.Context(), TenantID(r.Context()), r.PathValue("connection")); err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiConnect(w http.ResponseWriter, r *http.Request) {
	if err := requireFullKey(r.Context(), "connect connections"); err != nil {
		WriteError(w, r, err)
		return
	}
	if err := s.connects.allow(TenantID(r.Context()), s.opts.Now()); err != nil {
		WriteError(w, r, err)
		return
	}
	// The body is optional: a body-less POST is a plain (re)connect.
	var req struct {
		// Rebind lets the consent bind the connection to another
		// organisation than the one it is bound to (audited).
		Rebind bool `json:"rebind"`
	}
	if hasBody(r) {
		if err := DecodeJSON(w, r, s.opts.MaxBodyBytes, &req); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	authorize := s.opts.Manager.AuthorizeURL
	if req.Rebind {
		authorize = s.opts.Manager.AuthorizeURLRebind
	}
	u, err := authorize(r.Context(), TenantID(r.Context()), r.PathValue("connection"), "")
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"authorizeUrl": u, "redirectUrl": s.opts.Manager.CallbackURL()})
}

func (s *Server) apiChooseOrg(w http.ResponseWriter, r *http.Request) {
	if err := requireFullKey(r.Context(), "choose a connection's organisation"); err != nil {
		WriteError(w, r, err)
		return
	}
	var req struct {
		OrgID string `json:"orgId"`
	}
	if err := DecodeJSON(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	c, err := s.opts.Manager.ChooseOrg(r.Context(), TenantID(r.Context()), r.PathValue("connection"), req.OrgID)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, s.view(c))
}

// hasBody reports whether r carries a body of at least one byte, also
// when its length is not declared (chunked); the byte stays readable.
func hasBody(r *http.Request) bool {
	if r.ContentLength >= 0 || r.Body == nil {
		return r.ContentLength > 0
	}
	br := bufio.NewReader(r.Body)
	if _, err := br.Peek(1); err != nil {
		return false
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	return true
}
