// Package sqlite is deskconn's embedded store: one SQLite file in the data
// directory, opened with the pure-Go driver modernc.org/sqlite in WAL mode.
//
// Several processes on one machine (the CLI and the server sharing a data
// directory) may open the same file at once: migrations run one at a time
// under SQLite's write lock, and WithRefreshLock holds a lease row in the
// database as well as an in-process lock, so refreshes never overlap across
// goroutines or processes.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskconn/deskconn/internal/groupcommit"
	"github.com/deskconn/deskconn/internal/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultLockLease is how long a refresh-lock lease lasts before another
// process may take it over (a crashed holder blocks others at most this
// long). A live holder renews it every third of the lease.
const DefaultLockLease = 10 * time.Second

// Store is the SQLite implementation of store.Store. It is safe for
// concurrent use; build it with Open.
type Store struct {
	db    *sql.DB
	path  string
	lease time.Duration

	locals store.KeyLocks // per-connection in-process refresh locks
	stmts  sync.Map       // query → *sql.Stmt, for the hottest reads (see prepared)
	audits groupcommit.Group[*store.AuditRecord]

	// The background checkpointer (checkpoint.go): the commits since its
	// last checkpoint, its requests, its ticks (a ticker's, or a test's),
	// and what stops it and says it stopped.
	commits    atomic.Int64
	ckptAfter  int64 // checkpointAfter, or a test's
	ckptNow    chan struct{}
	ckptTick   <-chan time.Time
	ckptTicker *time.Ticker
	ckptReport func(checkpointResult)
	stopCkpt   chan struct{}
	ckptDone   chan struct{}
	closeOnce  sync.Once
}

var _ store.Versioned = (*Store)(nil)

var _ store.Store = (*Store)(nil)

// Option configures Open.
type Option func(*Store)

// WithLockLease sets the refresh-lock lease (default DefaultLockLease).
func WithLockLease(d time.Duration) Option {
	return func(s *Store) { s.lease = d }
}

// Open opens (creating if needed) the SQLite database at path and applies
// any pending migrations. path must be a file path: ":memory:" is refused,
// because every pooled connection would see its own empty database.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open sqlite store: path %q must be a plain file path", path)
	}
	// SQLite gives the -wal and -shm files it creates the main file's
	// mode: make the main file 0600 before SQLite opens it, and any
	// -wal/-shm an older version left readable too.
	if err := restrictFiles(path, true); err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	q := url.Values{}
	// busy_timeout first: the pragmas after it (WAL in particular) may
	// wait for another process that is opening the same file.
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Checkpoints run in the background (checkpoint.go); a commit runs one
	// only when the log outgrows them.
	q.Add("_pragma", "wal_autocheckpoint("+strconv.Itoa(backstopPages)+")")
	q.Add("_pragma", "foreign_keys(1)")
	// Overwrite deleted content so erased secrets do not linger in free pages.
	q.Add("_pragma", "secure_delete(1)")
	// Every transaction here writes: take the write lock at BEGIN, so a
	// read-then-write transaction never fails to upgrade with SQLITE_BUSY.
	q.Set("_txlock", "immediate")
	base, err := sqlite.NewConnector(path + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	s := &Store{path: path, lease: DefaultLockLease, ckptAfter: checkpointAfter, ckptNow: make(chan struct{}, 1)}
	db := sql.OpenDB(commitCounter{Connector: base, onCommit: s.committed})
	s.db = db
	db.SetMaxOpenConns(8)
	// As many idle as open: a burst (concurrent webhook deliveries) would
	// otherwise close and reopen connections, and opening one runs every
	// pragma above.
	db.SetMaxIdleConns(8)
	s.audits.Commit = s.appendAudits
	for _, o := range opts {
		o(s)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	if err := restrictFiles(path, false); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	if err := s.prepareTxQueries(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	if s.ckptTick == nil {
		s.ckptTicker = time.NewTicker(checkpointEvery)
		s.ckptTick = s.ckptTicker.C
	}
	// What the migrations wrote is left to the first tick: the count
	// starts with the checkpointer.
	s.commits.Store(0)
	select {
	case <-s.ckptNow:
	default:
	}
	s.stopCkpt, s.ckptDone = make(chan struct{}), make(chan struct{})
	go s.checkpointer()
	return s, nil
}

// fileMode is the mode of every file of the database: they hold sealed
// secrets and hashes that only deskconn's user may read.
const fileMode = 0o600

// restrictFiles makes the database file at path (created empty when create
// is set and it does not exist; SQLite accepts an empty file as a new
// database) and its -wal and -shm files, where they exist, fileMode.
func restrictFiles(path string, create bool) error {
	if create {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, fileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// migrate applies embedded migrations in name order, each inside its own
// immediate transaction that records it in schema_migrations. A second
// process opening the file waits on the write lock, then finds the
// migration recorded and skips it.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := s.applyMigration(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, name string) error {
	body, err := migrations.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read migration %s: %w", name, err)
	}
	version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		version, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("migration %s: record: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", version, err)
	}
	return nil
}

// PutSetting stores value under name.
func (s *Store) PutSetting(ctx context.Context, name, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		name, value, now().UnixMicro())
	if err != nil {
		return fmt.Errorf("put setting %s: %w", name, err)
	}
	return nil
}

