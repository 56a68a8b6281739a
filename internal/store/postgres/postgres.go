// Package postgres is deskconn's store for several replicas: Postgres
// through pgx/v5. Tables live in the first schema of the connection's
// search_path, so one database can host several deployments (or test runs)
// side by side.
//
// Migrations run under a session advisory lock, so replicas starting at
// once apply each one exactly once. WithRefreshLock holds a session
// advisory lock on a dedicated pooled connection (see lock.go).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/deskconn/deskconn/internal/groupcommit"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// tables lists every table, for Dump.
var tables = []string{"tenants", "api_keys", "connections", "oauth_states", "login_links", "web_sessions", "idempotency_records", "audit_log", "settings", "schema_migrations",
	"event_seqs", "events", "subscriptions", "deliveries", "event_cursors", "event_sources", "leases"}

// Store is the Postgres implementation of store.Store. It is safe for
// concurrent use, also from several processes; build it with Open.
type Store struct {
	pool     *pgxpool.Pool // queries
	lockPool *pgxpool.Pool // connections held by WithRefreshLock while fn runs
	watch    time.Duration

	locals store.KeyLocks // per-connection in-process refresh locks
	audits groupcommit.Group[*store.AuditRecord]
}

var _ store.Store = (*Store)(nil)

// Option configures Open.
type Option func(*Store)

// WithLockWatch sets how often a held refresh lock's session is checked
// (default 5s); when the session is gone, so is the lock, and fn's context
// is cancelled with ErrLockLost.
func WithLockWatch(d time.Duration) Option {
	return func(s *Store) { s.watch = d }
}

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string; search_path may be set in it) and applies pending
// migrations.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors can quote the DSN, password included.
		return nil, errors.New("open postgres store: invalid DSN")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	// A separate pool for lock holders: fn uses the main pool while its lock
	// connection is held, so holders can never starve it into a deadlock.
	lockCfg := cfg.Copy()
	lockCfg.MaxConns = 16
	lockCfg.MinConns = 0
	lockPool, err := pgxpool.NewWithConfig(ctx, lockCfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	s := &Store{pool: pool, lockPool: lockPool, watch: 5 * time.Second}
	s.audits.Commit = s.appendAudits
	for _, o := range opts {
		o(s)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	return s, nil
}

// migrate applies embedded migrations in name order, each in its own
// transaction, while holding a session advisory lock keyed by the schema:
// replicas starting together take turns, and later ones find the work done.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	const key = `hashtextextended('deskconn/migrate/' || current_schema(), 0)`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		conn.Conn().Close(ctx) // ends the session, and any lock with it
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock(`+key+`)`); err != nil {
			conn.Conn().Close(uctx)
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version text PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: list: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migration %s: %w", version, err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&done); err != nil {
				return err
			}
			if done {
				return nil
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", version, err)
		}
	}
	return nil
}

// PutSetting stores value under name.
func (s *Store) PutSetting(ctx context.Context, name, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		name, value, now())
	if err != nil {
		return fmt.Errorf("put setting %s: %w", name, err)
	}
	return nil
}

// GetSetting returns the value stored under name, or store.ErrNotFound.
func (s *Store) GetSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("get setting %s: %w", name, err)
	}
	return v, nil
}

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close closes both pools, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.lockPool.Close()
	s.pool.Close()
	return nil
}

// Dump returns every row of every table as Postgres' text form (bytea as
// hex), for canary tests proving that no secret is stored in the clear.
func (s *Store) Dump(ctx context.Context) ([]byte, error) {
	var out []byte
	for _, table := range tables {
		rows, err := s.pool.Query(ctx, `SELECT t::text FROM `+table+` t`)
		if err != nil {
			return nil, fmt.Errorf("dump %s: %w", table, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("dump %s: %w", table, err)
		}
		out = append(out, table+"\n"...)
		for _, l := range lines {
			out = append(out, l+"\n"...)
		}
	}
	return out, nil
}

// mapErr turns constraint violations and missing rows into the store's
// sentinel errors.
func mapErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return store.ErrConflict
		case "23503": // foreign_key_violation
			return store.ErrNotFound
		}
	}
	return err
}

func expectRow(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// ts stores the zero time as NULL.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func fromTS(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// ---- Tenants ----

// CreateTenant inserts t, setting ID (when empty) and CreatedAt.
func (s *Store) CreateTenant(ctx context.Context, t *store.Tenant) error {
	if t.ID == "" {
		t.ID = store.NewID("ten")
	}
	t.CreatedAt = now()
	if _, err := s.pool.Exec(ctx, `INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)`,
		t.ID, t.Name, t.CreatedAt); err != nil {
		return fmt.Errorf("create tenant: %w", mapErr(err))
	}
	return nil
}

func scanTenant(row pgx.Row) (*store.Tenant, error) {
	var t store.Tenant
	if err := row.Scan(&t.ID, &t.Name, &t.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return &t, nil
}

// GetTenant returns the tenant with this id, or ErrNotFound.
func (s *Store) GetTenant(ctx context.Context, id string) (*store.Tenant, error) {
	t, err := scanTenant(s.pool.QueryRow(ctx, `SELECT id, name, created_at FROM tenants WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get tenant: %w", err)
	}
	return t, nil
}

