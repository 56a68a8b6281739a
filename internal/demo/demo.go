// Package demo runs deskconn end to end without a Zoho account: the
// emulator on its own loopback listener, the server on the embedded SQLite
// store, a demo tenant, a "demo" connection made through the real OAuth flow
// against the emulator, and an API key. `deskconn serve --demo` and tests
// use it.
package demo

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/metrics"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/internal/web"
	"github.com/deskconn/deskconn/zohodesk"
)

// Names of what the demo creates.
const (
	TenantName     = "demo"
	ConnectionName = "demo"
)

// Options configure Start.
type Options struct {
	// DataDir holds the demo database (demo.db, recreated on every start).
	DataDir string
	// Addr is the server's listen address; default "127.0.0.1:8080". Use
	// "127.0.0.1:0" for a free port.
	Addr string
	// APIKey, when set, is the demo API key (it must look like dk_...);
	// otherwise a new one is created.
	APIKey deskconn.Secret
	// Keyring seals secrets; default a fresh random key for this run.
	Keyring *seal.Keyring
	Logger  *slog.Logger
	// Emulator options (Clients are set by Start).
	Emulator emulator.Options
	// ConsentPage makes the emulator show its consent page instead of
	// approving at once; Start then submits it as a person would.
	ConsentPage bool
	// Mount, if set, is called before the server starts, to add routes
	// (actions, MCP) to it.
	Mount func(s *restapi.Server, m *connection.Manager, st store.Store) error
}

// Demo is a running demo. Close stops it.
type Demo struct {
	URL         string // the server's base URL
	LoginURL    string // one-time login link for the connect page
	APIKey      deskconn.Secret
	Connection  string // connection name
	TenantID    string
	Emulator    *emulator.Emulator
	EmulatorURL string
	Server      *restapi.Server
	Console     *web.Console
	Manager     *connection.Manager
	Store       store.Store

	stop func()
}

// Start starts the emulator, the store and the server, creates the demo
// tenant, connection (through the real authorize → consent → callback →
// exchange → organisation → self-test flow) and API key, and returns when
// everything is ready.
func Start(ctx context.Context, opts Options) (d *Demo, err error) {
	if opts.DataDir == "" {
		return nil, errors.New("start demo: DataDir is required")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Keyring == nil {
		k, err := seal.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("start demo: %w", err)
		}
		if opts.Keyring, err = seal.NewKeyring(k); err != nil {
			return nil, fmt.Errorf("start demo: %w", err)
		}
	}
	var cleanups []func()
	defer func() {
		if err != nil {
			for i := len(cleanups) - 1; i >= 0; i-- {
				cleanups[i]()
			}
		}
	}()
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("start demo: listen: %w", err)
	}
	cleanups = append(cleanups, func() { ln.Close() })
	baseURL := "http://" + ln.Addr().String()

	// The emulator, with a demo OAuth client whose redirect URI is this
	// server's callback.
	eopts := opts.Emulator
	eopts.AutoConsent = !opts.ConsentPage
	eopts.Clients = []emulator.OAuthClient{{ID: emulator.DemoClientID, Secret: emulator.DemoClientSecret, RedirectURIs: []string{baseURL + "/oauth/callback"}, Name: "deskconn demo"}}
	if eopts.DefaultUser == "" {
		eopts.DefaultUser = emulator.SingleOrgUser
	}
	emu := emulator.New(eopts)
	eln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start demo: listen for the emulator: %w", err)
	}
	esrv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = esrv.Serve(eln) }()
	cleanups = append(cleanups, func() { esrv.Close() })
	emuURL := "http://" + eln.Addr().String()

	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("start demo: %w", err)
	}
	dbPath := filepath.Join(opts.DataDir, "demo.db")
	for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("start demo: reset database: %w", err)
		}
	}
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return nil, fmt.Errorf("start demo: %w", err)
	}
	cleanups = append(cleanups, func() { st.Close() })

	// The emulator is the only "us" data centre: a custom region is the
	// only way a loopback accounts server is accepted.
	regions := zohodesk.NewRegions(zohodesk.Region{Location: "us", Name: "Demo (emulator)", AccountsURL: emuURL, DeskAPIBase: emuURL + "/api/v1"})
	// Metrics, as serve has them: the console's health reads the
	// organisation's remaining credits from what they last saw.
	met := metrics.New(metrics.Options{})
	m, err := connection.New(connection.Options{Store: st, Keyring: opts.Keyring, Regions: regions, BaseURL: baseURL, Logger: opts.Logger,
		OnDeskResponse: met.ObserveZoho, OnRefresh: met.ObserveRefresh})
	if err != nil {
		return nil, fmt.Errorf("start demo: %w", err)
	}
	keys := apikey.New(st)
	srv, err := restapi.New(restapi.Options{Manager: m, APIKeys: keys, BaseURL: baseURL, Logger: opts.Logger, Metrics: met})
	if err != nil {
		return nil, fmt.Errorf("start demo: %w", err)
	}
	console, err := web.Mount(srv, web.Options{})
	if err != nil {
		return nil, fmt.Errorf("start demo: %w", err)
	}
	if opts.Mount != nil {
		if err := opts.Mount(srv, m, st); err != nil {
			return nil, fmt.Errorf("start demo: mount: %w", err)
		}
	}
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	cleanups = append(cleanups, func() { stop(); <-done })

	tenant, err := connection.EnsureTenant(ctx, st, TenantName)
	if err != nil {
		return nil, fmt.Errorf("start demo: %w", err)
	}
	if _, err := m.Create(ctx, tenant.ID, connection.CreateInput{Name: ConnectionName, ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret}); err != nil {
		return nil, fmt.Errorf("start demo: %w", err)
	}
	if err := connectThroughBrowserless(ctx, m, tenant.ID); err != nil {
		return nil, fmt.Errorf("start demo: connect: %w", err)
	}

	key := opts.APIKey
	if key != "" {
		if _, err := keys.Import(ctx, tenant.ID, "demo", key); err != nil {
			return nil, fmt.Errorf("start demo: DESKCONN_API_KEY: %w", err)
		}
	} else if key, _, err = keys.Create(ctx, tenant.ID, "demo"); err != nil {
		return nil, fmt.Errorf("start demo: %w", err)
	}
	login, err := console.CreateLoginURL(ctx, tenant.ID)
	if err != nil {
		return nil, fmt.Errorf("start demo: login link: %w", err)
	}
	return &Demo{
		URL: baseURL, LoginURL: login, APIKey: key, Connection: ConnectionName, TenantID: tenant.ID,
		Emulator: emu, EmulatorURL: emuURL, Server: srv, Console: console, Manager: m, Store: st,
		stop: func() {
			for i := len(cleanups) - 1; i >= 0; i-- {
				cleanups[i]()
			}
		},
	}, nil
}

