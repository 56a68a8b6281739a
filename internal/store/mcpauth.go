package store

import (
	"context"
	"time"
)

// MCPClient is an OAuth client of MCP sign-in registered by dynamic client
// registration (RFC 7591). Clients identified by a Client ID Metadata
// Document (an https client_id) are not stored.
type MCPClient struct {
	ID           string // the client_id deskconn issued
	Name         string
	RedirectURIs []string
	CreatedAt    time.Time
}

// MCPGrant is a person's consent that one MCP client may use one
// connection of their tenant, with a scope. Every code and token is issued
// under a grant; revoking the grant kills them all.
type MCPGrant struct {
	ID           string
	TenantID     string
	ConnectionID string
	ClientID     string
	ClientName   string
	RedirectURI  string // the redirect URI of the authorization request
	Resource     string // the MCP endpoint URL (RFC 8707) tokens are bound to
	ReadOnly     bool   // only read tools
	Toolset      string // "" for every toolset, else the only one
	CreatedAt    time.Time
	RevokedAt    time.Time // zero while the grant is valid
}

// MCPTokenKind says what an MCPToken is.
type MCPTokenKind string

// MCP token kinds.
const (
	MCPCode    MCPTokenKind = "code"    // authorization code (single use)
	MCPAccess  MCPTokenKind = "access"  // access token
	MCPRefresh MCPTokenKind = "refresh" // refresh token (single use: rotated)
)

// MCPToken is an authorization code, access token or refresh token of MCP
// sign-in. Its value is never stored: Hash is its SHA-256.
type MCPToken struct {
	Hash          []byte
	GrantID       string
	Kind          MCPTokenKind
	CodeChallenge string // codes: the PKCE S256 challenge
	ExpiresAt     time.Time
	UsedAt        time.Time // codes and refresh tokens: when first used
	CreatedAt     time.Time
}

// MCPAuthStore keeps the clients, grants and tokens of MCP sign-in
// (internal/mcpauth).
type MCPAuthStore interface {
	// CreateMCPClient stores c (CreatedAt set when zero); ErrConflict on a
	// duplicate ID.
	CreateMCPClient(ctx context.Context, c *MCPClient) error
	GetMCPClient(ctx context.Context, id string) (*MCPClient, error)

	// CreateMCPGrant stores g, setting ID when empty and CreatedAt when
	// zero; ErrNotFound when its tenant or connection does not exist.
	CreateMCPGrant(ctx context.Context, g *MCPGrant) error
	// GetMCPGrant returns a grant, revoked or not; tenantID "" matches any
	// tenant, another tenant's grant is ErrNotFound.
	GetMCPGrant(ctx context.Context, tenantID, id string) (*MCPGrant, error)
	// ListMCPGrants lists a tenant's unrevoked grants under which an
	// access or refresh token is stored (not only a code: a grant whose
	// code was never exchanged, or whose tokens were purged, grants
	// nothing), oldest first.
	ListMCPGrants(ctx context.Context, tenantID string) ([]*MCPGrant, error)
	// RevokeMCPGrant sets RevokedAt of an unrevoked grant (tenantID ""
	// matches any tenant), or returns ErrNotFound.
	RevokeMCPGrant(ctx context.Context, tenantID, id string, at time.Time) error

	// CreateMCPToken stores t (CreatedAt set when zero); ErrNotFound when
	// its grant does not exist, ErrConflict on a duplicate hash.
	CreateMCPToken(ctx context.Context, t *MCPToken) error
	// GetMCPToken returns the token with this hash, or ErrNotFound.
	GetMCPToken(ctx context.Context, hash []byte) (*MCPToken, error)
	// UseMCPToken marks the token with this hash used at at, unless it was
	// used already, and returns it with first true when this call marked
	// it: of concurrent callers exactly one gets first. An earlier use
	// returns the token with its UsedAt and first false. Expiry is the
	// caller's check.
	UseMCPToken(ctx context.Context, hash []byte, at time.Time) (t *MCPToken, first bool, err error)
}