// GetSetting returns the value stored under name, or store.ErrNotFound.
func (s *Store) GetSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("get setting %s: %w", name, err)
	}
	return v, nil
}

// Ping checks the database file is usable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close stops the background checkpoints (waiting for one under way) and
// closes the database. Refresh locks still held are released by their
// WithRefreshLock calls, or expire.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stopCkpt)
		<-s.ckptDone
		if s.ckptTicker != nil {
			s.ckptTicker.Stop()
		}
	})
	return s.db.Close()
}

// uninterrupted returns ctx without its cancellation, for the point reads
// and writes on every call's path (a connection, an API key, an audit
// record). With a cancellable context, database/sql and the driver start a
// goroutine per statement and transaction to interrupt it, and wake it when
// the statement ends: wake-ups that a quick local statement does not need.
// Such a statement is bounded by busy_timeout instead.
func uninterrupted(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// CacheVersion returns the version of the rows deskconn caches (see
// store.Versioned): the cache_version row, which triggers on connections
// and api_keys advance with every change to either, made by this process
// or any other on the same file. Other writes (audit records, events,
// idempotency records) leave it alone. It costs a point read, which a
// writer does not wait for (WAL).
func (s *Store) CacheVersion(ctx context.Context) (int64, error) {
	ctx = uninterrupted(ctx)
	q, err := s.prepared(ctx, `SELECT version FROM cache_version WHERE id = 1`)
	if err != nil {
		return 0, fmt.Errorf("cache version: %w", err)
	}
	var v int64
	if err := q.QueryRowContext(ctx).Scan(&v); err != nil {
		return 0, fmt.Errorf("cache version: %w", err)
	}
	return v, nil
}

// Dump returns the raw bytes of the database file and its write-ahead log,
// for canary tests proving that no secret is stored in the clear.
func (s *Store) Dump(ctx context.Context) ([]byte, error) {
	var out []byte
	for _, p := range []string{s.path, s.path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("dump sqlite: %w", err)
		}
		out = append(out, b...)
	}
	return out, nil
}

// mapErr turns constraint violations into the store's sentinel errors.
func mapErr(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return store.ErrConflict
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return store.ErrNotFound
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// micros stores a time as Unix microseconds; the zero time is NULL.
func micros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}

// blob stores an empty slice as NULL ("none").
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

func rowsAffected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}

// expectRow returns ErrNotFound when a statement touched no row.
func expectRow(res sql.Result) error {
	n, err := rowsAffected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

// ---- Tenants ----

// CreateTenant inserts t, setting ID (when empty) and CreatedAt.
func (s *Store) CreateTenant(ctx context.Context, t *store.Tenant) error {
	if t.ID == "" {
		t.ID = store.NewID("ten")
	}
	t.CreatedAt = now()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)`,
		t.ID, t.Name, t.CreatedAt.UnixMicro()); err != nil {
		return fmt.Errorf("create tenant: %w", mapErr(err))
	}
	return nil
}

func scanTenant(sc scanner) (*store.Tenant, error) {
	var t store.Tenant
	var created sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Name, &created); err != nil {
		return nil, mapErr(err)
	}
	t.CreatedAt = fromMicros(created)
	return &t, nil
}

// GetTenant returns the tenant with this id, or ErrNotFound.
func (s *Store) GetTenant(ctx context.Context, id string) (*store.Tenant, error) {
	t, err := scanTenant(s.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM tenants WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("get tenant: %w", err)
	}
	return t, nil
}

// GetTenantByName returns the tenant with this name, or ErrNotFound.
func (s *Store) GetTenantByName(ctx context.Context, name string) (*store.Tenant, error) {
	t, err := scanTenant(s.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM tenants WHERE name = ?`, name))
	if err != nil {
		return nil, fmt.Errorf("get tenant by name: %w", err)
	}
	return t, nil
}

