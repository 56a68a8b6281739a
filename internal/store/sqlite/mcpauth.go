package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
	if _, err := s.db.ExecContext(ctx, `INSERT INTO mcp_clients (id, name, redirect_uris, created_at) VALUES (?, ?, ?, ?)`,
		c.ID, c.Name, string(uris), c.CreatedAt.UnixMicro()); err != nil {
		return fmt.Errorf("create mcp client: %w", mapErr(err))
	}
	return nil
}

// GetMCPClient returns a registered client.
func (s *Store) GetMCPClient(ctx context.Context, id string) (*store.MCPClient, error) {
	var c store.MCPClient
	var uris string
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, redirect_uris, created_at FROM mcp_clients WHERE id = ?`, id).
		Scan(&c.ID, &c.Name, &uris, &created)
	if err != nil {
		return nil, fmt.Errorf("get mcp client: %w", mapErr(err))
	}
	if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
		return nil, fmt.Errorf("get mcp client: redirect_uris: %w", err)
	}
	c.CreatedAt = time.UnixMicro(created).UTC()
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
	res, err := s.db.ExecContext(ctx, `INSERT INTO mcp_grants (id, tenant_id, connection_id, client_id, client_name,
		redirect_uri, resource, read_only, toolset, created_at, revoked_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM connections WHERE id = ? AND tenant_id = ?)`,
		g.ID, g.TenantID, g.ConnectionID, g.ClientID, g.ClientName, g.RedirectURI, g.Resource, g.ReadOnly, g.Toolset,
		g.CreatedAt.UnixMicro(), micros(g.RevokedAt), g.ConnectionID, g.TenantID)
	if err != nil {
		return fmt.Errorf("create mcp grant: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("create mcp grant: connection: %w", store.ErrNotFound)
	}
	return nil
}

const mcpGrantCols = `id, tenant_id, connection_id, client_id, client_name, redirect_uri, resource, read_only, toolset, created_at, revoked_at`

func scanMCPGrant(row interface{ Scan(...any) error }) (*store.MCPGrant, error) {
	var g store.MCPGrant
	var created int64
	var revoked sql.NullInt64
	if err := row.Scan(&g.ID, &g.TenantID, &g.ConnectionID, &g.ClientID, &g.ClientName, &g.RedirectURI, &g.Resource,
		&g.ReadOnly, &g.Toolset, &created, &revoked); err != nil {
		return nil, err
	}
	g.CreatedAt = time.UnixMicro(created).UTC()
	g.RevokedAt = fromMicros(revoked)
	return &g, nil
}

// GetMCPGrant returns a grant; see store.MCPAuthStore.
func (s *Store) GetMCPGrant(ctx context.Context, tenantID, id string) (*store.MCPGrant, error) {
	g, err := scanMCPGrant(s.db.QueryRowContext(ctx, `SELECT `+mcpGrantCols+` FROM mcp_grants WHERE id = ? AND (? = '' OR tenant_id = ?)`,
		id, tenantID, tenantID))
	if err != nil {
		return nil, fmt.Errorf("get mcp grant: %w", mapErr(err))
	}
	return g, nil
}

// ListMCPGrants lists a tenant's unrevoked grants that hold tokens, oldest first.
func (s *Store) ListMCPGrants(ctx context.Context, tenantID string) ([]*store.MCPGrant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+mcpGrantCols+` FROM mcp_grants WHERE tenant_id = ? AND revoked_at IS NULL
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
	res, err := s.db.ExecContext(ctx, `UPDATE mcp_grants SET revoked_at = ? WHERE id = ? AND (? = '' OR tenant_id = ?) AND revoked_at IS NULL`,
		at.UTC().Truncate(time.Microsecond).UnixMicro(), id, tenantID, tenantID)
	if err != nil {
		return fmt.Errorf("revoke mcp grant: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke mcp grant: %w", store.ErrNotFound)
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
	if _, err := s.db.ExecContext(ctx, `INSERT INTO mcp_tokens (hash, grant_id, kind, code_challenge, expires_at, used_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, t.Hash, t.GrantID, string(t.Kind), t.CodeChallenge, t.ExpiresAt.UnixMicro(),
		micros(t.UsedAt), t.CreatedAt.UnixMicro()); err != nil {
		return fmt.Errorf("create mcp token: %w", mapErr(err))
	}
	return nil
}

func (s *Store) getMCPToken(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, hash []byte) (*store.MCPToken, error) {
	var t store.MCPToken
	var kind string
	var expires, created int64
	var used sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT hash, grant_id, kind, code_challenge, expires_at, used_at, created_at FROM mcp_tokens WHERE hash = ?`, hash).
		Scan(&t.Hash, &t.GrantID, &kind, &t.CodeChallenge, &expires, &used, &created)
	if err != nil {
		return nil, mapErr(err)
	}
	t.Kind = store.MCPTokenKind(kind)
	t.ExpiresAt, t.CreatedAt, t.UsedAt = time.UnixMicro(expires).UTC(), time.UnixMicro(created).UTC(), fromMicros(used)
	return &t, nil
}

// GetMCPToken returns the token with this hash.
func (s *Store) GetMCPToken(ctx context.Context, hash []byte) (*store.MCPToken, error) {
	t, err := s.getMCPToken(ctx, s.db, hash)
	if err != nil {
		return nil, fmt.Errorf("get mcp token: %w", err)
	}
	return t, nil
}

// UseMCPToken marks a token used once; see store.MCPAuthStore.
func (s *Store) UseMCPToken(ctx context.Context, hash []byte, at time.Time) (*store.MCPToken, bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("use mcp token: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE mcp_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`,
		at.UTC().Truncate(time.Microsecond).UnixMicro(), hash)
	if err != nil {
		return nil, false, fmt.Errorf("use mcp token: %w", err)
	}
	n, _ := res.RowsAffected()
	t, err := s.getMCPToken(ctx, tx, hash)
	if err != nil {
		return nil, false, fmt.Errorf("use mcp token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("use mcp token: commit: %w", err)
	}
	return t, n == 1, nil
}
