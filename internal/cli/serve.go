package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/internal/metrics"
	"github.com/deskconn/deskconn/internal/restapi"
)

func newServeCmd(env *Env) *cobra.Command {
	var addr, baseURL, tenant string
	var demoMode bool
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
connection through the real OAuth flow, and prints an API key and a curl example.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if demoMode {
				return runDemo(cmd.Context(), env, addr)
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
				srv, err := restapi.New(restapi.Options{Manager: m, APIKeys: a.apikeys(), BaseURL: baseURL, Logger: a.log, Metrics: a.metrics})
				if err != nil {
					return err
				}
				if err := mountRoutes(srv, m, a.store); err != nil {
					return err
				}
				login, err := srv.CreateLoginURL(ctx, t.ID)
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
	baseURLFlag(cmd, env, &baseURL)
	tenantFlag(cmd, &tenant)
	return cmd
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

func runDemo(ctx context.Context, env *Env, addr string) error {
	log := newLogger(env)
	kr, err := openKeyring(env, log)
	if err != nil {
		return err
	}
	d, err := demo.Start(ctx, demo.Options{
		DataDir: filepath.Clean(env.DataDir),
		Addr:    addr,
		APIKey:  deskconn.Secret(env.Getenv("DESKCONN_API_KEY")),
		Keyring: kr,
		Logger:  log,
		Mount:   mountDemoRoutes,
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

  Try it:
    curl -s -H "Authorization: Bearer %s" http://%s/v1/connections/%s
    curl -s -H "Authorization: Bearer %s" -H "Content-Type: application/json" \
      -d '{"params":{"limit":5,"status":"Open"}}' http://%s/v1/connections/%s/actions/list_tickets

  MCP over streamable HTTP: http://%s/mcp/%s (header "Authorization: Bearer <the API key>")
  MCP over stdio, while this demo runs (after "go install ./cmd/deskconn"):
    %s

  Events (tickets created or changed in the emulator; subscribers on this machine are allowed):
    curl -sN -H "Authorization: Bearer %s" http://%s/v1/connections/%s/events/stream

Press Ctrl-C to stop.
`, d.URL, d.EmulatorURL, d.LoginURL, key, key, host, d.Connection, key, host, d.Connection, host, d.Connection, stdio, key, host, d.Connection)
}
