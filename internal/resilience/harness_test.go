package resilience

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/zohodesk"
)

// TestMain fails the package if any goroutine outlives the tests. No
// ignores are needed: every test closes its httptest server, store and
// idle HTTP connections (the harness owns the only transport).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// scopes is every scope the actions need.
var scopes = []string{
	"Desk.tickets.ALL", "Desk.settings.READ", "Desk.basic.READ", "Desk.contacts.READ",
	"Desk.settings.CREATE", "Desk.basic.CREATE", "Desk.settings.UPDATE", "Desk.basic.UPDATE",
	"Desk.search.READ", "Desk.products.READ", "Desk.contacts.CREATE", "Desk.contacts.UPDATE", "Desk.contacts.DELETE",
	"Desk.articles.READ",
}

// callbackBase is the deskconn base URL the manager believes it serves. It
// is never dialled: the harness hands the callback query to the manager
// directly.
const callbackBase = "http://127.0.0.1:9"

// env is one emulator on loopback plus the real deskconn stack in process:
// SQLite store, connection manager (connected through the OAuth flow) and
// a registry with every action.
type env struct {
	emu    *emulator.Emulator
	srv    *httptest.Server
	store  store.Store
	mgr    *connection.Manager
	reg    *action.Registry
	tenant string
	conn   string // connection name
	hc     *http.Client
}

// envOptions tune newEnv.
type envOptions struct {
	emulator emulator.Options
	// limiter is shared by the manager's Desk clients (nil: zohodesk's default).
	limiter zohodesk.Limiter
}

// newEnv starts an env and connects connection "c" of tenant "t" through
// the authorize → consent → callback flow. Everything stops at test cleanup.
func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	e, err := startEnv(t, o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// startEnv is newEnv for goroutines other than the test's: it returns its
// error instead of failing the test. Cleanups are registered on t.
func startEnv(t testing.TB, o envOptions) (*env, error) {
	ctx := context.Background()
	eo := o.emulator
	eo.AutoConsent = true
	eo.DefaultUser = emulator.DemoUser
	eo.Clients = []emulator.OAuthClient{{ID: emulator.DemoClientID, Secret: emulator.DemoClientSecret,
		RedirectURIs: []string{callbackBase + "/oauth/callback"}, Name: "resilience"}}
	e := &env{emu: emulator.New(eo)}
	e.srv = httptest.NewServer(e.emu)
	t.Cleanup(e.srv.Close)

	// One transport for every Zoho call, closed at cleanup so that no
	// keep-alive goroutine outlives the test.
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	e.hc = &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)

	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "deskconn.db"))
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	key, err := seal.GenerateKey()
	if err != nil {
		return nil, err
	}
	kr, err := seal.NewKeyring(key)
	if err != nil {
		return nil, err
	}
	regions := zohodesk.NewRegions(zohodesk.Region{Location: "us", Name: "emulator", AccountsURL: e.srv.URL, DeskAPIBase: e.srv.URL + "/api/v1"})
	e.mgr, err = connection.New(connection.Options{Store: st, Keyring: kr, Regions: regions, BaseURL: callbackBase,
		HTTPClient: e.hc, DeskLimiter: o.limiter})
	if err != nil {
		return nil, err
	}
	ten, err := connection.EnsureTenant(ctx, st, "t")
	if err != nil {
		return nil, err
	}
	e.tenant, e.conn = ten.ID, "c"
	if _, err := e.mgr.Create(ctx, e.tenant, connection.CreateInput{Name: e.conn, ClientID: emulator.DemoClientID,
		ClientSecret: emulator.DemoClientSecret, Scopes: scopes}); err != nil {
		return nil, err
	}
	if err := connect(ctx, e.mgr, e.hc, e.tenant, e.conn); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	e.reg = action.NewRegistry(action.Options{Idempotency: st, Audit: st})
	e.reg.Add(deskactions.All(deskactions.Deps{})...)
	return e, nil
}

// connect runs the OAuth flow for connection name: the emulator consents at
// once and redirects to the callback, whose query goes to the manager. With
// several organisations the demo org is chosen.
func connect(ctx context.Context, m *connection.Manager, hc *http.Client, tenant, name string) error {
	authURL, err := m.AuthorizeURL(ctx, tenant, name, "/")
	if err != nil {
		return err
	}
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		return fmt.Errorf("authorize answered %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	res, err := m.Callback(ctx, loc.Query())
	if err != nil {
		return fmt.Errorf("callback: %w", err)
	}
	if res.Connection.Status == store.StatusActive {
		return nil
	}
	c, err := m.ChooseOrg(ctx, tenant, name, emulator.DemoOrgID)
	if err != nil {
		return fmt.Errorf("choose org: %w", err)
	}
	if c.Status != store.StatusActive {
		return fmt.Errorf("connection is %s after choosing the org", c.Status)
	}
	return nil
}

// invoke runs action name with input on the env's connection, building the
// target as the adapters do (a fresh Desk client from the manager).
func (e *env) invoke(ctx context.Context, name, input, idemKey string) (json.RawMessage, error) {
	desk, c, err := e.mgr.Client(ctx, e.tenant, e.conn)
	if err != nil {
		return nil, err
	}
	t := action.Target{Tenant: e.tenant, Desk: desk, Conn: action.Conn{
		ID: c.ID, Name: c.Name, DefaultOrgID: c.OrgID, UserID: c.UserID, UserEmail: c.UserEmail,
		Policies: map[string]string{"move_tickets_to_trash": "allow", "deactivate_agent": "allow"},
	}}
	return e.reg.Invoke(ctx, t, name, json.RawMessage(input), action.InvokeOptions{IdempotencyKey: idemKey})
}
