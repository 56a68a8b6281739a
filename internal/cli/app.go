package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
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

// ServerHook adds routes to the server `deskconn serve` (and --demo) runs,
// before it starts. Packages register hooks with AddServerHook from an init
// function in this package.
type ServerHook func(s *restapi.Server, m *connection.Manager, st store.Store) error

var serverHooks []ServerHook

// AddServerHook registers h for every server this CLI starts.
func AddServerHook(h ServerHook) { serverHooks = append(serverHooks, h) }

func runServerHooks(s *restapi.Server, m *connection.Manager, st store.Store) error {
	for _, h := range serverHooks {
		if err := h(s, m, st); err != nil {
			return err
		}
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
// DATA_DIR/deskconn.db) and the keyring (DESKCONN_SECRET_KEY, else a 0600
// key file in the data directory, with a warning).
func openApp(ctx context.Context, env *Env) (*app, error) {
	a := &app{env: env, log: newLogger(env), regions: zohodesk.DefaultRegions()}
	a.zohoClient, _ = ctx.Value(zohoClientKey{}).(*http.Client)
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
	return a, nil
}

func (a *app) Close() error { return a.store.Close() }

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
		DeskLimiter: a.metrics.Limiter(NewDeskLimiter())}
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
