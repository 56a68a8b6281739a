package mcpauth

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"

	"github.com/deskconn/deskconn/internal/htmlpage"
	"github.com/deskconn/deskconn/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").ParseFS(templateFS, "templates/*.html"))

// maxFormBytes caps the consent form.
const maxFormBytes = 64 << 10

// authRequest is a checked authorization request.
type authRequest struct {
	client        *client
	redirectURI   string
	state         string
	codeChallenge string
	resource      string // canonical, "" when the client sent none
	resourceConn  string // the connection segment of resource
	scope         string
}

// authError is a refused authorization request. With redirect set it goes
// back to the client (RFC 6749 §4.1.2.1); without, the client or its
// redirect URI cannot be trusted and the person sees a page.
type authError struct {
	redirect    bool
	code, desc  string
	title, todo string
}

func (e *authError) Error() string { return e.code + ": " + e.desc }

// authParams are the request parameters the consent form carries over.
var authParams = []string{"response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "resource", "scope"}

// parseAuthRequest checks an authorization request's parameters.
func (s *Server) parseAuthRequest(ctx context.Context, q url.Values) (*authRequest, error) {
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			return nil, &authError{code: "invalid_request", desc: k + " is repeated", title: "This sign-in request is malformed",
				todo: "Start the sign-in again from your MCP client; if it keeps failing, report it to the client's vendor."}
		}
	}
	c, err := s.resolveClient(ctx, q.Get("client_id"))
	if err != nil {
		return nil, &authError{code: "invalid_client", desc: err.Error(), title: "This MCP client is not known",
			todo: "Start the sign-in again from your MCP client; it must register (or publish a metadata document) first."}
	}
	ru := q.Get("redirect_uri")
	if ru == "" || !c.redirectAllowed(ru) {
		return nil, &authError{code: "invalid_request", desc: "redirect_uri is missing or is not one of the client's registered redirect URIs (compared exactly)",
			title: "This sign-in request is not safe to follow", todo: "Start the sign-in again from your MCP client. Its redirect URI does not match what it registered."}
	}
	ar := &authRequest{client: c, redirectURI: ru, state: q.Get("state"), scope: q.Get("scope")}
	for _, k := range authParams {
		if len(q[k]) > 1 {
			return ar, &authError{redirect: true, code: "invalid_request", desc: k + " is repeated"}
		}
	}
	if rt := q.Get("response_type"); rt != "code" {
		return ar, &authError{redirect: true, code: "unsupported_response_type", desc: "response_type must be code"}
	}
	if m := q.Get("code_challenge_method"); m != "S256" {
		return ar, &authError{redirect: true, code: "invalid_request", desc: "PKCE is required with code_challenge_method=S256 (plain or none is refused)"}
	}
	ar.codeChallenge = q.Get("code_challenge")
	if len(ar.codeChallenge) != 43 || !validPKCE(ar.codeChallenge) {
		return ar, &authError{redirect: true, code: "invalid_request", desc: "code_challenge must be the 43-character base64url S256 hash of the code verifier"}
	}
	if res := q.Get("resource"); res != "" {
		seg, canon, err := ParseResource(s.opts.BaseURL, res)
		if err != nil {
			return ar, &authError{redirect: true, code: "invalid_target", desc: err.Error()}
		}
		ar.resource, ar.resourceConn = canon, seg
	}
	return ar, nil
}

// errorRedirect sends the person back to the client with an error.
func (s *Server) errorRedirect(w http.ResponseWriter, r *http.Request, ar *authRequest, code, desc string) {
	v := url.Values{"error": {code}, "error_description": {desc}}
	s.redirect(w, r, ar, v)
}