// ListTenants returns every tenant, oldest first.
func (s *Store) ListTenants(ctx context.Context) ([]*store.Tenant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at FROM tenants ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []*store.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// ---- API keys ----

const apiKeyCols = `id, tenant_id, name, hash, prefix, created_at, last_used, revoked_at, read_only, connection_id, actions, expires_at`

func scanAPIKey(sc scanner) (*store.APIKey, error) {
	var k store.APIKey
	var created, used, revoked, expires sql.NullInt64
	var actions string
	if err := sc.Scan(&k.ID, &k.TenantID, &k.Name, &k.Hash, &k.Prefix, &created, &used, &revoked,
		&k.ReadOnly, &k.ConnectionID, &actions, &expires); err != nil {
		return nil, mapErr(err)
	}
	k.CreatedAt, k.LastUsed, k.RevokedAt, k.ExpiresAt = fromMicros(created), fromMicros(used), fromMicros(revoked), fromMicros(expires)
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
	if _, err := s.db.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.TenantID, k.Name, k.Hash, k.Prefix, k.CreatedAt.UnixMicro(), micros(k.LastUsed), micros(k.RevokedAt),
		k.ReadOnly, k.ConnectionID, store.JoinActions(k.Actions), micros(k.ExpiresAt)); err != nil {
		return fmt.Errorf("create api key: %w", mapErr(err))
	}
	return nil
}

