package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deskconn/deskconn/internal/store"
)

// ---- MCP sign-in ----

// CreateMCPClient stores c; see store.MCPAuthStore.
func (s *Store) CreateMCPClient(ctx context.Context, c *store.MCPClient) error {
	if c.ID == "" {
		return errors.New("create mcp client: empty ID")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now()
	}
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Microsecond)
	uris, err := json.Marshal(c.RedirectURIs)
	if err != nil {
		return fmt.Errorf("create mcp client: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO mcp_clients (id, name, redirect_uris, created_at) VALUES ($1, $2, $3, $4)`,
		c.ID, c.Name, string(uris), c.CreatedAt); err != nil {
		return fmt.Errorf("create mcp client: %w", mapErr(err))
	}
	return nil
}

// GetMCPClient returns a registered client.
func (s *Store) GetMCPClient(ctx context.Context, id string) (*store.MCPClient, error) {
	var c store.MCPClient
	var uris string
	err := s.pool.QueryRow(ctx, `SELECT id, name, redirect_uris, created_at FROM mcp_clients WHERE id = $1`, id).
		Scan(&c.ID, &c.Name, &uris, &c.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("get mcp client: %w", mapErr(err))
	}
	if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
		return nil, fmt.Errorf("get mcp client: redirect_uris: %w", err)
	}
	c.CreatedAt = c.CreatedAt.UTC()
	return &c, nil
}

// CreateMCPGrant stores g; see store.MCPAuthStore.
func (s *Store) CreateMCPGrant(ctx context.Context, g *store.MCPGrant) error {
	if g.ID == "" {
		g.ID = store.NewID("mcpg")
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = now()
	}
	g.CreatedAt = g.CreatedAt.UTC().Truncate(time.Microsecond)
	// The connection must be the tenant's: the foreign key alone would
	// accept another tenant's connection.
	tag, err := s.pool.Exec(ctx, `INSERT INTO mcp_grants (id, tenant_id, connection_id, client_id, client_name,
		redirect_uri, resource, read_only, toolset, created_at, revoked_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 WHERE EXISTS (SELECT 1 FROM connections WHERE id = $3 AND tenant_id = $2)`,
		g.ID, g.TenantID, g.ConnectionID, g.ClientID, g.ClientName, g.RedirectURI, g.Resource, g.ReadOnly, g.Toolset,
		g.CreatedAt, ts(g.RevokedAt))
	if err != nil {
		return fmt.Errorf("create mcp grant: %w", mapErr(err))
	}
	if err := expectRow(tag); err != nil {
		return fmt.Errorf("create mcp grant: connection: %w", err)
	}
	return nil
}

const mcpGrantCols = `id, tenant_id, connection_id, client_id, client_name, redirect_uri, resource, read_only, toolset, created_at, revoked_at`

func scanMCPGrant(row pgx.Row) (*store.MCPGrant, error) {
	var g store.MCPGrant
	var revoked *time.Time
	if err := row.Scan(&g.ID, &g.TenantID, &g.ConnectionID, &g.ClientID, &g.ClientName, &g.RedirectURI, &g.Resource,
		&g.ReadOnly, &g.Toolset, &g.CreatedAt, &revoked); err != nil {
		return nil, err
	}
	g.CreatedAt = g.CreatedAt.UTC()
	g.RevokedAt = fromTS(revoked)
	return &g, nil
}

// GetMCPGrant returns a grant; see store.MCPAuthStore.
func (s *Store) GetMCPGrant(ctx context.Context, tenantID, id string) (*store.MCPGrant, error) {
	g, err := scanMCPGrant(s.pool.QueryRow(ctx, `SELECT `+mcpGrantCols+` FROM mcp_grants WHERE id = $1 AND ($2 = '' OR tenant_id = $2)`,
		id, tenantID))
	if err != nil {
		return nil, fmt.Errorf("get mcp grant: %w", mapErr(err))
	}
	return g, nil
}

