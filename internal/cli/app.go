package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/time/rate"

	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/metrics"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/postgres"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/zohodesk"
)

// mountRoutes adds the action endpoints and MCP to a server that `deskconn
// serve` (or --demo) is about to start. The list is explicit so that a
// reader of serve finds every route it serves.
func mountRoutes(s *restapi.Server, m *connection.Manager, st store.Store) error {
	for _, mount := range []func(*restapi.Server, *connection.Manager, store.Store) error{mountActions, mountMCP, mountEvents, recordBaseURL} {
		if err := mount(s, m, st); err != nil {
			return err
		}
	}
	return nil
}

// mountDemoRoutes is mountRoutes for serve --demo (events may use loopback).
func mountDemoRoutes(s *restapi.Server, m *connection.Manager, st store.Store) error {
	for _, mount := range []func(*restapi.Server, *connection.Manager, store.Store) error{mountActions, mountMCP, mountDemoEvents, recordBaseURL} {
		if err := mount(s, m, st); err != nil {
			return err
		}
	}
	return nil
}

// recordBaseURL stores the server's base URL (store.SettingBaseURL), so
// that `deskconn connections` run without --base-url shows the redirect
// URL this server's connect page shows. serve and the demo both mount
// through mountRoutes.
func recordBaseURL(s *restapi.Server, _ *connection.Manager, st store.Store) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.PutSetting(ctx, store.SettingBaseURL, s.BaseURL()); err != nil {
		return fmt.Errorf("record the base URL: %w", err)
	}
	return nil
}

// app is what the connection commands share: the store, the keyring, the
// logger and the manager.
type app struct {
	env     *Env
	log     *slog.Logger
	store   store.Store
	keyring *seal.Keyring
	regions *zohodesk.Regions
	// metrics, when set (by serve), receives Zoho calls, token refreshes
	// and limiter waits of every client the manager builds.
	metrics *metrics.Metrics
	// zohoClient, when set, makes every call to Zoho (see zohoClientKey).
	zohoClient *http.Client
	// orgLimiter, when the store is Postgres, bounds the Desk calls in
	// flight per organisation across every process sharing the database;
	// nil means the in-process limiter (NewDeskLimiter).
	orgLimiter *postgres.OrgLimiter
}

// zohoClientKey is the context key of the *http.Client the commands use for
// every call to Zoho Accounts and Desk. The binary never sets it (the
// default client is used); tests set it to the TLS emulator's client, which
// serves the production hostnames on loopback, so the CLI is exercised with
// the production regions table and never dials anything else.
type zohoClientKey struct{}

// OrgConcurrency is the number of Zoho Desk calls deskconn keeps in flight
// per organisation, shared by every client of the process: the concurrency
// of Zoho's smallest edition (reference §2.5), so that deskconn itself never
// causes TOO_MANY_REQUESTS. Zoho documents no per-second rate, only this
// concurrency and daily credits, so the limiter sets no rate.
const OrgConcurrency = 5

// NewDeskLimiter returns the per-organisation limiter every deskconn process
// shares between its Desk clients (OrgConcurrency calls in flight per org).
func NewDeskLimiter() zohodesk.Limiter {
	return zohodesk.NewOrgLimiter(OrgConcurrency, rate.Inf, 1)
}

