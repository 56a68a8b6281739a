// Package connection manages deskconn's OAuth connections to Zoho Desk: the
// connect flow (single-use state, data-centre discovery checked against the
// regions table, code exchange, organisation choice, self-test), the sealed
// tokens at rest, and a persisted token source that refreshes at most once
// per connection at a time across the whole deployment and never spends more
// than its token budget.
//
// Every secret (client secret, access token, refresh token) is sealed with
// internal/seal before it reaches the store, bound to its row and column.
// No error or log line carries a secret.
package connection

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// DefaultScopes is the scope list a new connection asks for: the list the
// spec's "Add connection" pre-fills, plus Desk.search.READ, without which
// Zoho refuses the search endpoints that get_ticket, update_ticket and
// move_tickets_to_trash use to select tickets by subject or number, and
// the search_tickets and search_contacts lookups (facts §3.3, §3.9.7);
// plus Desk.contacts.CREATE/UPDATE/DELETE, which the contact and account
// actions need (accounts use the contacts scopes), Desk.articles.READ
// for the knowledge-base actions (facts part 2 §7), and Desk.events.ALL,
// without which Zoho refuses to manage the webhook that delivers the
// connection's events (zoho-desk-api-2.md §1.1, §7): such a connection
// gets its events by polling instead.
var DefaultScopes = []string{
	"Desk.tickets.ALL", "Desk.settings.READ", "Desk.basic.READ", "Desk.contacts.READ",
	"Desk.settings.CREATE", "Desk.basic.CREATE", "Desk.settings.UPDATE", "Desk.basic.UPDATE",
	"Desk.search.READ", "Desk.contacts.CREATE", "Desk.contacts.UPDATE", "Desk.contacts.DELETE",
	"Desk.articles.READ", "Desk.events.ALL",
}

// Defaults of Options.
const (
	DefaultTokenBudget  = 5                // token requests per window per refresh token: half Zoho's 10
	DefaultTokenWindow  = 10 * time.Minute // Zoho's window for the per-refresh-token limit
	DefaultRefreshAhead = 5 * time.Minute
	DefaultStateTTL     = 10 * time.Minute
	// refreshTimeout bounds one token-endpoint round trip made on behalf of
	// many waiting callers.
	refreshTimeout = 30 * time.Second
	// refreshFlightTimeout bounds a whole refresh: waiting for the
	// deployment-wide refresh lock (a crashed holder's SQLite lease lasts
	// 10 s) plus one token-endpoint round trip.
	refreshFlightTimeout = 2 * refreshTimeout
)

// The columns sealed values are bound to (seal.AAD.Column).
const (
	tableConnections = "connections"
	colClientSecret  = "client_secret"
	colRefreshToken  = "refresh_token"
	colAccessToken   = "access_token"
)

// Sentinel causes of connect-flow failures, matched with errors.Is on the
// *deskconn.Error that Callback returns. Pages use them to say what to do.
var (
	// ErrConsentDenied: the person clicked "Deny" on Zoho's consent page.
	ErrConsentDenied = errors.New("connection: consent denied")
	// ErrStateInvalid: the state is missing, unknown, already used or expired.
	ErrStateInvalid = errors.New("connection: invalid or used state")
	// ErrStateExpired: the state was found but is older than its TTL.
	ErrStateExpired = errors.New("connection: expired state")
	// ErrUnknownAccountsServer: the callback named an accounts server that is
	// not in the regions table; nothing was sent to it.
	ErrUnknownAccountsServer = errors.New("connection: unknown accounts server")
	// ErrZoho: Zoho refused the exchange, or the organisation list or
	// self-test failed.
	ErrZoho = errors.New("connection: zoho error")
	// ErrOtherOrg: a reconnect signed in a Zoho user who cannot reach the
	// organisation the connection is bound to, and rebinding was not asked
	// for (AuthorizeURLRebind).
	ErrOtherOrg = errors.New("connection: consent for another organisation")
)