// ListMCPGrants lists a tenant's unrevoked grants that hold tokens, oldest first.
func (s *Store) ListMCPGrants(ctx context.Context, tenantID string) ([]*store.MCPGrant, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+mcpGrantCols+` FROM mcp_grants WHERE tenant_id = $1 AND revoked_at IS NULL
		AND EXISTS (SELECT 1 FROM mcp_tokens t WHERE t.grant_id = mcp_grants.id AND t.kind <> 'code')
		ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list mcp grants: %w", err)
	}
	defer rows.Close()
	var out []*store.MCPGrant
	for rows.Next() {
		g, err := scanMCPGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("list mcp grants: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list mcp grants: %w", err)
	}
	return out, nil
}

// RevokeMCPGrant revokes an unrevoked grant; see store.MCPAuthStore.
func (s *Store) RevokeMCPGrant(ctx context.Context, tenantID, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE mcp_grants SET revoked_at = $1 WHERE id = $2 AND ($3 = '' OR tenant_id = $3) AND revoked_at IS NULL`,
		at.UTC().Truncate(time.Microsecond), id, tenantID)
	if err != nil {
		return fmt.Errorf("revoke mcp grant: %w", err)
	}
	if err := expectRow(tag); err != nil {
		return fmt.Errorf("revoke mcp grant: %w", err)
	}
	return nil
}

// CreateMCPToken stores t; see store.MCPAuthStore.
func (s *Store) CreateMCPToken(ctx context.Context, t *store.MCPToken) error {
	if len(t.Hash) == 0 {
		return errors.New("create mcp token: empty hash")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now()
	}
	t.CreatedAt = t.CreatedAt.UTC().Truncate(time.Microsecond)
	t.ExpiresAt = t.ExpiresAt.UTC().Truncate(time.Microsecond)
	if _, err := s.pool.Exec(ctx, `INSERT INTO mcp_tokens (hash, grant_id, kind, code_challenge, expires_at, used_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.Hash, t.GrantID, string(t.Kind), t.CodeChallenge, t.ExpiresAt,
		ts(t.UsedAt), t.CreatedAt); err != nil {
		return fmt.Errorf("create mcp token: %w", mapErr(err))
	}
	return nil
}

func scanMCPToken(row pgx.Row) (*store.MCPToken, error) {
	var t store.MCPToken
	var kind string
	var used *time.Time
	if err := row.Scan(&t.Hash, &t.GrantID, &kind, &t.CodeChallenge, &t.ExpiresAt, &used, &t.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	t.Kind = store.MCPTokenKind(kind)
	t.ExpiresAt, t.CreatedAt, t.UsedAt = t.ExpiresAt.UTC(), t.CreatedAt.UTC(), fromTS(used)
	return &t, nil
}

const mcpTokenCols = `hash, grant_id, kind, code_challenge, expires_at, used_at, created_at`

// GetMCPToken returns the token with this hash.
func (s *Store) GetMCPToken(ctx context.Context, hash []byte) (*store.MCPToken, error) {
	t, err := scanMCPToken(s.pool.QueryRow(ctx, `SELECT `+mcpTokenCols+` FROM mcp_tokens WHERE hash = $1`, hash))
	if err != nil {
		return nil, fmt.Errorf("get mcp token: %w", err)
	}
	return t, nil
}

// UseMCPToken marks a token used once; see store.MCPAuthStore. The
// conditional update takes the row lock, so of concurrent callers exactly
// one updates the row.
func (s *Store) UseMCPToken(ctx context.Context, hash []byte, at time.Time) (*store.MCPToken, bool, error) {
	t, err := scanMCPToken(s.pool.QueryRow(ctx, `UPDATE mcp_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL RETURNING `+mcpTokenCols,
		at.UTC().Truncate(time.Microsecond), hash))
	if err == nil {
		return t, true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, false, fmt.Errorf("use mcp token: %w", err)
	}
	t, err = s.GetMCPToken(ctx, hash)
	if err != nil {
		return nil, false, fmt.Errorf("use mcp token: %w", err)
	}
	return t, false, nil
}