// GetTenantByName returns the tenant with this name, or ErrNotFound.
func (s *Store) GetTenantByName(ctx context.Context, name string) (*store.Tenant, error) {
	t, err := scanTenant(s.pool.QueryRow(ctx, `SELECT id, name, created_at FROM tenants WHERE name = $1`, name))
	if err != nil {
		return nil, fmt.Errorf("get tenant by name: %w", err)
	}
	return t, nil
}

// ListTenants returns every tenant, oldest first.
func (s *Store) ListTenants(ctx context.Context) ([]*store.Tenant, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_at FROM tenants ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Tenant, error) { return scanTenant(r) })
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// ---- API keys ----

const apiKeyCols = `id, tenant_id, name, hash, prefix, created_at, last_used, revoked_at, read_only, connection_id, actions, expires_at`

func scanAPIKey(row pgx.Row) (*store.APIKey, error) {
	var k store.APIKey
	var used, revoked, expires *time.Time
	var actions string
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Hash, &k.Prefix, &k.CreatedAt, &used, &revoked,
		&k.ReadOnly, &k.ConnectionID, &actions, &expires); err != nil {
		return nil, mapErr(err)
	}
	k.CreatedAt, k.LastUsed, k.RevokedAt, k.ExpiresAt = k.CreatedAt.UTC(), fromTS(used), fromTS(revoked), fromTS(expires)
	k.Actions = store.SplitActions(actions)
	return &k, nil
}

// CreateAPIKey inserts k, setting ID (when empty) and CreatedAt. A hash
// already stored is ErrConflict; an unknown tenant is ErrNotFound.
func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	if len(k.Hash) == 0 {
		return errors.New("create api key: empty hash")
	}
	if k.ID == "" {
		k.ID = store.NewID("key")
	}
	k.CreatedAt = now()
	if _, err := s.pool.Exec(ctx, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		k.ID, k.TenantID, k.Name, k.Hash, k.Prefix, k.CreatedAt, ts(k.LastUsed), ts(k.RevokedAt),
		k.ReadOnly, k.ConnectionID, store.JoinActions(k.Actions), ts(k.ExpiresAt)); err != nil {
		return fmt.Errorf("create api key: %w", mapErr(err))
	}
	return nil
}

// LookupAPIKey returns the unrevoked key with this hash and records its use
// (LastUsed), or ErrNotFound.
func (s *Store) LookupAPIKey(ctx context.Context, hash []byte) (*store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hash))
	if err != nil {
		return nil, fmt.Errorf("lookup api key: %w", err)
	}
	if t := now(); k.LastUsed.IsZero() || t.Sub(k.LastUsed) >= store.APIKeyUseResolution {
		if _, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $3)`,
			t, k.ID, t.Add(-store.APIKeyUseResolution)); err != nil {
			return nil, fmt.Errorf("lookup api key: record use: %w", err)
		}
		k.LastUsed = t.Truncate(time.Microsecond)
	}
	return k, nil
}

// ListAPIKeys returns a tenant's keys, revoked ones included, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]*store.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.APIKey, error) { return scanAPIKey(r) })
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey marks a tenant's key revoked (a second call keeps the first
// revocation time). Another tenant's key is ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, id string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE tenant_id = $2 AND id = $3`,
		now(), tenantID, id)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return nil
}