// connectThroughBrowserless runs the OAuth flow as a browser would: GET the
// authorize URL (the emulator auto-consents and redirects), then GET the
// callback on the running server.
func connectThroughBrowserless(ctx context.Context, m *connection.Manager, tenantID string) error {
	authURL, err := m.AuthorizeURL(ctx, tenantID, ConnectionName, "/")
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := authURL
	for range 4 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("follow the flow: %w", err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && next == authURL {
			// The consent page: accept it as a person would.
			if next, err = acceptConsent(ctx, hc, resp.Request.URL, body); err != nil {
				return err
			}
			continue
		}
		if resp.StatusCode == http.StatusOK {
			break
		}
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			u, _ := url.Parse(next)
			return fmt.Errorf("%s answered %d", u.Path, resp.StatusCode)
		}
		loc, err := resp.Location()
		if err != nil {
			return err
		}
		next = loc.String()
	}
	c, err := m.Get(ctx, tenantID, ConnectionName)
	if err != nil {
		return err
	}
	if c.Status != store.StatusActive {
		return fmt.Errorf("the demo connection is %s, not active (%s)", c.Status, c.LastError)
	}
	return nil
}

// Close stops the server (gracefully), the emulator and the store.
func (d *Demo) Close() { d.stop() }

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// acceptConsent posts the emulator's consent form with "approve" and
// returns where it redirects.
func acceptConsent(ctx context.Context, hc *http.Client, page *url.URL, body []byte) (string, error) {
	form := url.Values{"approve": {"1"}}
	for _, m := range hiddenInput.FindAllSubmatch(body, -1) {
		form.Set(html.UnescapeString(string(m[1])), html.UnescapeString(string(m[2])))
	}
	if form.Get("client_id") == "" {
		return "", errors.New("the authorize page is not a consent form")
	}
	target := page.ResolveReference(&url.URL{Path: "/oauth/v2/auth/consent"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("consent: %w", err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("consent answered %d without a redirect", resp.StatusCode)
	}
	return loc.String(), nil
}
