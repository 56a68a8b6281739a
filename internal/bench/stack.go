package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/filedata"
	"github.com/deskconn/deskconn/internal/mcpserver"
	"github.com/deskconn/deskconn/internal/metrics"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/zohodesk"
	"golang.org/x/time/rate"
)

// OrgConcurrency is the per-organisation in-flight cap of the stack's
// shared Desk limiter; it matches the one `deskconn serve` uses
// (cli.OrgConcurrency, Zoho's smallest edition).
const OrgConcurrency = 5

// nominalBase is the deskconn base URL the stack's manager and server
// believe they have. Its callback is emulator.DemoRedirectURI, the redirect
// URI an emulator registers by default, so an external emulator started
// with `deskconn emulator --auto-consent` accepts the connect flow. Nothing
// ever listens there: the stack completes the flow by calling the manager.
const nominalBase = "http://127.0.0.1:8080"

// StackOptions configure NewStack. The zero value starts an in-process
// emulator without latency.
type StackOptions struct {
	// EmulatorURL is an emulator already running (loopback only, started
	// with --auto-consent); "" starts one in process on a loopback port.
	EmulatorURL string
	// Latency is added by the emulator to every Desk call (a latency fault
	// that holds the org's concurrency slot, as a slow Zoho does).
	Latency time.Duration
	// MaxConcurrent is the emulator's per-org concurrency limit (in
	// process only; 0: by edition, 25 for the demo org).
	MaxConcurrent int
	// ExtraTickets adds synthetic tickets to the demo org (in process only).
	ExtraTickets int
	// DailyCredits is the emulator's daily API credit budget per org (in
	// process only; 0: by edition).
	DailyCredits int
	// MaxAttachmentBytes is the emulator's and deskconn's file cap (in
	// process only for the emulator; 0: defaults, 20 MiB).
	MaxAttachmentBytes int64
	// AllowLoopback lets fileData URLs reach these loopback hosts
	// (egress.Config.UnsafeAllowLoopback): for a local file server only.
	AllowLoopback []string
	// WrapEmulator, if set, wraps the in-process emulator's handler.
	WrapEmulator func(http.Handler) http.Handler
	// Metrics receives the stack's actions, Zoho calls, refreshes and
	// limiter waits, and is served at the server's /metrics (optional).
	Metrics *metrics.Metrics
	// Logger is the stack's logger (default: discard).
	Logger *slog.Logger
}

// Stack is deskconn wired as `deskconn serve` wires it — SQLite store,
// connection manager with one shared per-org limiter, the action registry,
// the REST server with the actions and MCP mounted — in front of an
// emulator, with one tenant, one connected connection and one API key. It
// is for benchmarks and tests; Close releases everything.
type Stack struct {
	// EmulatorURL is the emulator's base URL (no trailing slash).
	EmulatorURL string
	// Emulator is the in-process emulator, nil with StackOptions.EmulatorURL.
	Emulator *emulator.Emulator
	Store    store.Store
	Manager  *connection.Manager
	Registry *action.Registry
	Server   *restapi.Server
	// ServerURL is the loopback URL the server is served at.
	ServerURL  string
	TenantID   string
	Connection *store.Connection
	// OrgID is the connection's organisation.
	OrgID  string
	APIKey deskconn.Secret
	// DataDir holds the stack's SQLite database (bench.db); SecretKey is
	// its sealing key as DESKCONN_SECRET_KEY takes it. With them another
	// deskconn process can use the stack's connection (mcp-start).
	DataDir   string
	SecretKey string

	admin   *http.Client
	closers []func()
}