// ---- Connections ----

const connCols = `id, tenant_id, name, client_id, sealed_client_secret, scopes, status,
	location, accounts_server, desk_base_url, org_id, org_name, org_choices,
	sealed_refresh_token, sealed_access_token, access_expiry, token_requests,
	user_id, user_email, user_name, policies, last_error, created_at, updated_at`

// connArgs returns the column values of c in connCols order.
func connArgs(c *store.Connection) []any {
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	reqs := make([]time.Time, 0, len(c.TokenRequests))
	for _, t := range c.TokenRequests {
		reqs = append(reqs, t.UTC().Truncate(time.Microsecond))
	}
	policies := c.Policies
	if policies == nil {
		policies = map[string]string{}
	}
	return []any{
		c.ID, c.TenantID, c.Name, c.ClientID, blob(c.SealedClientSecret), scopes, string(c.Status),
		c.Location, c.AccountsServer, c.DeskBaseURL, c.OrgID, c.OrgName, blob(c.OrgChoices),
		blob(c.SealedRefreshToken), blob(c.SealedAccessToken), ts(c.AccessExpiry), reqs,
		c.UserID, c.UserEmail, c.UserName, policies, c.LastError, c.CreatedAt, c.UpdatedAt,
	}
}

func scanConnection(row pgx.Row) (*store.Connection, error) {
	var c store.Connection
	var status string
	var expiry *time.Time
	if err := row.Scan(&c.ID, &c.TenantID, &c.Name, &c.ClientID, &c.SealedClientSecret, &c.Scopes, &status,
		&c.Location, &c.AccountsServer, &c.DeskBaseURL, &c.OrgID, &c.OrgName, &c.OrgChoices,
		&c.SealedRefreshToken, &c.SealedAccessToken, &expiry, &c.TokenRequests,
		&c.UserID, &c.UserEmail, &c.UserName, &c.Policies, &c.LastError, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	c.Status = store.ConnectionStatus(status)
	c.AccessExpiry, c.CreatedAt, c.UpdatedAt = fromTS(expiry), c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.SealedClientSecret = nilIfEmpty(c.SealedClientSecret)
	c.OrgChoices = nilIfEmpty(c.OrgChoices)
	c.SealedRefreshToken = nilIfEmpty(c.SealedRefreshToken)
	c.SealedAccessToken = nilIfEmpty(c.SealedAccessToken)
	if len(c.Scopes) == 0 {
		c.Scopes = nil
	}
	if len(c.TokenRequests) == 0 {
		c.TokenRequests = nil
	}
	for i, t := range c.TokenRequests {
		c.TokenRequests[i] = t.UTC()
	}
	if len(c.Policies) == 0 {
		c.Policies = nil
	}
	return &c, nil
}

// CreateConnection inserts c, setting ID (when empty), CreatedAt and
// UpdatedAt. A duplicate name within the tenant, or a duplicate ID, is
// ErrConflict; an unknown tenant is ErrNotFound.
func (s *Store) CreateConnection(ctx context.Context, c *store.Connection) error {
	if c.ID == "" {
		c.ID = store.NewID("conn")
	}
	c.CreatedAt = now()
	c.UpdatedAt = c.CreatedAt
	if _, err := s.pool.Exec(ctx, `INSERT INTO connections (`+connCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
		$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`, connArgs(c)...); err != nil {
		return fmt.Errorf("create connection: %w", mapErr(err))
	}
	return nil
}

// GetConnection returns a tenant's connection; another tenant's is ErrNotFound.
func (s *Store) GetConnection(ctx context.Context, tenantID, id string) (*store.Connection, error) {
	c, err := scanConnection(s.pool.QueryRow(ctx, `SELECT `+connCols+` FROM connections WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("get connection: %w", err)
	}
	return c, nil
}

// GetConnectionByName returns a tenant's connection by name, or ErrNotFound.
func (s *Store) GetConnectionByName(ctx context.Context, tenantID, name string) (*store.Connection, error) {
	c, err := scanConnection(s.pool.QueryRow(ctx, `SELECT `+connCols+` FROM connections WHERE tenant_id = $1 AND name = $2`, tenantID, name))
	if err != nil {
		return nil, fmt.Errorf("get connection by name: %w", err)
	}
	return c, nil
}

// ListConnections returns a tenant's connections by name, or every
// tenant's when tenantID is "".
func (s *Store) ListConnections(ctx context.Context, tenantID string) ([]*store.Connection, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+connCols+` FROM connections
		WHERE $1 = '' OR tenant_id = $1 ORDER BY tenant_id, name`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Connection, error) { return scanConnection(r) })
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return out, nil
}