// Options configure a Manager. Store, Keyring, Regions and BaseURL are
// required.
type Options struct {
	Store   store.Store
	Keyring *seal.Keyring
	// Regions is the data-centre table; only accounts servers in it are
	// ever sent a secret.
	Regions *zohodesk.Regions
	// EntryLocation is the region whose accounts server starts the
	// authorize flow (Zoho redirects to the user's own DC); default "us".
	EntryLocation string
	// HTTPClient makes every call to Zoho (token endpoint and Desk); a
	// Timeout set on it bounds every attempt of both, uploads and downloads
	// included. Default: zohodesk.NewTransport's transport, a token-endpoint
	// round trip bounded to 30 s and Desk calls bounded by the Desk client
	// (zohodesk.Config.AttemptTimeout and StallTimeout: a large attachment
	// takes as long as it needs while it keeps moving).
	HTTPClient *http.Client
	// BaseURL is the public base URL of the deskconn server; the OAuth
	// callback is BaseURL + "/oauth/callback".
	BaseURL string
	Now     func() time.Time
	Logger  *slog.Logger
	// TokenBudget is the most token requests made per TokenWindow with one
	// refresh token, counted across every replica; default 5.
	TokenBudget int
	TokenWindow time.Duration
	// RefreshAhead is how long before expiry an access token is refreshed;
	// default 5 minutes.
	RefreshAhead time.Duration
	// StateTTL is the lifetime of an authorize state; default 10 minutes.
	StateTTL time.Duration
	// DeskLimiter is shared by every client the Manager builds (optional).
	DeskLimiter zohodesk.Limiter
	// OnDeskResponse, if set, is installed as zohodesk.Config.OnResponse of
	// every Desk client the Manager builds (for metrics). It must be quick
	// and safe for concurrent use.
	OnDeskResponse func(zohodesk.ResponseInfo)
	// OnRefresh, if set, is called once per token-refresh attempt with its
	// result: "ok", "needs_reauth", "throttled", "budget" (our own budget
	// refused it) or "error". It must be quick and safe for concurrent use.
	OnRefresh func(result string)
}

// Manager creates connections, runs the connect flow and hands out Desk
// clients with persisted token sources. It is safe for concurrent use; run
// one per process and share it.
type Manager struct {
	opts Options
	// oauthClient makes the calls to Zoho Accounts (opts.HTTPClient, or by
	// default its transport with each round trip bounded).
	oauthClient *http.Client
	log         *slog.Logger
	group       singleflight.Group

	mu    sync.Mutex
	cache map[string]cachedToken // connection id -> last access token seen

	conns *store.VersionedCache[*store.Connection] // tenant id + NUL + id or name -> connection (Get)

	onActive func(ctx context.Context, c *store.Connection) // OnActive
}

// OnActive registers fn to run each time a connection becomes (or is
// again) active through the OAuth callback or an organisation choice; serve
// uses it to switch the connection's events on. fn runs before the caller
// is answered and must log its own failures. Call it before serving.
func (m *Manager) OnActive(fn func(ctx context.Context, c *store.Connection)) {
	m.onActive = fn
}

