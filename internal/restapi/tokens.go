package restapi

import (
	"context"
	"net/http"

	"github.com/deskconn/deskconn/internal/action"
)

// TokenIdentity is who a bearer token other than an API key speaks for.
type TokenIdentity struct {
	TenantID string
	// CredentialID identifies the credential (an MCP sign-in grant) where
	// an API key's id goes: logs, audit records, MCP session owners.
	CredentialID string
	Scope        action.KeyScope
}

// BearerTokens authenticates bearer tokens that are not API keys: the
// OAuth access tokens of MCP sign-in (internal/mcpauth).
type BearerTokens interface {
	// Owns reports whether token is one of its tokens (by its prefix).
	Owns(token string) bool
	// AuthenticateToken resolves token presented to r; a refused token is
	// an unauthenticated *deskconn.Error.
	AuthenticateToken(ctx context.Context, token string, r *http.Request) (*TokenIdentity, error)
	// Challenge returns extra auth-params of the WWW-Authenticate
	// challenge for an unauthenticated request to r (e.g.
	// resource_metadata="…"), or "".
	Challenge(r *http.Request) string
}

// SetBearerTokens makes the API-key middleware also accept the tokens of
// t. Call it before the server starts serving.
func (s *Server) SetBearerTokens(t BearerTokens) { s.tokens = t }

// challenge returns the WWW-Authenticate value for a refused request,
// with error="invalid_token" when a token was sent and refused.
func (s *Server) challenge(r *http.Request, invalid bool) string {
	v := `Bearer realm="deskconn"`
	if invalid {
		v += `, error="invalid_token"`
	}
	if s.tokens != nil {
		if extra := s.tokens.Challenge(r); extra != "" {
			v += ", " + extra
		}
	}
	return v
}

// Routes of the MCP sign-in grants, beside API keys (handlers in
// internal/mcpauth).
const (
	RouteListMCPGrants  = "GET /v1/mcp-grants"
	RouteRevokeMCPGrant = "DELETE /v1/mcp-grants/{grant}"
)

// MountMCPGrants mounts the grant listing and revocation behind the
// API-key middleware.
func (s *Server) MountMCPGrants(list, revoke http.Handler) {
	s.Mount(RouteListMCPGrants, list)
	s.Mount(RouteRevokeMCPGrant, revoke)
}