// UpdateConnection writes every field of c (matched by TenantID and ID;
// CreatedAt is kept) and sets UpdatedAt. A missing row is ErrNotFound; a
// name taken by another connection of the tenant is ErrConflict.
func (s *Store) UpdateConnection(ctx context.Context, c *store.Connection) error {
	updated := now()
	cp := *c
	cp.UpdatedAt = updated
	args := connArgs(&cp)
	// args[2:22] are name .. last_error; args[23] is updated_at.
	set := append(append([]any{}, args[2:22]...), args[23], c.TenantID, c.ID)
	tag, err := s.pool.Exec(ctx, `UPDATE connections SET
		name = $1, client_id = $2, sealed_client_secret = $3, scopes = $4, status = $5,
		location = $6, accounts_server = $7, desk_base_url = $8, org_id = $9, org_name = $10, org_choices = $11,
		sealed_refresh_token = $12, sealed_access_token = $13, access_expiry = $14, token_requests = $15,
		user_id = $16, user_email = $17, user_name = $18, policies = $19, last_error = $20, updated_at = $21
		WHERE tenant_id = $22 AND id = $23`, set...)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("update connection: %w", mapErr(err))
	}
	c.UpdatedAt = updated
	return nil
}

// DeleteConnection deletes a tenant's connection, its sealed secrets and
// its pending OAuth states.
func (s *Store) DeleteConnection(ctx context.Context, tenantID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM connections WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("delete connection: %w", err)
	}
	return nil
}

// ---- OAuth states ----

const stateCols = `hash, tenant_id, connection_id, redirect_to, expires_at, created_at`

// CreateOAuthState stores st (CreatedAt set when zero). The connection must
// exist in st's tenant (else ErrNotFound); a duplicate hash is ErrConflict.
func (s *Store) CreateOAuthState(ctx context.Context, st *store.OAuthState) error {
	if len(st.Hash) == 0 {
		return errors.New("create oauth state: empty hash")
	}
	if st.CreatedAt.IsZero() {
		st.CreatedAt = now()
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO oauth_states (`+stateCols+`)
		SELECT $1, tenant_id, id, $2, $3, $4 FROM connections WHERE tenant_id = $5 AND id = $6`,
		st.Hash, st.RedirectTo, st.ExpiresAt, st.CreatedAt, st.TenantID, st.ConnectionID)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("create oauth state: %w", mapErr(err))
	}
	return nil
}

// ConsumeOAuthState atomically deletes and returns the state with this
// hash: of concurrent callers exactly one gets it, the others ErrNotFound.
func (s *Store) ConsumeOAuthState(ctx context.Context, hash []byte) (*store.OAuthState, error) {
	var st store.OAuthState
	err := s.pool.QueryRow(ctx, `DELETE FROM oauth_states WHERE hash = $1 RETURNING `+stateCols, hash).
		Scan(&st.Hash, &st.TenantID, &st.ConnectionID, &st.RedirectTo, &st.ExpiresAt, &st.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("consume oauth state: %w", mapErr(err))
	}
	st.ExpiresAt, st.CreatedAt = st.ExpiresAt.UTC(), st.CreatedAt.UTC()
	return &st, nil
}

// ---- Login links and web sessions ----

// CreateLoginLink stores l (CreatedAt set when zero); see store.Store.
func (s *Store) CreateLoginLink(ctx context.Context, l *store.LoginLink) error {
	if len(l.Hash) == 0 {
		return errors.New("create login link: empty hash")
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = now()
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO login_links (hash, tenant_id, expires_at, created_at) VALUES ($1, $2, $3, $4)`,
		l.Hash, l.TenantID, l.ExpiresAt, l.CreatedAt); err != nil {
		return fmt.Errorf("create login link: %w", mapErr(err))
	}
	return nil
}