// newLogger returns the process logger: text on stderr, level from
// DESKCONN_LOG_LEVEL (debug, info, warn, error; default info).
func newLogger(env *Env) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(env.Getenv("DESKCONN_LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
}

// openApp opens the store named by --db / DESKCONN_DB (default
// DATA_DIR/deskconn.db), the keyring (DESKCONN_SECRET_KEY, else a 0600 key
// file in the data directory, with a warning) and the regions table (the
// production one plus any --unsafe-zoho-region, each with a warning). With
// a Postgres store it also opens the deployment-wide per-org limiter.
func openApp(ctx context.Context, env *Env) (*app, error) {
	a := &app{env: env, log: newLogger(env)}
	a.zohoClient, _ = ctx.Value(zohoClientKey{}).(*http.Client)
	regions, err := openRegions(env.UnsafeZohoRegions, a.log)
	if err != nil {
		return nil, err
	}
	a.regions = regions
	kr, err := openKeyring(env, a.log)
	if err != nil {
		return nil, err
	}
	a.keyring = kr
	st, err := openStore(ctx, env)
	if err != nil {
		return nil, err
	}
	a.store = st
	if pg, ok := st.(*postgres.Store); ok {
		l, err := pg.OrgLimiter(ctx, OrgConcurrency, 0)
		if err != nil {
			st.Close()
			return nil, err
		}
		a.orgLimiter = l
	}
	return a, nil
}

// Close closes the org limiter (if any), then the store.
func (a *app) Close() error {
	if a.orgLimiter != nil {
		a.orgLimiter.Close()
	}
	return a.store.Close()
}

// deskLimiter returns the limiter of the Desk clients: the Postgres
// deployment-wide one when the store is Postgres, else a new in-process one.
func (a *app) deskLimiter() zohodesk.Limiter {
	if a.orgLimiter != nil {
		return a.orgLimiter
	}
	return NewDeskLimiter()
}

// unsafeRegionsEnv names the environment variable that gives the default
// of --unsafe-zoho-region: entries separated by spaces or semicolons.
const unsafeRegionsEnv = "DESKCONN_UNSAFE_ZOHO_REGIONS"

// unsafeRegionsFlag adds the repeatable --unsafe-zoho-region to fs, with
// its default from DESKCONN_UNSAFE_ZOHO_REGIONS.
func unsafeRegionsFlag(fs *pflag.FlagSet, env *Env) {
	def := strings.FieldsFunc(env.Getenv(unsafeRegionsEnv), func(r rune) bool { return r == ';' || unicode.IsSpace(r) })
	fs.StringArrayVar(&env.UnsafeZohoRegions, "unsafe-zoho-region", def,
		"UNSAFE, for the emulator and tests only: LOCATION=ACCOUNTS_URL,DESK_API_BASE sends the OAuth flow, client secrets and tokens of "+
			"LOCATION to that endpoint instead of Zoho (repeatable; replaces a production region of the same LOCATION; "+
			"env "+unsafeRegionsEnv+", entries separated by spaces or ';')")
}

// openRegions returns the production regions table plus the unsafe
// entries, logging one warning per entry; without entries it is exactly
// zohodesk.DefaultRegions.
func openRegions(entries []string, log *slog.Logger) (*zohodesk.Regions, error) {
	if len(entries) == 0 {
		return zohodesk.DefaultRegions(), nil
	}
	extra := make([]zohodesk.Region, 0, len(entries))
	for i, e := range entries {
		r, err := parseUnsafeRegion(e)
		if err != nil {
			return nil, fmt.Errorf("--unsafe-zoho-region (entry %d): %w", i+1, err)
		}
		extra = append(extra, r)
	}
	for _, r := range extra {
		log.Warn("UNSAFE: --unsafe-zoho-region sends this region's OAuth flow, client secrets and tokens to a non-production endpoint; use it only with the emulator or in tests",
			"location", r.Location, "accounts_url", r.AccountsURL, "desk_api_base", r.DeskAPIBase)
	}
	return zohodesk.NewRegions(extra...), nil
}

// errUnsafeRegion is the cause of every refused --unsafe-zoho-region.
var errUnsafeRegion = errors.New("want LOCATION=ACCOUNTS_URL,DESK_API_BASE")

// parseUnsafeRegion parses "LOCATION=ACCOUNTS_URL,DESK_API_BASE", e.g.
// "us=http://127.0.0.1:8443,http://127.0.0.1:8443/api/v1". LOCATION is 1 to
// 16 lower-case letters, digits or '-'; ACCOUNTS_URL is an http(s) origin
// (scheme and host, no path); DESK_API_BASE is an http(s) URL with a host
// and an optional path. Neither may carry user info, a query or a
// fragment; one trailing slash is dropped. Its errors never quote the
// value, which could hold a password in a URL's user info.
func parseUnsafeRegion(s string) (zohodesk.Region, error) {
	loc, rest, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return zohodesk.Region{}, errUnsafeRegion
	}
	if loc == "" || len(loc) > 16 || strings.TrimFunc(loc, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' }) != "" {
		return zohodesk.Region{}, fmt.Errorf("LOCATION must be 1 to 16 lower-case letters, digits or '-' (like \"us\"): %w", errUnsafeRegion)
	}
	accounts, desk, ok := strings.Cut(rest, ",")
	if !ok || strings.Contains(desk, ",") {
		return zohodesk.Region{}, fmt.Errorf("location %s: %w", loc, errUnsafeRegion)
	}
	au, err := unsafeRegionURL(accounts)
	if err != nil {
		return zohodesk.Region{}, fmt.Errorf("location %s: ACCOUNTS_URL %w", loc, err)
	}
	if au.Path != "" {
		return zohodesk.Region{}, fmt.Errorf("location %s: ACCOUNTS_URL must have no path (Zoho sends only scheme and host as accounts-server)", loc)
	}
	du, err := unsafeRegionURL(desk)
	if err != nil {
		return zohodesk.Region{}, fmt.Errorf("location %s: DESK_API_BASE %w", loc, err)
	}
	return zohodesk.Region{Location: loc, Name: "unsafe override of " + loc, AccountsURL: au.String(), DeskAPIBase: du.String()}, nil
}

