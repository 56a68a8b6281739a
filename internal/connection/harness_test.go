package connection_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/internal/syncbuf"
	"github.com/deskconn/deskconn/zohodesk"
)

const (
	testBase     = "http://127.0.0.1:9/deskconn" // never dialled: only the callback URL string
	testClientID = "1000.TESTCLIENT00000000000000000000"
	testSecret   = "test-client-secret-canary-7f3a9c"
)

type env struct {
	t      testing.TB
	emu    *emulator.Emulator
	srv    *httptest.Server
	st     *sqlite.Store
	kr     *seal.Keyring
	key    seal.Key
	m      *connection.Manager
	tenant *store.Tenant
	logs   *syncbuf.Buffer
	clock  *clock
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type envOpts struct {
	emu   emulator.Options
	mopts func(*connection.Options)
}

// newEnv starts a single-DC emulator on loopback registered as the "us"
// region, a SQLite store and a Manager with a controllable clock.
func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	clk := &clock{now: time.Now()}
	o.emu.Now = clk.Now
	if len(o.emu.Clients) == 0 {
		o.emu.Clients = []emulator.OAuthClient{{ID: testClientID, Secret: testSecret, RedirectURIs: []string{testBase + "/oauth/callback"}, Name: "Test"}}
	}
	o.emu.AutoConsent = true
	emu := emulator.New(o.emu)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "deskconn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	opts := connection.Options{
		Store:   st,
		Keyring: kr,
		Regions: zohodesk.NewRegions(zohodesk.Region{Location: "us", Name: "emulator", AccountsURL: srv.URL, DeskAPIBase: srv.URL + "/api/v1"}),
		BaseURL: testBase,
		Now:     clk.Now,
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if o.mopts != nil {
		o.mopts(&opts)
	}
	m, err := connection.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := connection.EnsureTenant(t.Context(), st, "default")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, emu: emu, srv: srv, st: st, kr: kr, key: key, m: m, tenant: tn, logs: logs, clock: clk}
}

func (e *env) create(name string) *store.Connection {
	e.t.Helper()
	c, err := e.m.Create(e.t.Context(), e.tenant.ID, connection.CreateInput{Name: name, ClientID: testClientID, ClientSecret: testSecret})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// authorize follows the authorize URL to the emulator (auto-consent) and
// returns the query of the redirect to the callback.
func (e *env) authorize(authURL string) url.Values {
	e.t.Helper()
	return followToCallback(e.t, http.DefaultClient, authURL)
}

func followToCallback(t testing.TB, hc *http.Client, authURL string) url.Values {
	t.Helper()
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

// connect runs the whole flow for a new connection and returns it.
func (e *env) connect(name string) *store.Connection {
	e.t.Helper()
	e.create(name)
	u, err := e.m.AuthorizeURL(e.t.Context(), e.tenant.ID, name, "")
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.m.Callback(e.t.Context(), e.authorize(u))
	if err != nil {
		e.t.Fatalf("callback: %v", err)
	}
	return res.Connection
}

func wantCode(t *testing.T, err error, code deskconn.Code) *deskconn.Error {
	t.Helper()
	if got := deskconn.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	return deskconn.AsError(err)
}