// ConsumeLoginLink atomically deletes the link with this hash and returns
// it when it is live at now: of concurrent callers exactly one gets it, the
// others ErrNotFound. An expired link is deleted too, and is ErrNotFound.
func (s *Store) ConsumeLoginLink(ctx context.Context, hash []byte, now time.Time) (*store.LoginLink, error) {
	var l store.LoginLink
	err := s.pool.QueryRow(ctx, `DELETE FROM login_links WHERE hash = $1 RETURNING hash, tenant_id, expires_at, created_at`, hash).
		Scan(&l.Hash, &l.TenantID, &l.ExpiresAt, &l.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("consume login link: %w", mapErr(err))
	}
	l.ExpiresAt, l.CreatedAt = l.ExpiresAt.UTC(), l.CreatedAt.UTC()
	if !now.Before(l.ExpiresAt) {
		return nil, fmt.Errorf("consume login link: expired: %w", store.ErrNotFound)
	}
	return &l, nil
}

// CreateSession stores sess (CreatedAt set when zero); see store.Store.
func (s *Store) CreateSession(ctx context.Context, sess *store.Session) error {
	if len(sess.Hash) == 0 {
		return errors.New("create session: empty hash")
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now()
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO web_sessions (hash, tenant_id, csrf, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
		sess.Hash, sess.TenantID, sess.CSRF, sess.ExpiresAt, sess.CreatedAt); err != nil {
		return fmt.Errorf("create session: %w", mapErr(err))
	}
	return nil
}

// GetSession returns the session with this hash if it is live at now, else
// ErrNotFound.
func (s *Store) GetSession(ctx context.Context, hash []byte, now time.Time) (*store.Session, error) {
	var sess store.Session
	err := s.pool.QueryRow(ctx, `SELECT hash, tenant_id, csrf, expires_at, created_at FROM web_sessions
		WHERE hash = $1 AND expires_at > $2`, hash, now).
		Scan(&sess.Hash, &sess.TenantID, &sess.CSRF, &sess.ExpiresAt, &sess.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("get session: %w", mapErr(err))
	}
	sess.ExpiresAt, sess.CreatedAt = sess.ExpiresAt.UTC(), sess.CreatedAt.UTC()
	return &sess, nil
}

// DeleteSession removes the session with this hash, or returns ErrNotFound.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE hash = $1`, hash)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// ListSessions returns tenantID's sessions live at now, newest first.
func (s *Store) ListSessions(ctx context.Context, tenantID string, now time.Time) ([]*store.Session, error) {
	rows, err := s.pool.Query(ctx, `SELECT hash, tenant_id, csrf, expires_at, created_at FROM web_sessions
		WHERE tenant_id = $1 AND expires_at > $2 ORDER BY created_at DESC, hash`, tenantID, now)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []*store.Session
	for rows.Next() {
		var sess store.Session
		if err := rows.Scan(&sess.Hash, &sess.TenantID, &sess.CSRF, &sess.ExpiresAt, &sess.CreatedAt); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		sess.ExpiresAt, sess.CreatedAt = sess.ExpiresAt.UTC(), sess.CreatedAt.UTC()
		out = append(out, &sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// ---- Idempotency ----

const idemCols = `tenant_id, connection_id, action, key, input_hash, state, result, created_at, updated_at, expires_at, owner, heartbeat_at, dispatched_at, settle_input, settle_attempts, next_settle_at`
const idemWhere = `tenant_id = $1 AND connection_id = $2 AND action = $3 AND key = $4`

func idemKeyArgs(k store.IdemKey, more ...any) []any {
	return append([]any{k.TenantID, k.ConnectionID, k.Action, k.Key}, more...)
}

func scanIdem(row pgx.Row) (*store.IdemRecord, error) {
	var r store.IdemRecord
	var state string
	var heartbeat, dispatched, nextSettle *time.Time
	if err := row.Scan(&r.TenantID, &r.ConnectionID, &r.Action, &r.Key, &r.InputHash, &state, &r.Result,
		&r.CreatedAt, &r.UpdatedAt, &r.ExpiresAt, &r.Owner, &heartbeat, &dispatched, &r.SettleInput, &r.SettleAttempts, &nextSettle); err != nil {
		return nil, mapErr(err)
	}
	r.State = store.IdemState(state)
	r.CreatedAt, r.UpdatedAt, r.ExpiresAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC(), r.ExpiresAt.UTC()
	r.HeartbeatAt, r.DispatchedAt, r.NextSettleAt = fromTS(heartbeat), fromTS(dispatched), fromTS(nextSettle)
	r.InputHash, r.Result, r.SettleInput = nilIfEmpty(r.InputHash), nilIfEmpty(r.Result), nilIfEmpty(r.SettleInput)
	return &r, nil
}

// BeginIdempotent inserts rec as pending (setting State, CreatedAt and
// UpdatedAt, keeping Owner and HeartbeatAt) unless a live record holds its
// key; see store.Store. rec's ExpiresAt must be set.
func (s *Store) BeginIdempotent(ctx context.Context, rec *store.IdemRecord) (*store.IdemRecord, bool, error) {
	if rec.ExpiresAt.IsZero() {
		return nil, false, errors.New("begin idempotent: ExpiresAt is required")
	}
	t := now()
	var out *store.IdemRecord
	var created bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM idempotency_records WHERE `+idemWhere+` AND expires_at <= $5`,
			idemKeyArgs(rec.IdemKey, t)...); err != nil {
			return err
		}
		// A concurrent insert of the same key waits for the first to commit,
		// then does nothing; RETURNING yields a row only for the creator.
		var one int
		err := tx.QueryRow(ctx, `INSERT INTO idempotency_records (`+idemCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, NULL, $12, 0, NULL) ON CONFLICT DO NOTHING RETURNING 1`,
			idemKeyArgs(rec.IdemKey, blob(rec.InputHash), string(store.IdemPending), blob(rec.Result), t, rec.ExpiresAt,
				rec.Owner, ts(rec.HeartbeatAt), blob(rec.SettleInput))...).Scan(&one)
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		out, err = scanIdem(tx.QueryRow(ctx, `SELECT `+idemCols+` FROM idempotency_records WHERE `+idemWhere, idemKeyArgs(rec.IdemKey)...))
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("begin idempotent: %w", mapErr(err))
	}
	if created {
		rec.State, rec.CreatedAt, rec.UpdatedAt = store.IdemPending, t, t
		rec.ExpiresAt = rec.ExpiresAt.UTC().Truncate(time.Microsecond)
		if !rec.HeartbeatAt.IsZero() {
			rec.HeartbeatAt = rec.HeartbeatAt.UTC().Truncate(time.Microsecond)
		}
		rec.DispatchedAt, rec.SettleAttempts, rec.NextSettleAt = time.Time{}, 0, time.Time{}
		return rec, true, nil
	}
	return out, false, nil
}

// ClaimIdempotent hands a live pending or unknown record over to owner if
// it is still held by prevOwner with heartbeat prevHeartbeat; see
// store.Store.
func (s *Store) ClaimIdempotent(ctx context.Context, key store.IdemKey, prevOwner string, prevHeartbeat time.Time, owner string, at time.Time) error {
	t := now()
	tag, err := s.pool.Exec(ctx, `UPDATE idempotency_records SET owner = $5, heartbeat_at = $6, updated_at = $7
		WHERE `+idemWhere+` AND expires_at > $7 AND state IN ('pending', 'unknown') AND owner = $8
		AND heartbeat_at IS NOT DISTINCT FROM $9::timestamptz`,
		idemKeyArgs(key, owner, ts(at), t, prevOwner, ts(prevHeartbeat))...)
	if err == nil {
		err = expectRow(tag)
	}
	if errors.Is(err, store.ErrNotFound) {
		if _, gerr := s.GetIdempotent(ctx, key); gerr == nil {
			err = store.ErrConflict
		}
	}
	if err != nil {
		return fmt.Errorf("claim idempotent: %w", err)
	}
	return nil
}

// HeartbeatIdempotent renews owner's lease; see store.Store.
func (s *Store) HeartbeatIdempotent(ctx context.Context, key store.IdemKey, owner string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE idempotency_records SET heartbeat_at = $5
		WHERE `+idemWhere+` AND expires_at > $6 AND owner = $7 AND heartbeat_at IS NOT NULL`,
		idemKeyArgs(key, ts(at), now(), owner)...)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("heartbeat idempotent: %w", err)
	}
	return nil
}

// DispatchIdempotent records that owner's request is about to write to
// Zoho; see store.Store.
func (s *Store) DispatchIdempotent(ctx context.Context, key store.IdemKey, owner string, at time.Time) error {
	t := now()
	tag, err := s.pool.Exec(ctx, `UPDATE idempotency_records SET dispatched_at = coalesce(dispatched_at, $5), updated_at = $6
		WHERE `+idemWhere+` AND expires_at > $6 AND state = 'pending' AND owner = $7 AND heartbeat_at IS NOT NULL`,
		idemKeyArgs(key, ts(at), t, owner)...)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("dispatch idempotent: %w", err)
	}
	return nil
}

// FinishIdempotent sets the state and result of a live record held by
// owner and releases its lease, or returns ErrNotFound.
func (s *Store) FinishIdempotent(ctx context.Context, key store.IdemKey, owner string, state store.IdemState, result []byte) error {
	t := now()
	tag, err := s.pool.Exec(ctx, `UPDATE idempotency_records SET state = $5, result = $6, updated_at = $7, heartbeat_at = NULL
		WHERE `+idemWhere+` AND expires_at > $7 AND owner = $8`, idemKeyArgs(key, string(state), blob(result), t, owner)...)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("finish idempotent: %w", err)
	}
	return nil
}

// ListSettleable returns the records a background pass may settle; see
// store.SettleQuery.
func (s *Store) ListSettleable(ctx context.Context, q store.SettleQuery) ([]*store.IdemRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+idemCols+` FROM idempotency_records
		WHERE state IN ('pending', 'unknown') AND settle_input IS NOT NULL AND expires_at > $1 AND dispatched_at IS NOT NULL
		AND (heartbeat_at IS NULL OR heartbeat_at < $2)
		AND (CASE WHEN next_settle_at IS NULL THEN dispatched_at <= $3 ELSE next_settle_at <= $1 END)
		ORDER BY coalesce(next_settle_at, dispatched_at) LIMIT $4`,
		q.Now, q.HeldBefore, q.DispatchedBefore, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list settleable: %w", err)
	}
	defer rows.Close()
	var out []*store.IdemRecord
	for rows.Next() {
		r, err := scanIdem(rows)
		if err != nil {
			return nil, fmt.Errorf("list settleable: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list settleable: %w", err)
	}
	return out, nil
}

// DeferSettle records a background settling attempt; see store.Store.
func (s *Store) DeferSettle(ctx context.Context, key store.IdemKey, owner string, next time.Time, drop bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE idempotency_records SET settle_attempts = settle_attempts + 1, next_settle_at = $5,
		settle_input = CASE WHEN $6 THEN NULL ELSE settle_input END
		WHERE `+idemWhere+` AND expires_at > $7 AND owner = $8`, idemKeyArgs(key, ts(next), drop, now(), owner)...)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("defer settle: %w", err)
	}
	return nil
}

// GetIdempotent returns the live record with this key, or ErrNotFound.
func (s *Store) GetIdempotent(ctx context.Context, key store.IdemKey) (*store.IdemRecord, error) {
	r, err := scanIdem(s.pool.QueryRow(ctx, `SELECT `+idemCols+` FROM idempotency_records
		WHERE `+idemWhere+` AND expires_at > $5`, idemKeyArgs(key, now())...))
	if err != nil {
		return nil, fmt.Errorf("get idempotent: %w", err)
	}
	return r, nil
}

// DeleteIdempotent removes the record with this key held by owner, or
// returns ErrNotFound.
func (s *Store) DeleteIdempotent(ctx context.Context, key store.IdemKey, owner string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_records WHERE `+idemWhere+` AND owner = $5`, idemKeyArgs(key, owner)...)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("delete idempotent: %w", err)
	}
	return nil
}

// PurgeExpired deletes idempotency records, OAuth states, login links and
// sessions that expired at or before now.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, table := range []string{"idempotency_records", "oauth_states", "login_links", "web_sessions", "mcp_tokens"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE expires_at <= $1`, now); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("purge expired: %w", err)
	}
	return nil
}