// NewStack starts a Stack. It fails if the emulator is not on loopback or
// the connect flow does not end with an active connection.
func NewStack(ctx context.Context, opts StackOptions) (_ *Stack, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Stack{admin: &http.Client{Timeout: 30 * time.Second}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := s.startEmulator(ctx, opts); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "deskconn-bench-*")
	if err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	s.closers = append(s.closers, func() { os.RemoveAll(dir) })
	st, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	s.Store = st
	s.closers = append(s.closers, func() { st.Close() })
	key, err := seal.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	kr, err := seal.NewKeyring(key)
	if err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	s.DataDir, s.SecretKey = dir, key.Encode()
	regions := zohodesk.NewRegions(zohodesk.Region{Location: "us", Name: "Emulator", AccountsURL: s.EmulatorURL, DeskAPIBase: s.EmulatorURL + "/api/v1"})
	mopts := connection.Options{Store: st, Keyring: kr, Regions: regions, BaseURL: nominalBase, Logger: opts.Logger,
		DeskLimiter: opts.Metrics.Limiter(zohodesk.NewOrgLimiter(OrgConcurrency, rate.Inf, 1))}
	if opts.Metrics != nil {
		mopts.OnDeskResponse = opts.Metrics.ObserveZoho
		mopts.OnRefresh = opts.Metrics.ObserveRefresh
	}
	if reg := opts.Metrics.Registry(); reg != nil {
		if err := reg.Register(metrics.ConnectionsCollector(st, opts.Logger)); err != nil {
			return nil, fmt.Errorf("start stack: register the connections collector: %w", err)
		}
	}
	if s.Manager, err = connection.New(mopts); err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}

	var fetchOpts filedata.Options
	fetchOpts.MaxBytes = opts.MaxAttachmentBytes
	fetchOpts.Fetcher = egress.New(egress.Config{UnsafeAllowLoopback: opts.AllowLoopback, MaxBytes: opts.MaxAttachmentBytes, Timeout: 5 * time.Minute})
	s.Registry = action.NewRegistry(action.Options{Idempotency: st, Audit: st, Observer: opts.Metrics.ObserveAction})
	s.Registry.Add(deskactions.All(deskactions.Deps{Files: fetchOpts})...)

	keys := apikey.New(st)
	// The per-key rate limit (200/s by default) is lifted: at 0 ms latency
	// one key's sequential calls exceed it, and a refused call is not the
	// path being measured.
	limits := restapi.Limits{KeyRate: 1e9, KeyBurst: 1 << 30}
	if s.Server, err = restapi.New(restapi.Options{Manager: s.Manager, APIKeys: keys, BaseURL: nominalBase, Logger: opts.Logger, Metrics: opts.Metrics, Limits: limits}); err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	if err := s.Server.MountActions(restapi.ActionsOptions{Registry: s.Registry,
		MaxBodyBytes: max(restapi.DefaultMaxActionBodyBytes, 2*opts.MaxAttachmentBytes), MaxFileBytes: opts.MaxAttachmentBytes}); err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	s.Server.Mount(mcpserver.HTTPPattern, mcpserver.HTTPHandler(s.Registry, s.Manager, &mcpserver.HTTPOptions{Server: mcpserver.Options{Logger: opts.Logger}}))
	hs := httptest.NewServer(s.Server.Handler())
	s.ServerURL = hs.URL
	s.closers = append(s.closers, hs.Close)

	tenant, err := connection.EnsureTenant(ctx, st, "bench")
	if err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	s.TenantID = tenant.ID
	if s.APIKey, _, err = keys.Create(ctx, tenant.ID, "bench"); err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	if s.Connection, err = s.connect(ctx); err != nil {
		return nil, fmt.Errorf("start stack: connect: %w", err)
	}
	s.OrgID = s.Connection.OrgID
	return s, nil
}

func (s *Stack) startEmulator(ctx context.Context, opts StackOptions) error {
	if opts.EmulatorURL != "" {
		u, err := url.Parse(opts.EmulatorURL)
		if err != nil || u.Scheme != "http" || !isLoopbackHost(u.Hostname()) {
			return fmt.Errorf("start stack: --emulator %q must be an http URL on loopback (127.0.0.1, ::1 or localhost)", opts.EmulatorURL)
		}
		s.EmulatorURL = strings.TrimRight(opts.EmulatorURL, "/")
		if err := s.adminDo(ctx, http.MethodDelete, "faults", nil, nil); err != nil {
			return fmt.Errorf("start stack: %w", err)
		}
		if opts.Latency > 0 {
			f := emulator.Fault{Kind: emulator.FaultLatency, PathPrefix: "/api/v1/", Latency: opts.Latency}
			if err := s.adminDo(ctx, http.MethodPost, "faults", f, nil); err != nil {
				return fmt.Errorf("start stack: %w", err)
			}
		}
		return nil
	}
	eopts := emulator.Options{
		AutoConsent:        true,
		DefaultUser:        emulator.SingleOrgUser,
		MaxConcurrent:      opts.MaxConcurrent,
		ExtraTickets:       opts.ExtraTickets,
		MaxAttachmentBytes: opts.MaxAttachmentBytes,
		MaxRequestLog:      100_000,
		DailyCredits:       opts.DailyCredits,
	}
	if opts.Latency > 0 {
		eopts.Faults = []emulator.Fault{{Kind: emulator.FaultLatency, PathPrefix: "/api/v1/", Latency: opts.Latency}}
	}
	s.Emulator = emulator.New(eopts)
	var h http.Handler = s.Emulator
	if opts.WrapEmulator != nil {
		h = opts.WrapEmulator(h)
	}
	hs := httptest.NewServer(h)
	s.closers = append(s.closers, hs.Close)
	s.EmulatorURL = hs.URL
	return nil
}