func (s *Server) redirect(w http.ResponseWriter, r *http.Request, ar *authRequest, v url.Values) {
	u, _ := url.Parse(ar.redirectURI) // checked at registration
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	q.Set("iss", s.Issuer())
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func (s *Server) refuseAuth(w http.ResponseWriter, r *http.Request, ar *authRequest, err error) {
	var ae *authError
	if !errors.As(err, &ae) {
		s.log.Error("mcpauth: authorize", "err", err)
		s.renderError(w, http.StatusInternalServerError, "Something went wrong", "deskconn could not complete this step.", "Try again in a moment.")
		return
	}
	if ae.redirect && ar != nil {
		s.errorRedirect(w, r, ar, ae.code, ae.desc)
		return
	}
	s.renderError(w, http.StatusBadRequest, ae.title, ae.desc, ae.todo)
}

type hiddenParam struct{ Name, Value string }

type consentData struct {
	ClientName, ClientID, RedirectHost string
	Metadata                           bool
	CSRF                               string
	Params                             []hiddenParam
	Fixed                              string
	Connections                        []*store.Connection
	Toolsets                           []string
}

type signinData struct {
	ClientName, SignIn, Retry string
}

type errorData struct{ Title, What, Todo string }

// handleAuthorize shows the consent page (or how to sign in).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ar, err := s.parseAuthRequest(r.Context(), q)
	if err != nil {
		s.refuseAuth(w, r, ar, err)
		return
	}
	sess, ok, err := s.opts.Sessions.Current(r)
	if err != nil {
		s.refuseAuth(w, r, nil, err)
		return
	}
	if !ok {
		s.render(w, http.StatusOK, "signin.html", signinData{ClientName: ar.client.Name, SignIn: s.opts.SignIn, Retry: r.URL.RequestURI()})
		return
	}
	conns, fixed, err := s.connectionsFor(r.Context(), sess.TenantID, ar)
	if err != nil {
		s.refuseAuth(w, r, ar, err)
		return
	}
	d := consentData{ClientName: ar.client.Name, ClientID: ar.client.ID, Metadata: ar.client.Metadata, CSRF: sess.CSRF,
		Connections: conns, Toolsets: s.opts.Toolsets}
	if u, err := url.Parse(ar.redirectURI); err == nil {
		d.RedirectHost = u.Host
	}
	if fixed != nil {
		d.Fixed = fixed.Name
	}
	for _, k := range authParams {
		if v := q.Get(k); v != "" {
			d.Params = append(d.Params, hiddenParam{k, v})
		}
	}
	s.render(w, http.StatusOK, "consent.html", d)
}

// connectionsFor returns the tenant's connections the person may pick,
// and the one the request's resource fixes (nil when none).
func (s *Server) connectionsFor(ctx context.Context, tenantID string, ar *authRequest) ([]*store.Connection, *store.Connection, error) {
	if ar.resourceConn != "" {
		c, err := s.findConnection(ctx, tenantID, ar.resourceConn)
		if err != nil {
			return nil, nil, err
		}
		return []*store.Connection{c}, c, nil
	}
	conns, err := s.opts.Store.ListConnections(ctx, tenantID)
	if err != nil {
		return nil, nil, fmt.Errorf("list connections: %w", err)
	}
	if len(conns) == 0 {
		return nil, nil, &authError{code: "access_denied", desc: "no connection to a Zoho Desk yet", title: "No Zoho Desk connection yet",
			todo: "Add and connect a Zoho Desk on the connections page, then start the sign-in again from your MCP client."}
	}
	return conns, nil, nil
}

