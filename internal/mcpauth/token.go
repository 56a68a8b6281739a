package mcpauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
)

// tokenResponse is a successful token response (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

var errInvalidGrant = func(desc string) error { return errorf(http.StatusBadRequest, "invalid_grant", "%s", desc) }

// readForm parses a size-capped application/x-www-form-urlencoded body
// and returns the client_id of the request (from the form, or the user
// name of Basic authentication; both must agree).
func readForm(w http.ResponseWriter, r *http.Request) (clientID string, err error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return "", errorf(http.StatusBadRequest, "invalid_request", "send the request as application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return "", errorf(http.StatusBadRequest, "invalid_request", "the form could not be read (at most %d bytes)", maxFormBytes)
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			return "", errorf(http.StatusBadRequest, "invalid_request", "%s is repeated", clip(k, 40))
		}
	}
	clientID = r.PostForm.Get("client_id")
	if user, _, ok := r.BasicAuth(); ok {
		if clientID != "" && clientID != user {
			return "", errorf(http.StatusUnauthorized, "invalid_client", "client_id in the form and in Basic authentication differ")
		}
		clientID = user
	}
	if clientID == "" {
		return "", errorf(http.StatusUnauthorized, "invalid_client", "client_id is missing (deskconn's clients are public: send client_id in the form)")
	}
	return clientID, nil
}

// handleToken is the token endpoint: authorization_code (PKCE S256) and
// refresh_token grants.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	clientID, err := readForm(w, r)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	var resp *tokenResponse
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		resp, err = s.exchangeCode(r.Context(), clientID, r)
	case "refresh_token":
		resp, err = s.refresh(r.Context(), clientID, r)
	case "":
		err = errorf(http.StatusBadRequest, "invalid_request", "grant_type is missing")
	default:
		err = errorf(http.StatusBadRequest, "unsupported_grant_type", "grant_type %q is not supported: use authorization_code or refresh_token", clip(gt, 40))
	}
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// useToken spends a single-use code or refresh token of kind. A second use
// is a replay: the grant is revoked (RFC 9700 §4.14, §4.5.3).
func (s *Server) useToken(ctx context.Context, kind store.MCPTokenKind, prefix, value, clientID, resource string) (*store.MCPGrant, *store.MCPToken, error) {
	what := map[store.MCPTokenKind]string{store.MCPCode: "authorization code", store.MCPRefresh: "refresh token"}[kind]
	if !strings.HasPrefix(value, prefix) {
		return nil, nil, errInvalidGrant("the " + what + " is unknown")
	}
	t, first, err := s.opts.Store.UseMCPToken(ctx, hashToken(value), s.now())
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.Kind != kind) {
		return nil, nil, errInvalidGrant("the " + what + " is unknown")
	}
	if err != nil {
		return nil, nil, err
	}
	g, err := s.opts.Store.GetMCPGrant(ctx, "", t.GrantID)
	if err != nil {
		return nil, nil, err
	}
	if !first {
		if err := s.opts.Store.RevokeMCPGrant(ctx, "", g.ID, s.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		s.log.Warn("mcpauth: a used "+what+" was presented again: revoked its grant", "grant", g.ID, "client_id", g.ClientID)
		return nil, nil, errInvalidGrant("the " + what + " was already used; every token issued from it is revoked: sign in again")
	}
	if !g.RevokedAt.IsZero() {
		return nil, nil, errInvalidGrant("the grant was revoked: sign in again")
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, nil, errInvalidGrant("the " + what + " has expired: sign in again")
	}
	if subtle.ConstantTimeCompare([]byte(clientID), []byte(g.ClientID)) != 1 {
		return nil, nil, errInvalidGrant("the " + what + " was issued to another client")
	}
	if resource != "" {
		if _, canon, err := ParseResource(s.opts.BaseURL, resource); err != nil || canon != g.Resource {
			return nil, nil, errorf(http.StatusBadRequest, "invalid_target", "resource must be %s, the MCP endpoint this grant is for", g.Resource)
		}
	}
	return g, t, nil
}

func (s *Server) exchangeCode(ctx context.Context, clientID string, r *http.Request) (*tokenResponse, error) {
	f := r.PostForm
	verifier := f.Get("code_verifier")
	if !validPKCE(verifier) {
		return nil, errorf(http.StatusBadRequest, "invalid_request", "code_verifier is missing or malformed: PKCE (S256) is required")
	}
	g, t, err := s.useToken(ctx, store.MCPCode, CodePrefix, f.Get("code"), clientID, f.Get("resource"))
	if err != nil {
		return nil, err
	}
	if f.Get("redirect_uri") != g.RedirectURI {
		return nil, errInvalidGrant("redirect_uri differs from the authorization request's")
	}
	if subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(t.CodeChallenge)) != 1 {
		return nil, errInvalidGrant("code_verifier does not match the code_challenge (S256)")
	}
	return s.issue(ctx, g)
}