// unsafeRegionURL parses an absolute http(s) URL with a host and nothing
// but an optional path, without its trailing slash.
func unsafeRegionURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	switch {
	case err != nil:
		return nil, errors.New("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("must start with http:// or https://")
	case u.Host == "" || u.Opaque != "":
		return nil, errors.New("must have a host")
	case u.User != nil:
		return nil, errors.New("must not carry user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "":
		return nil, errors.New("must not have a query or fragment")
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func openStore(ctx context.Context, env *Env) (store.Store, error) {
	db := env.DB
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return openPostgres(ctx, db)
	}
	if db == "" {
		if err := os.MkdirAll(env.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		db = filepath.Join(env.DataDir, "deskconn.db")
	}
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return st, nil
}

func openKeyring(env *Env, log *slog.Logger) (*seal.Keyring, error) {
	if v := env.Getenv("DESKCONN_SECRET_KEY"); v != "" {
		kr, err := seal.ParseKeyring(v)
		if err != nil {
			return nil, fmt.Errorf("DESKCONN_SECRET_KEY: %w", err)
		}
		return kr, nil
	}
	if err := os.MkdirAll(env.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(env.DataDir, "secret.key")
	key, created, err := seal.LoadOrCreateKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if created {
		log.Warn("DESKCONN_SECRET_KEY is unset: created a key file next to the data; secrets at rest are only as safe as this file", "path", path)
	} else {
		log.Warn("DESKCONN_SECRET_KEY is unset: using the key file next to the data", "path", path)
	}
	return seal.NewKeyring(key)
}

// manager builds the connection manager for baseURL.
func (a *app) manager(baseURL string) (*connection.Manager, error) {
	opts := connection.Options{Store: a.store, Keyring: a.keyring, Regions: a.regions, BaseURL: baseURL, Logger: a.log, HTTPClient: a.zohoClient,
		DeskLimiter: a.metrics.Limiter(a.deskLimiter())}
	if a.metrics != nil {
		opts.OnDeskResponse = a.metrics.ObserveZoho
		opts.OnRefresh = a.metrics.ObserveRefresh
	}
	return connection.New(opts)
}

// tenant returns the tenant named by --tenant, creating it on first use.
func (a *app) tenant(ctx context.Context, name string) (*store.Tenant, error) {
	return connection.EnsureTenant(ctx, a.store, name)
}

// tenantFlag adds --tenant to cmd.
func tenantFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "tenant", "default", "tenant that owns the connections and API keys (created on first use)")
}

// baseURLFlag adds --base-url to cmd.
func baseURLFlag(cmd *cobra.Command, env *Env, p *string) {
	def := env.Getenv("DESKCONN_BASE_URL")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	cmd.Flags().StringVar(p, "base-url", def, "public base URL of the server; the OAuth redirect URL is BASE/oauth/callback (env DESKCONN_BASE_URL)")
}

// withApp opens the app, runs fn and closes it.
func withApp(cmd *cobra.Command, env *Env, fn func(ctx context.Context, a *app) error) error {
	ctx := cmd.Context()
	a, err := openApp(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(ctx, a)
}

// openPostgres opens a Postgres store (for several replicas).
func openPostgres(ctx context.Context, dsn string) (store.Store, error) {
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return st, nil
}

func (a *app) apikeys() *apikey.Service { return apikey.New(a.store) }