// findConnection finds a tenant's connection by name, then by id; another
// tenant's is not found.
func (s *Server) findConnection(ctx context.Context, tenantID, nameOrID string) (*store.Connection, error) {
	c, err := s.opts.Store.GetConnectionByName(ctx, tenantID, nameOrID)
	if errors.Is(err, store.ErrNotFound) {
		c, err = s.opts.Store.GetConnection(ctx, tenantID, nameOrID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, &authError{redirect: true, code: "invalid_target", desc: fmt.Sprintf("the signed-in account has no connection %q", nameOrID)}
	}
	if err != nil {
		return nil, fmt.Errorf("read connection: %w", err)
	}
	return c, nil
}

// handleConsent takes the consent form: it issues a grant and a code, or
// sends the person back with access_denied.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, http.StatusBadRequest, "The form could not be read", "The form was too large or malformed.", "Start the sign-in again from your MCP client.")
		return
	}
	sess, ok, err := s.opts.Sessions.Current(r)
	if err != nil {
		s.refuseAuth(w, r, nil, err)
		return
	}
	if !ok {
		s.renderError(w, http.StatusUnauthorized, "You are not signed in", "This step needs a signed-in session, and yours is missing or expired.", s.opts.SignIn)
		return
	}
	if got := r.PostForm.Get("csrf"); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		s.renderError(w, http.StatusForbidden, "The form has expired",
			"The form's security token did not match your session (it may come from an old tab or another site).",
			"Start the sign-in again from your MCP client.")
		return
	}
	ar, err := s.parseAuthRequest(r.Context(), r.PostForm)
	if err != nil {
		s.refuseAuth(w, r, ar, err)
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		s.errorRedirect(w, r, ar, "access_denied", "the person denied access")
		return
	}
	conns, fixed, err := s.connectionsFor(r.Context(), sess.TenantID, ar)
	if err != nil {
		s.refuseAuth(w, r, ar, err)
		return
	}
	conn := fixed
	if conn == nil {
		id := r.PostForm.Get("connection")
		i := slices.IndexFunc(conns, func(c *store.Connection) bool { return c.ID == id })
		if i < 0 {
			s.renderError(w, http.StatusBadRequest, "Choose a connection", "The form did not name one of your connections.", "Go back and pick a connection.")
			return
		}
		conn = conns[i]
	}
	var readOnly bool
	switch r.PostForm.Get("access") {
	case "full":
	case "read":
		readOnly = true
	default:
		s.renderError(w, http.StatusBadRequest, "Choose the access", "The form's access must be full or read.", "Go back and choose the access.")
		return
	}
	toolset := r.PostForm.Get("toolset")
	if toolset != "" && !slices.Contains(s.opts.Toolsets, toolset) {
		s.renderError(w, http.StatusBadRequest, "Choose the tools", fmt.Sprintf("%q is not a toolset.", clip(toolset, 40)), "Go back and choose the tools.")
		return
	}
	resource := ar.resource
	if resource == "" {
		resource = s.ResourceURL(conn.Name)
	}
	g := &store.MCPGrant{TenantID: sess.TenantID, ConnectionID: conn.ID, ClientID: ar.client.ID, ClientName: ar.client.Name,
		RedirectURI: ar.redirectURI, Resource: resource, ReadOnly: readOnly, Toolset: toolset, CreatedAt: s.now()}
	if err := s.opts.Store.CreateMCPGrant(r.Context(), g); err != nil {
		s.refuseAuth(w, r, ar, err)
		return
	}
	code, h := newToken(CodePrefix)
	if err := s.opts.Store.CreateMCPToken(r.Context(), &store.MCPToken{Hash: h, GrantID: g.ID, Kind: store.MCPCode,
		CodeChallenge: ar.codeChallenge, ExpiresAt: s.now().Add(s.opts.CodeTTL)}); err != nil {
		s.refuseAuth(w, r, ar, err)
		return
	}
	s.log.Info("mcpauth: granted", "tenant", sess.TenantID, "grant", g.ID, "client_id", g.ClientID, "connection", conn.ID,
		"read_only", readOnly, "toolset", toolset)
	s.redirect(w, r, ar, url.Values{"code": {code}})
}

func (s *Server) renderError(w http.ResponseWriter, status int, title, what, todo string) {
	s.render(w, status, "error.html", errorData{Title: title, What: what, Todo: todo})
}

func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	htmlpage.Write(w, s.log, pages, status, name, data)
}
