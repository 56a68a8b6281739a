package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/internal/events"
	"github.com/deskconn/deskconn/internal/metrics"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/web"
)

func newServeCmd(env *Env) *cobra.Command {
	var addr, baseURL, tenant, purgeEvery, auditKeep string
	var demoMode, allowPrivateSubscribers, autoConsent bool
	var deliveryLease time.Duration
	var limits restapi.Limits
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP server: the connect page, the OAuth callback and the REST API",
		Long: `serve runs deskconn's HTTP server: the connect page at /, the OAuth callback,
the REST API under /v1 (API-key authenticated), /healthz, /readyz and
Prometheus metrics at /metrics.
It prints a one-time login link for the connect page.

With --db postgres://..., several serve processes can share one database
behind a load balancer: token refreshes (one per expiry), idempotency keys
and the per-organisation limit of Zoho Desk calls in flight hold across all
of them.

To run against "deskconn emulator" (or any non-production Zoho endpoint),
add the global flag --unsafe-zoho-region, e.g.
  --unsafe-zoho-region us=http://127.0.0.1:8443,http://127.0.0.1:8443/api/v1
It replaces the production region of that location, so the OAuth flow,
client secrets and tokens go to that endpoint; a warning is logged. Without
it only Zoho's production data centres are accepted.

With --demo it also runs the Zoho Desk emulator in process, connects a "demo"
connection through the real OAuth flow, and prints an API key, a curl example
and the emulator's client id and secret (to add a second connection on the
connect page). Connecting on the page shows the emulator's consent page, as
Zoho does; --auto-consent approves at once instead (for scripts).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := limitsFromEnv(cmd, env); err != nil {
				return err
			}
			if demoMode {
				return runDemo(cmd.Context(), env, addr, autoConsent)
			}
			janitor, err := janitorFlags(purgeEvery, auditKeep)
			if err != nil {
				return err
			}
			if deliveryLease < 2*time.Second {
				return deskconn.Errorf(deskconn.CodeInvalid,
					"--event-delivery-lease %s is too short: use at least 2s (each delivery attempt gets half of it)", deliveryLease)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			defer ln.Close() // after Serve, which closes it too: harmless
			if !cmd.Flags().Changed("base-url") && env.Getenv("DESKCONN_BASE_URL") == "" {
				baseURL = listenBaseURL(addr, ln.Addr())
			}
			return withApp(cmd, env, func(ctx context.Context, a *app) error {
				a.metrics = newServerMetrics(a)
				m, err := a.manager(baseURL)
				if err != nil {
					return err
				}
				t, err := a.tenant(ctx, tenant)
				if err != nil {
					return err
				}
				srv, err := restapi.New(restapi.Options{Manager: m, APIKeys: a.apikeys(), BaseURL: baseURL, Logger: a.log, Metrics: a.metrics, Limits: limits})
				if err != nil {
					return err
				}
				if allowPrivateSubscribers {
					fmt.Fprintln(env.Stderr, privateSubscribersWarning)
					a.log.Warn(privateSubscribersWarning)
				}
				mount := routesWithEvents(eventsConfig{loopbackSubscribers: allowPrivateSubscribers, lease: deliveryLease})
				if err := mount(srv, m, a.store); err != nil {
					return err
				}
				console, err := web.Mount(srv, web.Options{})
				if err != nil {
					return err
				}
				// Expired states, idempotency records, login links and
				// sessions, and audit records past the retention: one pass
				// now, then on schedule until serve stops.
				janitor.Store, janitor.Logger = a.store, a.log
				janitor.Pass(ctx)
				jctx, stopJanitor := context.WithCancel(ctx)
				var wg sync.WaitGroup
				wg.Go(func() { janitor.Run(jctx) })
				defer wg.Wait()
				defer stopJanitor()
				login, err := console.CreateLoginURL(ctx, t.ID)
				if err != nil {
					return fmt.Errorf("create the login link: %w", err)
				}
				fmt.Fprintf(env.Stdout, "deskconn is serving on http://%s\n", ln.Addr())
				fmt.Fprintf(env.Stdout, "Register this redirect URL in the Zoho API console: %s\n", m.CallbackURL())
				fmt.Fprintf(env.Stdout, "Open the connect page (one-time login link, tenant %q):\n    %s\n", t.Name, login)
				a.log.Info("serving", "addr", ln.Addr().String(), "base_url", baseURL)
				return srv.Serve(ctx, ln)
			})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address HOST:PORT")
	cmd.Flags().BoolVar(&demoMode, "demo", false, "run with the Zoho Desk emulator, a demo connection and an API key")
	cmd.Flags().DurationVar(&deliveryLease, "event-delivery-lease", events.DefaultLease,
		"how long a claimed event delivery stays with its process: after a crash its claimed deliveries wait this long to be sent again")
	cmd.Flags().BoolVar(&allowPrivateSubscribers, "allow-private-subscribers", false,
		"UNSAFE: let event subscriptions point at this machine (loopback); for tests and single-machine setups only (--demo always allows it)")
	cmd.Flags().BoolVar(&autoConsent, "auto-consent", false, "with --demo: the emulator approves OAuth consent at once instead of showing its consent page")
	cmd.Flags().StringVar(&purgeEvery, "purge-interval", envOr(env, "DESKCONN_PURGE_INTERVAL", store.DefaultPurgeInterval.String()),
		"how often expired OAuth states, idempotency records, login links and sessions (and old audit records) are deleted (env DESKCONN_PURGE_INTERVAL)")
	cmd.Flags().StringVar(&auditKeep, "audit-retention", envOr(env, "DESKCONN_AUDIT_RETENTION", "90d"),
		"how long audit records are kept, e.g. 90d or 720h; 0 keeps them forever (env DESKCONN_AUDIT_RETENTION)")
	baseURLFlag(cmd, env, &baseURL)
	tenantFlag(cmd, &tenant)
	limitFlags(cmd, &limits)
	return cmd
}

// envOr returns the environment variable name, or def when it is unset or
// empty.
func envOr(env *Env, name, def string) string {
	if v := env.Getenv(name); v != "" {
		return v
	}
	return def
}

// janitorFlags checks --purge-interval and --audit-retention and returns
// the janitor they configure (without its store).
func janitorFlags(purgeEvery, auditKeep string) (*store.Janitor, error) {
	interval, err := parseDays(purgeEvery)
	if err != nil || interval < time.Second {
		return nil, deskconn.Errorf(deskconn.CodeInvalid,
			"--purge-interval (env DESKCONN_PURGE_INTERVAL) %q is not a duration of at least 1s: use e.g. 10m or 1h", purgeEvery)
	}
	keep, err := parseDays(auditKeep)
	if err != nil || keep < 0 {
		return nil, deskconn.Errorf(deskconn.CodeInvalid,
			"--audit-retention (env DESKCONN_AUDIT_RETENTION) %q is not a duration: use e.g. 90d or 720h, or 0 to keep audit records forever", auditKeep)
	}
	if keep == 0 {
		keep = -1 // forever
	}
	return &store.Janitor{Interval: interval, AuditRetention: keep}, nil
}

// parseDays parses a Go duration ("36h", "10m") or a whole number of days
// ("90d"). "0" is zero.
func parseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*365 {
			return 0, fmt.Errorf("bad number of days %q", n)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// limitEnv maps serve's limit flags to the environment variables that set
// them when the flag is not given.
var limitEnv = []struct{ flag, env string }{
	{"body-read-timeout", "DESKCONN_BODY_READ_TIMEOUT"},
	{"body-bytes-in-flight", "DESKCONN_BODY_BYTES_IN_FLIGHT"},
	{"key-concurrency", "DESKCONN_KEY_CONCURRENCY"},
	{"key-rate", "DESKCONN_KEY_RATE"},
	{"key-burst", "DESKCONN_KEY_BURST"},
}

// limitFlags adds the flags of restapi.Limits to cmd.
func limitFlags(cmd *cobra.Command, l *restapi.Limits) {
	f := cmd.Flags()
	f.DurationVar(&l.BodyReadTimeout, "body-read-timeout", restapi.DefaultBodyReadTimeout,
		"longest pause allowed while a request body streams in; a silent client is cut off (-1s: none) (env DESKCONN_BODY_READ_TIMEOUT)")
	f.Int64Var(&l.BodyBytesInFlight, "body-bytes-in-flight", restapi.DefaultBodyBytesInFlight,
		"budget of request body bytes served at once; beyond it 503 with Retry-After (-1: none) (env DESKCONN_BODY_BYTES_IN_FLIGHT)")
	f.IntVar(&l.KeyConcurrency, "key-concurrency", restapi.DefaultKeyConcurrency,
		"requests in flight per API key; beyond it 429 with Retry-After (-1: none) (env DESKCONN_KEY_CONCURRENCY)")
	f.Float64Var(&l.KeyRate, "key-rate", restapi.DefaultKeyRate,
		"requests per second per API key on average; beyond it 429 with Retry-After (-1: none) (env DESKCONN_KEY_RATE)")
	f.IntVar(&l.KeyBurst, "key-burst", restapi.DefaultKeyBurst,
		"requests an API key may send at once above --key-rate (env DESKCONN_KEY_BURST)")
}

// limitsFromEnv sets each limit flag not given on the command line from
// its environment variable, if set; a bad value names the variable.
func limitsFromEnv(cmd *cobra.Command, env *Env) error {
	for _, l := range limitEnv {
		v := env.Getenv(l.env)
		if v == "" || cmd.Flags().Changed(l.flag) {
			continue
		}
		if err := cmd.Flags().Set(l.flag, v); err != nil {
			return fmt.Errorf("%s=%q is not a valid value for --%s: %w", l.env, v, l.flag, err)
		}
	}
	return nil
}

// listenBaseURL is the base URL of a server listening on ln for --addr
// addr: addr's host as given (a name stays a name, for cookies) with the
// port actually bound, so that --addr HOST:0 works.
func listenBaseURL(addr string, ln net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		host = "localhost"
	}
	_, port, err := net.SplitHostPort(ln.String())
	if err != nil {
		return "http://" + ln.String()
	}
	return "http://" + net.JoinHostPort(host, port)
}

// newServerMetrics returns the metrics of one `deskconn serve` process:
// its own registry, the action catalogue as the bounded set of action
// names, the store's connections, and the Go runtime collectors.
func newServerMetrics(a *app) *metrics.Metrics {
	var names []string
	for _, act := range deskactions.All(deskactions.Deps{}) {
		names = append(names, act.Name())
	}
	return metrics.New(metrics.Options{Actions: names, Connections: a.store, Logger: a.log, GoCollectors: true})
}

func runDemo(ctx context.Context, env *Env, addr string, autoConsent bool) error {
	log := newLogger(env)
	kr, err := openKeyring(env, log)
	if err != nil {
		return err
	}
	d, err := demo.Start(ctx, demo.Options{
		DataDir: filepath.Clean(env.DataDir),
		Addr:    addr,
		// The consent page unless --auto-consent: Start itself consents
		// for the demo connection either way.
		ConsentPage: !autoConsent,
		APIKey:      deskconn.Secret(env.Getenv("DESKCONN_API_KEY")),
		Keyring:     kr,
		Logger:      log,
		Mount:       mountDemoRoutes,
	})
	if err != nil {
		return err
	}
	defer d.Close()
	printDemo(env, d) // connecting the demo connection enabled its events (mountDemoEvents)
	<-ctx.Done()
	fmt.Fprintln(env.Stdout, "deskconn demo: shutting down")
	return nil
}

// demoCLIFlags are the flags that point a CLI command at the demo's
// database and tenant.
func demoCLIFlags(dataDir string) string {
	return "--data-dir " + shellQuote(dataDir) + " --db " + shellQuote(filepath.Join(dataDir, "demo.db")) + " --tenant " + demo.TenantName
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func printDemo(env *Env, d *demo.Demo) {
	host := strings.TrimPrefix(d.URL, "http://")
	key := d.APIKey.Reveal()
	dataDir, err := filepath.Abs(env.DataDir)
	if err != nil {
		dataDir = env.DataDir
	}
	stdio, _ := json.Marshal(map[string]any{"mcpServers": map[string]any{"zoho-desk-demo": map[string]any{
		"command": "deskconn",
		"args":    []string{"mcp", "--data-dir", dataDir, "--db", filepath.Join(dataDir, "demo.db"), "--tenant", demo.TenantName, "--connection", d.Connection},
	}}})
	fmt.Fprintf(env.Stdout, `deskconn demo is running on %s (Zoho Desk emulator at %s)

  Connect page (one-time login link):
    %s

  API key for tenant "demo" (shown once):
    %s

  To add a second connection on the connect page, use the emulator's client:
    Client id:     %s
    Client secret: %s

  Try it:
    curl -s -H "Authorization: Bearer %s" http://%s/v1/connections/%s
    curl -s -H "Authorization: Bearer %s" -H "Content-Type: application/json" \
      -d '{"params":{"limit":5,"status":"Open"}}' http://%s/v1/connections/%s/actions/list_tickets

  MCP over streamable HTTP: http://%s/mcp/%s (header "Authorization: Bearer <the API key>")
  MCP over stdio, while this demo runs (after "go install ./cmd/deskconn"):
    %s

  The CLI on the demo's data, while this demo runs (after "go install ./cmd/deskconn"):
    deskconn run list_tickets %s --input - <<< '{"params":{"status":"Open","limit":5}}'

  Events (tickets created or changed in the emulator; subscribers on this machine are allowed):
    curl -sN -H "Authorization: Bearer %s" http://%s/v1/connections/%s/events/stream

Press Ctrl-C to stop.
`, d.URL, d.EmulatorURL, d.LoginURL, key, emulator.DemoClientID, emulator.DemoClientSecret, key, host, d.Connection, key, host, d.Connection, host, d.Connection, stdio, demoCLIFlags(dataDir), key, host, d.Connection)
}