func (s *Server) refresh(ctx context.Context, clientID string, r *http.Request) (*tokenResponse, error) {
	g, _, err := s.useToken(ctx, store.MCPRefresh, RefreshPrefix, r.PostForm.Get("refresh_token"), clientID, r.PostForm.Get("resource"))
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, g)
}

// issue stores a new access token and refresh token under g.
func (s *Server) issue(ctx context.Context, g *store.MCPGrant) (*tokenResponse, error) {
	now := s.now()
	at, ah := newToken(AccessPrefix)
	rt, rh := newToken(RefreshPrefix)
	if err := s.opts.Store.CreateMCPToken(ctx, &store.MCPToken{Hash: ah, GrantID: g.ID, Kind: store.MCPAccess, ExpiresAt: now.Add(s.opts.AccessTTL)}); err != nil {
		return nil, fmt.Errorf("store access token: %w", err)
	}
	if err := s.opts.Store.CreateMCPToken(ctx, &store.MCPToken{Hash: rh, GrantID: g.ID, Kind: store.MCPRefresh, ExpiresAt: now.Add(s.opts.RefreshTTL)}); err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(s.opts.AccessTTL.Seconds()), RefreshToken: rt}, nil
}

// handleRevoke is token revocation (RFC 7009). Revoking an access or a
// refresh token revokes its whole grant. An unknown token is not an error.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	clientID, err := readForm(w, r)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		s.writeOAuthError(w, r, errorf(http.StatusBadRequest, "invalid_request", "token is missing"))
		return
	}
	t, err := s.opts.Store.GetMCPToken(r.Context(), hashToken(tok))
	if errors.Is(err, store.ErrNotFound) {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	g, err := s.opts.Store.GetMCPGrant(r.Context(), "", t.GrantID)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(clientID), []byte(g.ClientID)) != 1 {
		s.writeOAuthError(w, r, errorf(http.StatusUnauthorized, "invalid_client", "the token was issued to another client"))
		return
	}
	if err := s.opts.Store.RevokeMCPGrant(r.Context(), "", g.ID, s.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.writeOAuthError(w, r, err)
		return
	}
	s.log.Info("mcpauth: revoked a grant by token revocation", "grant", g.ID, "client_id", g.ClientID)
	w.WriteHeader(http.StatusOK)
}

func unauthenticated(format string, args ...any) error {
	return deskconn.Errorf(deskconn.CodeUnauthenticated, format, args...)
}

// Owns reports whether token looks like one of this server's access
// tokens (by its prefix), so the API-key check can be skipped.
func (s *Server) Owns(token string) bool { return strings.HasPrefix(token, AccessPrefix) }

// AuthenticateToken resolves an access token presented to r to its
// tenant, grant and scope (restapi.BearerTokens). The token is refused
// (unauthenticated) when unknown, expired, revoked, or presented anywhere
// but the MCP endpoint it was issued for.
func (s *Server) AuthenticateToken(ctx context.Context, token string, r *http.Request) (*restapi.TokenIdentity, error) {
	if !s.Owns(token) {
		return nil, unauthenticated("the bearer token is not a deskconn access token")
	}
	t, err := s.opts.Store.GetMCPToken(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.Kind != store.MCPAccess) {
		return nil, unauthenticated("the access token is unknown or has expired: sign in again")
	}
	if err != nil {
		return nil, fmt.Errorf("read access token: %w", err)
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, unauthenticated("the access token has expired: refresh it or sign in again")
	}
	g, err := s.opts.Store.GetMCPGrant(ctx, "", t.GrantID)
	if err != nil {
		return nil, fmt.Errorf("read grant: %w", err)
	}
	if !g.RevokedAt.IsZero() {
		return nil, unauthenticated("the access token's grant was revoked: sign in again")
	}
	seg, _, err := ParseResource(s.opts.BaseURL, g.Resource)
	if err != nil || r.URL.EscapedPath() != "/mcp/"+seg {
		return nil, unauthenticated("this access token is valid only for %s", g.Resource)
	}
	sc := action.KeyScope{ReadOnly: g.ReadOnly, ConnectionID: g.ConnectionID, ConnectionName: seg, ListInScope: true}
	if g.Toolset != "" {
		sc.Toolsets = []string{g.Toolset}
	}
	return &restapi.TokenIdentity{TenantID: g.TenantID, CredentialID: g.ID, Scope: sc}, nil
}

// Challenge returns the resource_metadata parameter of the
// WWW-Authenticate challenge for an unauthenticated request to an MCP
// endpoint (RFC 9728 §5.1), or "" for other paths.
func (s *Server) Challenge(r *http.Request) string {
	seg, ok := strings.CutPrefix(r.URL.EscapedPath(), "/mcp/")
	if !ok || !validSegment(seg) {
		return ""
	}
	return `resource_metadata="` + s.ResourceMetadataURL(seg) + `"`
}
