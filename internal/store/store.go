// Package store defines deskconn's persistence contract: tenants, API keys,
// connections (with sealed secrets), OAuth states, login links and web
// sessions, idempotency records and the audit log. Two backends implement it, internal/store/sqlite (the embedded
// default) and internal/store/postgres (several replicas), and both pass the
// one acceptance suite in internal/store/storetest.
//
// The store never sees a secret in the clear: client secrets and tokens
// arrive already sealed by internal/seal, as opaque bytes. API keys are
// stored as hashes only, as are OAuth states, login links and session ids.
//
// Every method is safe for concurrent use, from many goroutines and (for
// Postgres, and SQLite on one machine) from several processes.
//
// Errors: a missing row is ErrNotFound; a unique-constraint clash is
// ErrConflict. Both are matched with errors.Is.
//
// Times are stored with microsecond precision (Postgres' resolution) and
// returned in UTC.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// NewID returns a fresh random identifier, prefix + "_" + 24 hex digits
// (96 random bits), e.g. NewID("conn"). Create methods call it for rows whose
// ID is empty; callers that must seal secrets bound to a row before the row
// exists call it themselves and set the ID.
func NewID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + "_" + hex.EncodeToString(b[:])
}

// SettingBaseURL names the setting that holds the public base URL the
// latest `deskconn serve` on this database answers on, so that commands
// run without --base-url show the same OAuth redirect URL as its connect
// page.
const SettingBaseURL = "base_url"

// Sentinel errors, matched with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: conflict")
)

// Tenant owns connections and API keys. Nothing crosses tenants.
type Tenant struct {
	ID        string
	Name      string // unique
	CreatedAt time.Time
}

// APIKey is an API key's stored half: only the SHA-256 hash of the key.
type APIKey struct {
	ID        string
	TenantID  string
	Name      string
	Hash      []byte // sha256 of the full key; unique
	Prefix    string // first characters of the key, shown in listings
	CreatedAt time.Time
	LastUsed  time.Time // zero if never used
	RevokedAt time.Time // zero while the key is valid

	// Scope. The zero values give the key its tenant's whole reach.
	ReadOnly     bool      // the key may run read actions only
	ConnectionID string    // "" or the only connection the key reaches
	Actions      []string  // nil or the only actions the key may run (names without commas)
	ExpiresAt    time.Time // zero: never; else the key is refused from then on
}

// ConnectionStatus is the life-cycle state of a connection.
type ConnectionStatus string

// Connection states.
const (
	StatusPending     ConnectionStatus = "pending"      // created, never connected
	StatusChooseOrg   ConnectionStatus = "choose_org"   // tokens held, the person must pick an org
	StatusActive      ConnectionStatus = "active"       // usable
	StatusNeedsReauth ConnectionStatus = "needs_reauth" // refresh token refused: reconnect
)