func isLoopbackHost(h string) bool {
	return h == "127.0.0.1" || h == "::1" || h == "localhost"
}

// connect runs the OAuth flow against the emulator (auto consent) and
// completes it with the manager's Callback, as the server's callback
// handler would.
func (s *Stack) connect(ctx context.Context) (*store.Connection, error) {
	const name = "bench"
	if _, err := s.Manager.Create(ctx, s.TenantID, connection.CreateInput{Name: name, ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret}); err != nil {
		return nil, err
	}
	authURL, err := s.Manager.AuthorizeURL(ctx, s.TenantID, name, "/")
	if err != nil {
		return nil, err
	}
	noRedirect := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("authorize answered %d without a redirect: start the emulator with --auto-consent", resp.StatusCode)
	}
	res, err := s.Manager.Callback(ctx, loc.Query())
	if err != nil {
		return nil, fmt.Errorf("callback: %w", err)
	}
	c := res.Connection
	if c.Status == store.StatusChooseOrg {
		if c, err = s.Manager.ChooseOrg(ctx, s.TenantID, name, emulator.DemoOrgID); err != nil {
			return nil, fmt.Errorf("choose org: %w", err)
		}
	}
	if c.Status != store.StatusActive {
		return nil, fmt.Errorf("the connection is %s, not active (%s)", c.Status, c.LastError)
	}
	return c, nil
}

// Close stops the servers and removes the store.
func (s *Stack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// Target resolves the connection for one action call, as the REST and MCP
// adapters do for every call (store read, Desk client with the shared
// limiter and the persisted token source).
func (s *Stack) Target(ctx context.Context) (action.Target, error) {
	desk, c, err := s.Manager.Client(ctx, s.TenantID, s.Connection.ID)
	if err != nil {
		return action.Target{}, err
	}
	return action.Target{
		Tenant: s.TenantID,
		Conn: action.Conn{ID: c.ID, Name: c.Name, DefaultOrgID: c.OrgID, Policies: c.Policies,
			UserID: c.UserID, UserEmail: c.UserEmail},
		Desk: desk,
	}, nil
}

// Invoke runs the named action on the stack's connection through the
// registry.
func (s *Stack) Invoke(ctx context.Context, name string, input json.RawMessage) (json.RawMessage, error) {
	t, err := s.Target(ctx)
	if err != nil {
		return nil, err
	}
	return s.Registry.Invoke(ctx, t, name, input, action.InvokeOptions{})
}

// AccessToken returns the connection's current access token (for calling
// the emulator directly).
func (s *Stack) AccessToken(ctx context.Context) (string, error) {
	return s.Manager.TokenSource(s.TenantID, s.Connection.ID).Token(ctx)
}

// ExpireAccessTokens makes the emulator refuse every access token issued so
// far (deskconn still holds them as valid).
func (s *Stack) ExpireAccessTokens(ctx context.Context) error {
	return s.adminDo(ctx, http.MethodPost, "expire-tokens", nil, nil)
}

// TokenRequests returns the emulator's count of refresh-token grants.
func (s *Stack) TokenRequests(ctx context.Context) (int, error) {
	var c emulator.Counters
	if err := s.adminDo(ctx, http.MethodGet, "counters", nil, &c); err != nil {
		return 0, err
	}
	n := 0
	for _, v := range c.TokenRequests {
		n += v
	}
	return n, nil
}

// Requests returns the emulator's request log.
func (s *Stack) Requests(ctx context.Context) ([]emulator.RequestRecord, error) {
	var recs []emulator.RequestRecord
	if err := s.adminDo(ctx, http.MethodGet, "requests", nil, &recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// adminDo calls the emulator's /__emulator/ controls.
func (s *Stack) adminDo(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("emulator %s: %w", path, err)
		}
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, s.EmulatorURL+"/__emulator/"+path, body)
	if err != nil {
		return fmt.Errorf("emulator %s: %w", path, err)
	}
	resp, err := s.admin.Do(req)
	if err != nil {
		return fmt.Errorf("emulator %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("emulator %s: HTTP %d", path, resp.StatusCode)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("emulator %s: decode: %w", path, err)
	}
	return nil
}