// LookupAPIKey returns the unrevoked key with this hash and records its use
// (LastUsed), or ErrNotFound.
func (s *Store) LookupAPIKey(ctx context.Context, hash []byte) (*store.APIKey, error) {
	q, err := s.prepared(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ? AND revoked_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("lookup api key: %w", err)
	}
	k, err := scanAPIKey(q.QueryRowContext(uninterrupted(ctx), hash))
	if err != nil {
		return nil, fmt.Errorf("lookup api key: %w", err)
	}
	if t := now(); k.LastUsed.IsZero() || t.Sub(k.LastUsed) >= store.APIKeyUseResolution {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used < ?)`,
			t.UnixMicro(), k.ID, t.Add(-store.APIKeyUseResolution).UnixMicro()); err != nil {
			return nil, fmt.Errorf("lookup api key: record use: %w", err)
		}
		k.LastUsed = t.Truncate(time.Microsecond)
	}
	return k, nil
}

// ListAPIKeys returns a tenant's keys, revoked ones included, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]*store.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []*store.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey marks a tenant's key revoked (a second call keeps the first
// revocation time). Another tenant's key is ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND id = ?`,
		now().UnixMicro(), tenantID, id)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if err := expectRow(res); err != nil {
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
func connArgs(c *store.Connection) ([]any, error) {
	scopes, err := json.Marshal(nonNilStrings(c.Scopes))
	if err != nil {
		return nil, fmt.Errorf("encode scopes: %w", err)
	}
	reqs := make([]int64, 0, len(c.TokenRequests))
	for _, t := range c.TokenRequests {
		reqs = append(reqs, t.UnixMicro())
	}
	tokenReqs, err := json.Marshal(reqs)
	if err != nil {
		return nil, fmt.Errorf("encode token requests: %w", err)
	}
	policies := c.Policies
	if policies == nil {
		policies = map[string]string{}
	}
	pol, err := json.Marshal(policies)
	if err != nil {
		return nil, fmt.Errorf("encode policies: %w", err)
	}
	return []any{
		c.ID, c.TenantID, c.Name, c.ClientID, blob(c.SealedClientSecret), string(scopes), string(c.Status),
		c.Location, c.AccountsServer, c.DeskBaseURL, c.OrgID, c.OrgName, blob(c.OrgChoices),
		blob(c.SealedRefreshToken), blob(c.SealedAccessToken), micros(c.AccessExpiry), string(tokenReqs),
		c.UserID, c.UserEmail, c.UserName, string(pol), c.LastError, c.CreatedAt.UnixMicro(), c.UpdatedAt.UnixMicro(),
	}, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func scanConnection(sc scanner) (*store.Connection, error) {
	var c store.Connection
	var status, scopes, tokenReqs, policies string
	var expiry, created, updated sql.NullInt64
	if err := sc.Scan(&c.ID, &c.TenantID, &c.Name, &c.ClientID, &c.SealedClientSecret, &scopes, &status,
		&c.Location, &c.AccountsServer, &c.DeskBaseURL, &c.OrgID, &c.OrgName, &c.OrgChoices,
		&c.SealedRefreshToken, &c.SealedAccessToken, &expiry, &tokenReqs,
		&c.UserID, &c.UserEmail, &c.UserName, &policies, &c.LastError, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	c.Status = store.ConnectionStatus(status)
	c.AccessExpiry, c.CreatedAt, c.UpdatedAt = fromMicros(expiry), fromMicros(created), fromMicros(updated)
	c.SealedClientSecret = nilIfEmpty(c.SealedClientSecret)
	c.OrgChoices = nilIfEmpty(c.OrgChoices)
	c.SealedRefreshToken = nilIfEmpty(c.SealedRefreshToken)
	c.SealedAccessToken = nilIfEmpty(c.SealedAccessToken)
	if err := json.Unmarshal([]byte(scopes), &c.Scopes); err != nil {
		return nil, fmt.Errorf("decode scopes: %w", err)
	}
	if len(c.Scopes) == 0 {
		c.Scopes = nil
	}
	var reqs []int64
	if err := json.Unmarshal([]byte(tokenReqs), &reqs); err != nil {
		return nil, fmt.Errorf("decode token requests: %w", err)
	}
	for _, r := range reqs {
		c.TokenRequests = append(c.TokenRequests, time.UnixMicro(r).UTC())
	}
	if err := json.Unmarshal([]byte(policies), &c.Policies); err != nil {
		return nil, fmt.Errorf("decode policies: %w", err)
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
	args, err := connArgs(c)
	if err != nil {
		return fmt.Errorf("create connection: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO connections (`+connCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
		return fmt.Errorf("create connection: %w", mapErr(err))
	}
	return nil
}

// GetConnection returns a tenant's connection; another tenant's is ErrNotFound.
func (s *Store) GetConnection(ctx context.Context, tenantID, id string) (*store.Connection, error) {
	q, err := s.prepared(ctx, `SELECT `+connCols+` FROM connections WHERE tenant_id = ? AND id = ?`)
	if err != nil {
		return nil, fmt.Errorf("get connection: %w", err)
	}
	c, err := scanConnection(q.QueryRowContext(uninterrupted(ctx), tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("get connection: %w", err)
	}
	return c, nil
}

// GetConnectionByName returns a tenant's connection by name, or ErrNotFound.
func (s *Store) GetConnectionByName(ctx context.Context, tenantID, name string) (*store.Connection, error) {
	q, err := s.prepared(ctx, `SELECT `+connCols+` FROM connections WHERE tenant_id = ? AND name = ?`)
	if err != nil {
		return nil, fmt.Errorf("get connection by name: %w", err)
	}
	c, err := scanConnection(q.QueryRowContext(uninterrupted(ctx), tenantID, name))
	if err != nil {
		return nil, fmt.Errorf("get connection by name: %w", err)
	}
	return c, nil
}

// ListConnections returns a tenant's connections by name, or every
// tenant's when tenantID is "".
func (s *Store) ListConnections(ctx context.Context, tenantID string) ([]*store.Connection, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+connCols+` FROM connections
		WHERE ? = '' OR tenant_id = ? ORDER BY tenant_id, name`, tenantID, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	defer rows.Close()
	var out []*store.Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, fmt.Errorf("list connections: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
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
	args, err := connArgs(&cp)
	if err != nil {
		return fmt.Errorf("update connection: %w", err)
	}
	// args[2:22] are name .. last_error; args[23] is updated_at.
	set := append(append([]any{}, args[2:22]...), args[23], c.TenantID, c.ID)
	res, err := s.db.ExecContext(ctx, `UPDATE connections SET
		name = ?, client_id = ?, sealed_client_secret = ?, scopes = ?, status = ?,
		location = ?, accounts_server = ?, desk_base_url = ?, org_id = ?, org_name = ?, org_choices = ?,
		sealed_refresh_token = ?, sealed_access_token = ?, access_expiry = ?, token_requests = ?,
		user_id = ?, user_email = ?, user_name = ?, policies = ?, last_error = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, set...)
	if err != nil {
		return fmt.Errorf("update connection: %w", mapErr(err))
	}
	if err := expectRow(res); err != nil {
		return fmt.Errorf("update connection: %w", err)
	}
	c.UpdatedAt = updated
	return nil
}

// DeleteConnection deletes a tenant's connection (its sealed secrets with
// it, overwritten on disk) and its pending OAuth states.
func (s *Store) DeleteConnection(ctx context.Context, tenantID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM connections WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return fmt.Errorf("delete connection: %w", err)
	}
	if err := expectRow(res); err != nil {
		return fmt.Errorf("delete connection: %w", err)
	}
	// secure_delete zeroed the row in the new page version; a checkpoint
	// copies that into the database file and empties the WAL that still
	// holds the old page. Best effort: a busy reader only postpones it to
	// the next automatic checkpoint, so its outcome is not the caller's.
	_, _ = s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
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
	res, err := s.db.ExecContext(ctx, `INSERT INTO oauth_states (`+stateCols+`)
		SELECT ?, tenant_id, id, ?, ?, ? FROM connections WHERE tenant_id = ? AND id = ?`,
		st.Hash, st.RedirectTo, st.ExpiresAt.UnixMicro(), st.CreatedAt.UnixMicro(), st.TenantID, st.ConnectionID)
	if err != nil {
		return fmt.Errorf("create oauth state: %w", mapErr(err))
	}
	if err := expectRow(res); err != nil {
		return fmt.Errorf("create oauth state: connection: %w", err)
	}
	return nil
}

// ConsumeOAuthState atomically deletes and returns the state with this
// hash: of concurrent callers exactly one gets it, the others ErrNotFound.
func (s *Store) ConsumeOAuthState(ctx context.Context, hash []byte) (*store.OAuthState, error) {
	var st store.OAuthState
	var expires, created sql.NullInt64
	err := s.db.QueryRowContext(ctx, `DELETE FROM oauth_states WHERE hash = ? RETURNING `+stateCols, hash).
		Scan(&st.Hash, &st.TenantID, &st.ConnectionID, &st.RedirectTo, &expires, &created)
	if err != nil {
		return nil, fmt.Errorf("consume oauth state: %w", mapErr(err))
	}
	st.ExpiresAt, st.CreatedAt = fromMicros(expires), fromMicros(created)
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
	if _, err := s.db.ExecContext(ctx, `INSERT INTO login_links (hash, tenant_id, expires_at, created_at) VALUES (?, ?, ?, ?)`,
		l.Hash, l.TenantID, l.ExpiresAt.UnixMicro(), l.CreatedAt.UnixMicro()); err != nil {
		return fmt.Errorf("create login link: %w", mapErr(err))
	}
	return nil
}

// ConsumeLoginLink atomically deletes the link with this hash and returns
// it when it is live at now: of concurrent callers exactly one gets it, the
// others ErrNotFound. An expired link is deleted too, and is ErrNotFound.
func (s *Store) ConsumeLoginLink(ctx context.Context, hash []byte, now time.Time) (*store.LoginLink, error) {
	var l store.LoginLink
	var expires, created sql.NullInt64
	err := s.db.QueryRowContext(ctx, `DELETE FROM login_links WHERE hash = ? RETURNING hash, tenant_id, expires_at, created_at`, hash).
		Scan(&l.Hash, &l.TenantID, &expires, &created)
	if err != nil {
		return nil, fmt.Errorf("consume login link: %w", mapErr(err))
	}
	l.ExpiresAt, l.CreatedAt = fromMicros(expires), fromMicros(created)
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
	if _, err := s.db.ExecContext(ctx, `INSERT INTO web_sessions (hash, tenant_id, csrf, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
		sess.Hash, sess.TenantID, sess.CSRF, sess.ExpiresAt.UnixMicro(), sess.CreatedAt.UnixMicro()); err != nil {
		return fmt.Errorf("create session: %w", mapErr(err))
	}
	return nil
}

// GetSession returns the session with this hash if it is live at now, else
// ErrNotFound.
func (s *Store) GetSession(ctx context.Context, hash []byte, now time.Time) (*store.Session, error) {
	var sess store.Session
	var expires, created sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT hash, tenant_id, csrf, expires_at, created_at FROM web_sessions
		WHERE hash = ? AND expires_at > ?`, hash, now.UnixMicro()).
		Scan(&sess.Hash, &sess.TenantID, &sess.CSRF, &expires, &created)
	if err != nil {
		return nil, fmt.Errorf("get session: %w", mapErr(err))
	}
	sess.ExpiresAt, sess.CreatedAt = fromMicros(expires), fromMicros(created)
	return &sess, nil
}

// DeleteSession removes the session with this hash, or returns ErrNotFound.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM web_sessions WHERE hash = ?`, hash)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if err := expectRow(res); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// ListSessions returns tenantID's sessions live at now, newest first.
func (s *Store) ListSessions(ctx context.Context, tenantID string, now time.Time) ([]*store.Session, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT hash, tenant_id, csrf, expires_at, created_at FROM web_sessions
		WHERE tenant_id = ? AND expires_at > ? ORDER BY created_at DESC, hash`, tenantID, now.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []*store.Session
	for rows.Next() {
		var sess store.Session
		var expires, created sql.NullInt64
		if err := rows.Scan(&sess.Hash, &sess.TenantID, &sess.CSRF, &expires, &created); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		sess.ExpiresAt, sess.CreatedAt = fromMicros(expires), fromMicros(created)
		out = append(out, &sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// ---- Idempotency ----

const idemCols = `tenant_id, connection_id, action, key, input_hash, state, result, created_at, updated_at, expires_at, owner, heartbeat_at, dispatched_at, settle_input, settle_attempts, next_settle_at`
const idemWhere = `tenant_id = ? AND connection_id = ? AND action = ? AND key = ?`

func idemKeyArgs(k store.IdemKey) []any {
	return []any{k.TenantID, k.ConnectionID, k.Action, k.Key}
}

func scanIdem(sc scanner) (*store.IdemRecord, error) {
	var r store.IdemRecord
	var state string
	var created, updated, expires, heartbeat, dispatched, nextSettle sql.NullInt64
	if err := sc.Scan(&r.TenantID, &r.ConnectionID, &r.Action, &r.Key, &r.InputHash, &state, &r.Result,
		&created, &updated, &expires, &r.Owner, &heartbeat, &dispatched, &r.SettleInput, &r.SettleAttempts, &nextSettle); err != nil {
		return nil, mapErr(err)
	}
	r.State = store.IdemState(state)
	r.CreatedAt, r.UpdatedAt, r.ExpiresAt = fromMicros(created), fromMicros(updated), fromMicros(expires)
	r.HeartbeatAt, r.DispatchedAt, r.NextSettleAt = fromMicros(heartbeat), fromMicros(dispatched), fromMicros(nextSettle)
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
	tx, err := s.db.BeginTx(ctx, nil) // immediate: holds the write lock throughout
	if err != nil {
		return nil, false, fmt.Errorf("begin idempotent: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_records WHERE `+idemWhere+` AND expires_at <= ?`,
		append(idemKeyArgs(rec.IdemKey), t.UnixMicro())...); err != nil {
		return nil, false, fmt.Errorf("begin idempotent: %w", err)
	}
	// RETURNING yields a row only when the insert happened.
	var inserted int
	err = tx.QueryRowContext(ctx, `INSERT INTO idempotency_records (`+idemCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 0, NULL) ON CONFLICT DO NOTHING RETURNING 1`,
		rec.TenantID, rec.ConnectionID, rec.Action, rec.Key, blob(rec.InputHash), string(store.IdemPending), blob(rec.Result),
		t.UnixMicro(), t.UnixMicro(), rec.ExpiresAt.UnixMicro(), rec.Owner, micros(rec.HeartbeatAt), blob(rec.SettleInput)).Scan(&inserted)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("begin idempotent: %w", err)
	}
	if inserted == 1 {
		if err := tx.Commit(); err != nil {
			return nil, false, fmt.Errorf("begin idempotent: commit: %w", err)
		}
		rec.State, rec.CreatedAt, rec.UpdatedAt = store.IdemPending, t, t
		rec.ExpiresAt = rec.ExpiresAt.UTC().Truncate(time.Microsecond)
		rec.HeartbeatAt = fromMicros(micros(rec.HeartbeatAt))
		rec.DispatchedAt, rec.SettleAttempts, rec.NextSettleAt = time.Time{}, 0, time.Time{}
		return rec, true, nil
	}
	existing, err := scanIdem(tx.QueryRowContext(ctx, `SELECT `+idemCols+` FROM idempotency_records WHERE `+idemWhere,
		idemKeyArgs(rec.IdemKey)...))
	if err != nil {
		return nil, false, fmt.Errorf("begin idempotent: %w", err)
	}
	return existing, false, nil
}

// ClaimIdempotent hands a live pending or unknown record over to owner if
// it is still held by prevOwner with heartbeat prevHeartbeat; see
// store.Store.
func (s *Store) ClaimIdempotent(ctx context.Context, key store.IdemKey, prevOwner string, prevHeartbeat time.Time, owner string, at time.Time) error {
	t := now().UnixMicro()
	res, err := s.db.ExecContext(ctx, `UPDATE idempotency_records SET owner = ?, heartbeat_at = ?, updated_at = ?
		WHERE `+idemWhere+` AND expires_at > ? AND state IN ('pending', 'unknown') AND owner = ? AND heartbeat_at IS ?`,
		append(append([]any{owner, micros(at), t}, idemKeyArgs(key)...), t, prevOwner, micros(prevHeartbeat))...)
	if err != nil {
		return fmt.Errorf("claim idempotent: %w", err)
	}
	if err := expectRow(res); err != nil {
		if _, gerr := s.GetIdempotent(ctx, key); gerr == nil {
			err = store.ErrConflict
		}
		return fmt.Errorf("claim idempotent: %w", err)
	}
	return nil
}

// HeartbeatIdempotent renews owner's lease; see store.Store.
func (s *Store) HeartbeatIdempotent(ctx context.Context, key store.IdemKey, owner string, at time.Time) error {
	t := now().UnixMicro()
	res, err := s.db.ExecContext(ctx, `UPDATE idempotency_records SET heartbeat_at = ?
		WHERE `+idemWhere+` AND expires_at > ? AND owner = ? AND heartbeat_at IS NOT NULL`,
		append(append([]any{micros(at)}, idemKeyArgs(key)...), t, owner)...)
	if err != nil {
		return fmt.Errorf("heartbeat idempotent: %w", err)
	}
	if err := expectRow(res); err != nil {
		return fmt.Errorf("heartbeat idempotent: %w", err)
	}
	return nil
}

// DispatchIdempotent records that owner's request is about to write to
// Zoho; see store.Store.
func (s *Store) DispatchIdempotent(ctx context.Context, key store.IdemKey, owner string, at time.Time) error {
	t := now().UnixMicro()
	res, err := s.db.ExecContext(ctx, `UPDATE idempotency_records SET dispatched_at = coalesce(dispatched_at, ?), updated_at = ?
		WHERE `+idemWhere+` AND expires_at > ? AND state = 'pending' AND owner = ? AND heartbeat_at IS NOT NULL`,
		append(append([]any{micros(at), t}, idemKeyArgs(key)...), t, owner)...)
	if err != nil {
		return fmt.Errorf("dispatch idempotent: %w", err)
	}
	if err := expectRow(res); err != nil {
		return fmt.Errorf("dispatch idempotent: %w", err)
	}
	return nil
}

// FinishIdempotent sets the state and result of a live record held by
// owner and releases its lease, or returns ErrNotFound.
func (s *Store) FinishIdempotent(ctx context.Context, key store.IdemKey, owner string, state store.IdemState, result []byte) error {
	t := now().UnixMicro()
	res, err := s.db.ExecContext(ctx, `UPDATE idempotency_records SET state = ?, result = ?, updated_at = ?, heartbeat_at = NULL
		WHERE `+idemWhere+` AND expires_at > ? AND owner = ?`,
		append([]any{string(state), blob(result), t}, append(idemKeyArgs(key), t, owner)...)...)
	if err != nil {
		return fmt.Errorf("finish idempotent: %w", err)
	}
	if err := expectRow(res); err != nil {
		return fmt.Errorf("finish idempotent: %w", err)
	}
	return nil
}

// ListSettleable returns the records a background pass may settle; see
// store.SettleQuery.
func (s *Store) ListSettleable(ctx context.Context, q store.SettleQuery) ([]*store.IdemRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+idemCols+` FROM idempotency_records
		WHERE state IN ('pending', 'unknown') AND settle_input IS NOT NULL AND expires_at > ? AND dispatched_at IS NOT NULL
		AND (heartbeat_at IS NULL OR heartbeat_at < ?)
		AND (CASE WHEN next_settle_at IS NULL THEN dispatched_at <= ? ELSE next_settle_at <= ? END)
		ORDER BY coalesce(next_settle_at, dispatched_at) LIMIT ?`,
		q.Now.UnixMicro(), q.HeldBefore.UnixMicro(), q.DispatchedBefore.UnixMicro(), q.Now.UnixMicro(), q.Limit)
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
	res, err := s.db.ExecContext(ctx, `UPDATE idempotency_records SET settle_attempts = settle_attempts + 1, next_settle_at = ?,
		settle_input = CASE WHEN ? THEN NULL ELSE settle_input END
		WHERE `+idemWhere+` AND expires_at > ? AND owner = ?`,
		append(append([]any{micros(next), drop}, idemKeyArgs(key)...), now().UnixMicro(), owner)...)
	if err != nil {
		return fmt.Errorf("defer settle: %w", err)
	}
	if err := expectRow(res); err != nil {
		return fmt.Errorf("defer settle: %w", err)
	}
	return nil
}

// GetIdempotent returns the live record with this key, or ErrNotFound.
func (s *Store) GetIdempotent(ctx context.Context, key store.IdemKey) (*store.IdemRecord, error) {
	r, err := scanIdem(s.db.QueryRowContext(ctx, `SELECT `+idemCols+` FROM idempotency_records
		WHERE `+idemWhere+` AND expires_at > ?`, append(idemKeyArgs(key), now().UnixMicro())...))
	if err != nil {
		return nil, fmt.Errorf("get idempotent: %w", err)
	}
	return r, nil
}

// DeleteIdempotent removes the record with this key held by owner, or
// returns ErrNotFound.
func (s *Store) DeleteIdempotent(ctx context.Context, key store.IdemKey, owner string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM idempotency_records WHERE `+idemWhere+` AND owner = ?`, append(idemKeyArgs(key), owner)...)
	if err != nil {
		return fmt.Errorf("delete idempotent: %w", err)
	}
	if err := expectRow(res); err != nil {
		return fmt.Errorf("delete idempotent: %w", err)
	}
	return nil
}

// PurgeExpired deletes idempotency records, OAuth states, login links and
// sessions that expired at or before now.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("purge expired: %w", err)
	}
	defer tx.Rollback()
	for _, table := range []string{"idempotency_records", "oauth_states", "login_links", "web_sessions", "mcp_tokens"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at <= ?`, now.UnixMicro()); err != nil {
			return fmt.Errorf("purge expired %s: %w", table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("purge expired: commit: %w", err)
	}
	return nil
}

// ---- Audit ----

const auditCols = `id, time, tenant_id, api_key_id, connection_id, action, outcome, zoho_request_id, duration_ns, detail`

// AppendAudit appends r, setting ID, and Time when zero. It returns once r
// (and its write marks) are committed; concurrent calls share one
// transaction (group commit), so a burst of writes waits for one commit,
// not one each behind the database's single writer.
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
// audits group's commit. Every successful write appends a record after Zoho
// answered and before the caller is: the statements are prepared once, and
// not interrupted.
func (s *Store) appendAudits(ctx context.Context, recs []*store.AuditRecord) error {
	ctx = uninterrupted(ctx)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q, err := s.txStmt(ctx, tx, insertAuditQuery)
	if err != nil {
		return err
	}
	var mark *sql.Stmt
	for _, r := range recs {
		// The id is the row's rowid (INTEGER PRIMARY KEY): read back as the
		// last inserted rowid, without RETURNING's result set (about half
		// of the insert's cost through database/sql in BenchmarkAppendAudit's
		// profile).
		res, err := q.ExecContext(ctx, r.Time.UnixMicro(), r.TenantID, r.APIKeyID, r.ConnectionID, r.Action, r.Outcome,
			r.ZohoRequestID, int64(r.Duration), r.Detail)
		if err != nil {
			return err
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		for _, m := range r.WriteMarks() {
			if mark == nil {
				if mark, err = s.txStmt(ctx, tx, upsertWriteMarkQuery); err != nil {
					return fmt.Errorf("write mark: %w", err)
				}
			}
			// A later write of the same change (the same key) replaces the mark.
			if _, err := mark.ExecContext(ctx, m.ConnectionID, m.Key, m.Action, m.APIKeyID, m.At.UnixMicro()); err != nil {
				return fmt.Errorf("write mark: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// PurgeAudit deletes audit records older than before.
func (s *Store) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM audit_log WHERE time < ?`, before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("purge audit: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge audit: %w", err)
	}
	return n, nil
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
	rows, err := s.db.QueryContext(ctx, `SELECT `+auditCols+` FROM audit_log
		WHERE tenant_id = ? AND (? = '' OR connection_id = ?) AND (? = '' OR action = ?)
		AND (? = '' OR outcome = ?) AND (? = '' OR api_key_id = ?) AND (? = 0 OR id < ?)
		ORDER BY id DESC LIMIT ?`,
		f.TenantID, f.ConnectionID, f.ConnectionID, f.Action, f.Action, f.Outcome, f.Outcome,
		f.APIKeyID, f.APIKeyID, f.BeforeID, f.BeforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []*store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var t sql.NullInt64
		var d int64
		if err := rows.Scan(&r.ID, &t, &r.TenantID, &r.APIKeyID, &r.ConnectionID, &r.Action, &r.Outcome,
			&r.ZohoRequestID, &d, &r.Detail); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		r.Time, r.Duration = fromMicros(t), time.Duration(d)
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}