// Connection is one OAuth connection to one Zoho Desk organisation.
// Fields named Sealed* hold internal/seal ciphertexts bound to this row and
// column; an empty slice means "none".
type Connection struct {
	ID       string
	TenantID string
	Name     string // unique per tenant

	ClientID           string
	SealedClientSecret []byte
	Scopes             []string // requested scopes

	Status ConnectionStatus

	// Data centre, set by the OAuth callback: the location code and the
	// accounts server it was checked against, plus the Desk API base URL
	// taken from the regions table.
	Location       string
	AccountsServer string
	DeskBaseURL    string

	OrgID      string // the default organisation; "" until chosen
	OrgName    string
	OrgChoices []byte // JSON list of organisations while Status is StatusChooseOrg

	SealedRefreshToken []byte
	SealedAccessToken  []byte
	AccessExpiry       time.Time

	// TokenRequests holds the times of token-endpoint calls made with the
	// current refresh token in the last window, for the per-refresh-token
	// budget shared by every replica.
	TokenRequests []time.Time

	// Self-test result: who the token belongs to.
	UserID    string
	UserEmail string
	UserName  string

	// Policies maps action name to "allow", "deny" or "confirm".
	Policies map[string]string

	LastError string // a safe, human-readable description of the last failure
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OAuthState is a pending authorization request. The state value itself is
// never stored: Hash is its SHA-256.
type OAuthState struct {
	Hash         []byte
	TenantID     string
	ConnectionID string
	RedirectTo   string // where the person goes after the callback (optional)
	ExpiresAt    time.Time
	CreatedAt    time.Time
}

// LoginLink is a pending one-time login link for the connect page. The
// link's token is never stored: Hash is its SHA-256.
type LoginLink struct {
	Hash      []byte
	TenantID  string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Session is a signed-in person on the connect page. The session id (the
// cookie value) is never stored: Hash is its SHA-256. CSRF is the random
// token the session's forms must echo; it is stored as is, because on its
// own (without the cookie) it grants nothing.
type Session struct {
	Hash      []byte
	TenantID  string
	CSRF      string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// APIKeyUseResolution is how precisely LookupAPIKey records a key's last
// use.
const APIKeyUseResolution = time.Minute

// IdemState is the state of an idempotency record.
type IdemState string

// Idempotency record states.
const (
	IdemPending   IdemState = "pending"   // the first request is running (or its process died: see HeartbeatAt)
	IdemSucceeded IdemState = "succeeded" // Result holds the output to replay
	IdemFailed    IdemState = "failed"    // Result holds the error to replay; nothing was written at Zoho
	IdemUnknown   IdemState = "unknown"   // the request was sent and its answer lost
)

// IdemKey identifies an idempotency record.
type IdemKey struct {
	TenantID     string
	ConnectionID string
	Action       string
	Key          string
}

// IdemRecord is the stored outcome of the first request with a key.
type IdemRecord struct {
	IdemKey
	InputHash []byte // sha256 of the canonical input
	State     IdemState
	Result    []byte // JSON output (succeeded) or error (failed, unknown)
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
	// Owner identifies the request (one process's one attempt) that holds
	// the record while it runs or settles it; "" for none.
	Owner string
	// HeartbeatAt is the owner's last sign of life: the owner renews it
	// while it runs. A zero HeartbeatAt (the record is finished, or was
	// written before leases existed) means nobody holds the record.
	HeartbeatAt time.Time
	// DispatchedAt is when the first Zoho write request of the record's
	// request may have left the process (zero: it never did, so running the
	// request again cannot write twice).
	DispatchedAt time.Time
	// SettleInput is what the action's settler needs of the input, sealed
	// by the registry (opaque to the store; nil: the record cannot be
	// settled in the background). It is written by BeginIdempotent.
	SettleInput []byte
	// SettleAttempts counts background settling passes that could not
	// decide the record; NextSettleAt is when the next may run (zero: once
	// the dispatch is old enough). See DeferSettle.
	SettleAttempts int
	NextSettleAt   time.Time
}

// SettleQuery selects the records a background pass may settle: live,
// pending or unknown, dispatched, with a SettleInput, not held by a live
// request (HeartbeatAt zero or before HeldBefore), and due: NextSettleAt
// at or before Now, or, when it is zero, DispatchedAt at or before
// DispatchedBefore. At most Limit, those due longest first.
type SettleQuery struct {
	Now              time.Time
	HeldBefore       time.Time
	DispatchedBefore time.Time
	Limit            int
}

// AuditRecord is one write made (or refused) through an action. It never
// holds secrets or file contents.
type AuditRecord struct {
	ID            int64
	Time          time.Time
	TenantID      string
	APIKeyID      string // "" for the CLI or the web page
	ConnectionID  string
	Action        string
	Outcome       string // "ok", "dry_run", or a domain error code
	ZohoRequestID string
	Duration      time.Duration
	Detail        string // short, safe summary (e.g. ticket id created)
	// Writes are the changes the action made in Zoho Desk, for a write
	// that succeeded: AppendAudit stores them as write marks in the same
	// transaction as the record (EventStore.MatchWrites). ConnectionID and
	// At of each are the record's when empty.
	Writes []WriteMark
}

// WriteMarks returns r.Writes with the record's connection, action, API
// key and time where a mark leaves them empty, its time truncated to the
// microsecond.
func (r *AuditRecord) WriteMarks() []WriteMark {
	out := make([]WriteMark, len(r.Writes))
	for i, m := range r.Writes {
		if m.ConnectionID == "" {
			m.ConnectionID = r.ConnectionID
		}
		if m.Action == "" {
			m.Action = r.Action
		}
		if m.APIKeyID == "" {
			m.APIKeyID = r.APIKeyID
		}
		if m.At.IsZero() {
			m.At = r.Time
		}
		m.At = m.At.UTC().Truncate(time.Microsecond)
		out[i] = m
	}
	return out
}

// AuditFilter selects audit records.
type AuditFilter struct {
	TenantID     string // required
	ConnectionID string // optional
	Action       string // optional
	Outcome      string // optional
	APIKeyID     string // optional
	// BeforeID, if not 0, selects records with ID below it: the next page
	// after a page whose last (oldest) record had this ID.
	BeforeID int64
	Limit    int // 0 means 100
}

// Store is the persistence contract. See the package doc for errors and
// concurrency.
type Store interface {
	// Tenants.
	CreateTenant(ctx context.Context, t *Tenant) error // sets ID and CreatedAt; ErrConflict on a duplicate name
	GetTenant(ctx context.Context, id string) (*Tenant, error)
	GetTenantByName(ctx context.Context, name string) (*Tenant, error)
	ListTenants(ctx context.Context) ([]*Tenant, error)

	// API keys.
	CreateAPIKey(ctx context.Context, k *APIKey) error // sets ID and CreatedAt
	// LookupAPIKey finds a valid (unrevoked) key by hash and records its
	// use: LastUsed is the time of a use within the last
	// APIKeyUseResolution (recording every use would make each API call a
	// write).
	LookupAPIKey(ctx context.Context, hash []byte) (*APIKey, error)
	ListAPIKeys(ctx context.Context, tenantID string) ([]*APIKey, error)
	RevokeAPIKey(ctx context.Context, tenantID, id string) error

	// Connections. Get and list calls are scoped to a tenant: another
	// tenant's connection is ErrNotFound.
	//
	// CreateConnection sets CreatedAt and UpdatedAt, and ID when it is empty
	// (a caller-set ID is kept, so secrets can be sealed for the row before
	// it exists); ErrConflict on a duplicate name or ID, ErrNotFound when
	// the tenant does not exist.
	CreateConnection(ctx context.Context, c *Connection) error
	GetConnection(ctx context.Context, tenantID, id string) (*Connection, error)
	GetConnectionByName(ctx context.Context, tenantID, name string) (*Connection, error)
	// ListConnections lists a tenant's connections; tenantID "" lists all
	// (for key rotation and health reports).
	ListConnections(ctx context.Context, tenantID string) ([]*Connection, error)
	// UpdateConnection writes every field of c (matched by TenantID and ID)
	// and sets UpdatedAt.
	UpdateConnection(ctx context.Context, c *Connection) error
	DeleteConnection(ctx context.Context, tenantID, id string) error

	// WithRefreshLock runs fn while holding the deployment-wide refresh lock
	// of one connection: no other goroutine or process holding the same
	// store runs fn for that connection at the same time. fn must re-read
	// the connection after the lock is taken. The lock is released when fn
	// returns, or when ctx ends (then ctx's error is returned).
	WithRefreshLock(ctx context.Context, connectionID string, fn func(ctx context.Context) error) error

	// OAuth states.
	CreateOAuthState(ctx context.Context, s *OAuthState) error
	// ConsumeOAuthState deletes and returns the state with this hash. A
	// second call for the same hash is ErrNotFound (single use). Expiry is
	// the caller's check.
	ConsumeOAuthState(ctx context.Context, hash []byte) (*OAuthState, error)

	// Login links and web sessions of the connect page, shared by every
	// replica. Expiry is checked against the caller's now, so the caller's
	// clock decides.
	//
	// CreateLoginLink stores l, setting CreatedAt when zero; ErrNotFound
	// when the tenant does not exist, ErrConflict on a duplicate hash.
	CreateLoginLink(ctx context.Context, l *LoginLink) error
	// ConsumeLoginLink deletes and returns the link with this hash if it
	// is live at now (ExpiresAt after now). Of concurrent callers exactly
	// one gets it; the others, replays and expired links get ErrNotFound.
	ConsumeLoginLink(ctx context.Context, hash []byte, now time.Time) (*LoginLink, error)
	// CreateSession stores sess, setting CreatedAt when zero; ErrNotFound
	// when the tenant does not exist, ErrConflict on a duplicate hash.
	CreateSession(ctx context.Context, sess *Session) error
	// GetSession returns the session with this hash if it is live at now
	// (ExpiresAt after now), else ErrNotFound.
	GetSession(ctx context.Context, hash []byte, now time.Time) (*Session, error)
	// DeleteSession removes the session with this hash (sign out), or
	// returns ErrNotFound.
	DeleteSession(ctx context.Context, hash []byte) error
	// ListSessions returns tenantID's sessions live at now, newest first
	// (the console's sessions list).
	ListSessions(ctx context.Context, tenantID string, now time.Time) ([]*Session, error)

	// Idempotency.
	//
	// A record is held by its Owner, a lease the owner renews with
	// HeartbeatIdempotent; every later change of a held record names the
	// owner, and a store refuses it (ErrNotFound) once another owner has
	// claimed the record, so a request whose lease was taken can neither
	// dispatch nor overwrite the new owner's outcome.
	//
	// BeginIdempotent inserts rec (State IdemPending, with rec's Owner and
	// HeartbeatAt, DispatchedAt zero) if no live record has its key, and
	// returns (rec, true). Otherwise it returns the existing record and
	// false. Expired records count as absent.
	BeginIdempotent(ctx context.Context, rec *IdemRecord) (*IdemRecord, bool, error)
	// ClaimIdempotent makes owner the holder of a live pending or unknown
	// record, with HeartbeatAt at, provided it is still held by prevOwner
	// with heartbeat prevHeartbeat (as last read): a compare-and-swap, so of
	// concurrent claimers exactly one wins. State, Result and DispatchedAt
	// are kept. Otherwise it returns ErrConflict (ErrNotFound if the record
	// is gone).
	ClaimIdempotent(ctx context.Context, key IdemKey, prevOwner string, prevHeartbeat time.Time, owner string, at time.Time) error
	// HeartbeatIdempotent renews owner's lease (HeartbeatAt = at), or
	// returns ErrNotFound when owner no longer holds the record.
	HeartbeatIdempotent(ctx context.Context, key IdemKey, owner string, at time.Time) error
	// DispatchIdempotent records that owner's request is about to send a
	// write to Zoho: it sets DispatchedAt to at unless already set. It
	// returns ErrNotFound when owner no longer holds a pending record; the
	// write must then not be sent.
	DispatchIdempotent(ctx context.Context, key IdemKey, owner string, at time.Time) error
	// FinishIdempotent sets the state and result of a record held by owner
	// and releases the lease (HeartbeatAt zero), or returns ErrNotFound.
	FinishIdempotent(ctx context.Context, key IdemKey, owner string, state IdemState, result []byte) error
	// ListSettleable returns the records a background pass may settle (see
	// SettleQuery).
	ListSettleable(ctx context.Context, q SettleQuery) ([]*IdemRecord, error)
	// DeferSettle records a background settling attempt on a record whose
	// owner is owner (held, or finished by it): SettleAttempts+1 and
	// NextSettleAt = next; with drop, SettleInput is cleared so that no
	// later pass looks again. It returns ErrNotFound when owner no longer
	// owns the record.
	DeferSettle(ctx context.Context, key IdemKey, owner string, next time.Time, drop bool) error
	// GetIdempotent returns a live record.
	GetIdempotent(ctx context.Context, key IdemKey) (*IdemRecord, error)
	// DeleteIdempotent removes a record held by owner (used when a failure
	// wrote nothing and the caller may retry with the same key), or returns
	// ErrNotFound.
	DeleteIdempotent(ctx context.Context, key IdemKey, owner string) error
	// PurgeExpired deletes idempotency records, OAuth states, login links,
	// sessions and MCP codes and tokens that expired at or before now.
	PurgeExpired(ctx context.Context, now time.Time) error

	// Audit.
	AppendAudit(ctx context.Context, r *AuditRecord) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditRecord, error)
	// PurgeAudit deletes every tenant's audit records whose Time is before
	// before, and returns how many it deleted (the retention of the audit
	// log; see Janitor).
	PurgeAudit(ctx context.Context, before time.Time) (int64, error)

	// Settings: deployment-wide values by name (see SettingBaseURL).
	//
	// PutSetting stores value under name, replacing any earlier value.
	PutSetting(ctx context.Context, name, value string) error
	// GetSetting returns the value stored under name, or ErrNotFound.
	GetSetting(ctx context.Context, name string) (string, error)

	// Events: the event log, subscriptions and deliveries (events.go).
	EventStore

	// MCP sign-in: clients, grants and tokens (mcpauth.go).
	MCPAuthStore

	// Per-minute call counts of every action call (usage.go).
	UsageStore

	// Ping checks the database is reachable (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}

// JoinActions encodes APIKey.Actions for a text column ("" for nil).
func JoinActions(actions []string) string { return strings.Join(actions, ",") }

// SplitActions decodes what JoinActions encoded (nil for "").
func SplitActions(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