// ---- Audit ----

// auditCommitTimeout bounds one commit of audit records.
const auditCommitTimeout = 10 * time.Second

// AppendAudit appends r, setting ID, and Time when zero. It returns once r
// (and its write marks) are committed; concurrent calls of this process
// share one transaction (group commit), one commit per burst of writes.
func (s *Store) AppendAudit(ctx context.Context, r *store.AuditRecord) error {
	if r.Time.IsZero() {
		r.Time = now()
	}
	r.Time = r.Time.UTC().Truncate(time.Microsecond)
	if err := s.audits.Do(ctx, r); err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

// appendAudits stores recs and their write marks in one transaction: the
// audits group's commit, bounded by auditCommitTimeout (the group's
// callers' deadlines do not reach it).
func (s *Store) appendAudits(ctx context.Context, recs []*store.AuditRecord) error {
	ctx, cancel := context.WithTimeout(ctx, auditCommitTimeout)
	defer cancel()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, r := range recs {
			if err := tx.QueryRow(ctx, `INSERT INTO audit_log (time, tenant_id, api_key_id, connection_id, action,
				outcome, zoho_request_id, duration_ns, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
				r.Time, r.TenantID, r.APIKeyID, r.ConnectionID, r.Action, r.Outcome, r.ZohoRequestID, int64(r.Duration), r.Detail).Scan(&r.ID); err != nil {
				return err
			}
			for _, m := range r.WriteMarks() {
				// A later write of the same change (the same key) replaces the mark.
				if _, err := tx.Exec(ctx, `INSERT INTO write_marks (connection_id, key, action, api_key_id, created_at)
					VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connection_id, key) DO UPDATE SET action = excluded.action,
					api_key_id = excluded.api_key_id, created_at = excluded.created_at`,
					m.ConnectionID, m.Key, m.Action, m.APIKeyID, m.At); err != nil {
					return fmt.Errorf("write mark: %w", err)
				}
			}
		}
		return nil
	})
}

// PurgeAudit deletes audit records older than before.
func (s *Store) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM audit_log WHERE time < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("purge audit: %w", err)
	}
	return tag.RowsAffected(), nil
}

// ListAudit returns a tenant's audit records, newest first.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditRecord, error) {
	if f.TenantID == "" {
		return nil, errors.New("list audit: TenantID is required")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT id, time, tenant_id, api_key_id, connection_id, action, outcome,
		zoho_request_id, duration_ns, detail FROM audit_log
		WHERE tenant_id = $1 AND ($2 = '' OR connection_id = $2) AND ($3 = '' OR action = $3)
		AND ($4 = '' OR outcome = $4) AND ($5 = '' OR api_key_id = $5) AND ($6 = 0 OR id < $6)
		ORDER BY id DESC LIMIT $7`,
		f.TenantID, f.ConnectionID, f.Action, f.Outcome, f.APIKeyID, f.BeforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.AuditRecord, error) {
		var r store.AuditRecord
		var d int64
		if err := row.Scan(&r.ID, &r.Time, &r.TenantID, &r.APIKeyID, &r.ConnectionID, &r.Action, &r.Outcome,
			&r.ZohoRequestID, &d, &r.Detail); err != nil {
			return nil, err
		}
		r.Time, r.Duration = r.Time.UTC(), time.Duration(d)
		return &r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}