// activated runs the OnActive hook for c when it is active.
func (m *Manager) activated(ctx context.Context, c *store.Connection) {
	if m.onActive == nil || c.Status != store.StatusActive {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	m.onActive(ctx, c)
}

type cachedToken struct {
	token  string
	expiry time.Time
}

// New returns a Manager for opts.
func New(opts Options) (*Manager, error) {
	if opts.Store == nil || opts.Keyring == nil || opts.Regions == nil {
		return nil, errors.New("new connection manager: Store, Keyring and Regions are required")
	}
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("new connection manager: BaseURL %q is not an absolute http(s) URL", opts.BaseURL)
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	if opts.EntryLocation == "" {
		opts.EntryLocation = "us"
	}
	if _, err := opts.Regions.ByLocation(opts.EntryLocation); err != nil {
		return nil, fmt.Errorf("new connection manager: entry location: %w", err)
	}
	oauthClient := opts.HTTPClient
	if opts.HTTPClient == nil {
		// Not http.DefaultTransport: it keeps two idle connections per
		// host, so a third concurrent call to Zoho reconnected every time.
		// No Timeout on Desk calls: it would bound a whole exchange, body
		// included, and cut off any attachment slower than 20 MiB in 30 s.
		t := zohodesk.NewTransport()
		opts.HTTPClient = &http.Client{Transport: t}
		oauthClient = &http.Client{Timeout: refreshTimeout, Transport: t}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.TokenBudget <= 0 {
		opts.TokenBudget = DefaultTokenBudget
	}
	if opts.TokenWindow <= 0 {
		opts.TokenWindow = DefaultTokenWindow
	}
	if opts.RefreshAhead <= 0 {
		opts.RefreshAhead = DefaultRefreshAhead
	}
	if opts.StateTTL <= 0 {
		opts.StateTTL = DefaultStateTTL
	}
	return &Manager{opts: opts, oauthClient: oauthClient, log: opts.Logger, cache: map[string]cachedToken{}, conns: store.NewVersionedCache(maxCachedConnections, (*store.Connection).Clone, opts.Logger)}, nil
}

// CallbackURL is the redirect URI to register in the Zoho API console.
func (m *Manager) CallbackURL() string { return m.opts.BaseURL + "/oauth/callback" }

// Regions returns the regions table the Manager trusts.
func (m *Manager) Regions() *zohodesk.Regions { return m.opts.Regions }

// Store returns the Manager's store.
func (m *Manager) Store() store.Store { return m.opts.Store }

// Keyring returns the keyring secrets are sealed with (subscription
// secrets of the event pipeline use it too).
func (m *Manager) Keyring() *seal.Keyring { return m.opts.Keyring }

// CreateInput is what a person gives to add a connection.
type CreateInput struct {
	Name         string          `json:"name"`
	ClientID     string          `json:"clientId"`
	ClientSecret deskconn.Secret `json:"-"`
	// Scopes default to DefaultScopes when empty.
	Scopes []string `json:"scopes,omitempty"`
}

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	scopeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._]{0,99}$`)
)

// idPrefix starts every connection id (store.NewID("conn")).
const idPrefix = "conn_"

// looksLikeID reports whether s has the shape of a connection id, which
// names may not have: a name could otherwise shadow another connection's
// id wherever a connection is chosen by id or name.
func looksLikeID(s string) bool {
	return len(s) >= len(idPrefix) && strings.EqualFold(s[:len(idPrefix)], idPrefix)
}

// ParseScopes splits a comma- or space-separated scope list, dropping
// empties and duplicates.
func ParseScopes(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' }) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// Validate checks in and returns every field problem at once.
func (in *CreateInput) Validate() error {
	var fields []deskconn.FieldError
	switch {
	case !nameRE.MatchString(in.Name):
		fields = append(fields, deskconn.FieldError{Pointer: "/name", Code: "invalid", Message: "use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"})
	case looksLikeID(in.Name):
		fields = append(fields, deskconn.FieldError{Pointer: "/name", Code: "invalid", Message: "a name must not start with \"" + idPrefix + "\", which is kept for connection ids: choose another name"})
	}
	if strings.TrimSpace(in.ClientID) == "" || len(in.ClientID) > 200 || strings.ContainsAny(in.ClientID, " \t\r\n") {
		fields = append(fields, deskconn.FieldError{Pointer: "/clientId", Code: "missing", Message: "paste the client id from the Zoho API console"})
	}
	if strings.TrimSpace(in.ClientSecret.Reveal()) == "" || len(in.ClientSecret) > 500 {
		fields = append(fields, deskconn.FieldError{Pointer: "/clientSecret", Code: "missing", Message: "paste the client secret from the Zoho API console"})
	}
	for i, s := range in.Scopes {
		switch {
		case !scopeRE.MatchString(s):
			fields = append(fields, deskconn.FieldError{Pointer: fmt.Sprintf("/scopes/%d", i), Code: "invalid", Message: "a scope looks like Desk.tickets.ALL"})
		case !KnownScope(s):
			fields = append(fields, deskconn.FieldError{Pointer: fmt.Sprintf("/scopes/%d", i), Code: "invalid",
				Message: fmt.Sprintf("%s is not a Zoho Desk scope: did you mean %s?", s, ClosestScope(s))})
		}
	}
	if len(fields) > 0 {
		return deskconn.Invalid("the connection cannot be created", fields...)
	}
	return nil
}

// Create stores a new pending connection for tenantID with its client
// secret sealed. A duplicate name is a conflict error.
func (m *Manager) Create(ctx context.Context, tenantID string, in CreateInput) (*store.Connection, error) {
	in.ClientID = strings.TrimSpace(in.ClientID)
	in.ClientSecret = deskconn.Secret(strings.TrimSpace(in.ClientSecret.Reveal()))
	if len(in.Scopes) == 0 {
		in.Scopes = append([]string(nil), DefaultScopes...)
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	c := &store.Connection{
		TenantID: tenantID,
		Name:     in.Name,
		ClientID: in.ClientID,
		Scopes:   in.Scopes,
		Status:   store.StatusPending,
	}
	if err := m.opts.Store.CreateConnection(ctx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, deskconn.Errorf(deskconn.CodeConflict, "a connection named %q already exists", in.Name)
		}
		return nil, fmt.Errorf("create connection: %w", err)
	}
	// The secret is sealed to the row id, which the store assigns: seal it
	// now and write it; undo the row if that fails.
	sealed, err := m.seal(c.ID, colClientSecret, in.ClientSecret.Reveal())
	if err == nil {
		c.SealedClientSecret = sealed
		err = m.opts.Store.UpdateConnection(ctx, c)
	}
	if err != nil {
		if derr := m.opts.Store.DeleteConnection(context.WithoutCancel(ctx), tenantID, c.ID); derr != nil {
			m.log.Error("remove half-created connection", "connection", c.ID, "err", derr)
		}
		return nil, fmt.Errorf("create connection: %w", err)
	}
	m.log.Info("connection created", "tenant", tenantID, "connection", c.ID, "name", c.Name)
	return c, nil
}

// Get returns the tenant's connection by id or name. An id always resolves
// to that connection: it is looked up as an id first, and only then as a
// name (names shaped like ids are refused at creation, but rows stored
// before that rule may carry one). Another tenant's connection is
// not_found.
//
// With a store that reports its cache version (store.Versioned: SQLite),
// a connection read before is returned from memory as long as no
// connection or API key changed since, by this process or another; any
// such change (a token refresh, a policy change, a disconnect from the
// CLI) makes the next Get read it again. The caller gets a copy of its own.
func (m *Manager) Get(ctx context.Context, tenantID, idOrName string) (*store.Connection, error) {
	return m.conns.Load(ctx, m.opts.Store, tenantID+"\x00"+idOrName, func(*store.Connection) bool { return true },
		func(ctx context.Context) (*store.Connection, error) { return m.read(ctx, tenantID, idOrName) })
}

// maxCachedConnections bounds Get's cache (keys are ids and names callers
// give); past it the cache starts again empty.
const maxCachedConnections = 1024

// read reads the tenant's connection by id or name from the store.
func (m *Manager) read(ctx context.Context, tenantID, idOrName string) (*store.Connection, error) {
	// Every id has the id prefix, which names may not have: a name is
	// looked up by name only (one store read per call, not two). Ids are
	// tried first, then names (of connections named before the rule).
	var c *store.Connection
	err := store.ErrNotFound
	if looksLikeID(idOrName) {
		c, err = m.opts.Store.GetConnection(ctx, tenantID, idOrName)
	}
	if errors.Is(err, store.ErrNotFound) {
		c, err = m.opts.Store.GetConnectionByName(ctx, tenantID, idOrName)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, deskconn.Errorf(deskconn.CodeNotFound, "no connection %q", idOrName)
	}
	if err != nil {
		return nil, fmt.Errorf("get connection: %w", err)
	}
	return c, nil
}

// List returns the tenant's connections.
func (m *Manager) List(ctx context.Context, tenantID string) ([]*store.Connection, error) {
	cs, err := m.opts.Store.ListConnections(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return cs, nil
}

// Delete revokes the connection's refresh token at its accounts server and
// deletes the row with every sealed secret. A revocation that fails (Zoho
// unreachable) is logged and does not stop the delete: the person asked for
// the connection to be gone, and the token can also be revoked in Zoho's
// "Connected Apps" page.
func (m *Manager) Delete(ctx context.Context, tenantID, idOrName string) error {
	c, err := m.Get(ctx, tenantID, idOrName)
	if err != nil {
		return err
	}
	m.deleteWebhook(ctx, c) // while the token still works
	m.revokeStored(ctx, c)
	if err := m.opts.Store.DeleteConnection(ctx, tenantID, c.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return deskconn.Errorf(deskconn.CodeNotFound, "no connection %q", idOrName)
		}
		return fmt.Errorf("delete connection: %w", err)
	}
	m.forget(c.ID)
	m.log.Info("connection deleted", "tenant", tenantID, "connection", c.ID, "name", c.Name)
	return nil
}

// deleteWebhook deletes the Zoho webhook that delivers c's events, if it
// has one, logging failures: like revocation, it must not stop the delete
// (the receiver answers 410 to a webhook whose connection is gone, and Zoho
// then deletes the webhook itself [C WH]).
func (m *Manager) deleteWebhook(ctx context.Context, c *store.Connection) {
	src, err := m.opts.Store.GetEventSource(ctx, c.ID)
	if err != nil || src.WebhookID == "" {
		return
	}
	client, _, err := m.client(c)
	if err == nil {
		_, err = client.Webhooks.Delete(ctx, c.OrgID, src.WebhookID)
	}
	if err != nil && !errors.Is(err, zohodesk.ErrNotFound) {
		m.log.Warn("delete the connection's Zoho webhook", "connection", c.ID, "err", err)
	}
}

// revokeStored revokes c's stored refresh token, if any, logging failures.
func (m *Manager) revokeStored(ctx context.Context, c *store.Connection) {
	if len(c.SealedRefreshToken) == 0 || c.AccountsServer == "" {
		return
	}
	rt, err := m.open(c.ID, colRefreshToken, c.SealedRefreshToken)
	if err != nil {
		m.log.Warn("cannot open refresh token to revoke it", "connection", c.ID, "err", err)
		return
	}
	if err := m.revoke(ctx, c, rt); err != nil {
		m.log.Warn("revoke refresh token", "connection", c.ID, "err", err)
	}
}

// OrgChoice is one organisation a person may pick for a connection.
type OrgChoice struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// OrgChoices returns the organisations offered while c is choose_org.
func OrgChoices(c *store.Connection) []OrgChoice {
	var out []OrgChoice
	if len(c.OrgChoices) > 0 {
		if err := json.Unmarshal(c.OrgChoices, &out); err != nil {
			return nil
		}
	}
	return out
}

// EnsureTenant returns the tenant named name, creating it on first use.
func EnsureTenant(ctx context.Context, st store.Store, name string) (*store.Tenant, error) {
	t, err := st.GetTenantByName(ctx, name)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("get tenant: %w", err)
	}
	t = &store.Tenant{Name: name}
	if err := st.CreateTenant(ctx, t); err != nil {
		if errors.Is(err, store.ErrConflict) { // created concurrently
			return st.GetTenantByName(ctx, name)
		}
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	return t, nil
}

func (m *Manager) seal(rowID, column, plaintext string) ([]byte, error) {
	b, err := m.opts.Keyring.Seal([]byte(plaintext), seal.AAD{Table: tableConnections, RowID: rowID, Column: column})
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", column, err)
	}
	return b, nil
}

func (m *Manager) open(rowID, column string, sealed []byte) (string, error) {
	b, err := m.opts.Keyring.Open(sealed, seal.AAD{Table: tableConnections, RowID: rowID, Column: column})
	if err != nil {
		return "", fmt.Errorf("open %s: %w", column, err)
	}
	return string(b), nil
}

func (m *Manager) forget(connID string) {
	m.mu.Lock()
	delete(m.cache, connID)
	m.mu.Unlock()
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashState(state string) []byte {
	sum := sha256.Sum256([]byte(state))
	return sum[:]
}

// SetPolicies replaces the policies of the tenant's connection (by id or
// name) with what update returns given the current ones (a copy, never
// nil), and returns the stored connection. It runs under the connection's
// refresh lock and re-reads the row, so a concurrent token refresh is
// neither lost nor overwritten. An error from update is returned as is.
func (m *Manager) SetPolicies(ctx context.Context, tenantID, idOrName string, update func(current map[string]string) (map[string]string, error)) (*store.Connection, error) {
	c, err := m.Get(ctx, tenantID, idOrName)
	if err != nil {
		return nil, err
	}
	var out *store.Connection
	var updateErr error
	err = m.opts.Store.WithRefreshLock(ctx, c.ID, func(ctx context.Context) error {
		cur, err := m.opts.Store.GetConnection(ctx, tenantID, c.ID)
		if err != nil {
			return err
		}
		current := make(map[string]string, len(cur.Policies))
		maps.Copy(current, cur.Policies)
		next, err := update(current)
		if err != nil {
			updateErr = err
			return err
		}
		cur.Policies = next
		if err := m.opts.Store.UpdateConnection(ctx, cur); err != nil {
			return err
		}
		out = cur
		return nil
	})
	switch {
	case updateErr != nil:
		return nil, updateErr
	case errors.Is(err, store.ErrNotFound):
		return nil, deskconn.Errorf(deskconn.CodeNotFound, "no connection %q", idOrName)
	case err != nil:
		return nil, fmt.Errorf("set policies: %w", err)
	}
	m.log.Info("connection policies set", "tenant", tenantID, "connection", c.ID, "name", c.Name, "policies", out.Policies)
	return out, nil
}
