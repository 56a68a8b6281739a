package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/metrics"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/usage"
)

func newConnectionsCmd(env *Env) *cobra.Command {
	var tenant, baseURL string
	cmd := &cobra.Command{Use: "connections", Aliases: []string{"conn"}, Short: "Add, connect, inspect and delete Zoho Desk connections"}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "default", "tenant that owns the connections (created on first use)")
	cmd.PersistentFlags().StringVar(&baseURL, "base-url", "", "public base URL of the server; the OAuth redirect URL is BASE/oauth/callback "+
		"(env DESKCONN_BASE_URL; default: the one the latest `deskconn serve` on this database uses, else http://127.0.0.1:8080)")

	run := func(fn func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, env, func(ctx context.Context, a *app) error {
				var err error
				if baseURL, err = connectionsBaseURL(ctx, env, a.store, baseURL); err != nil {
					return err
				}
				if a.metrics == nil {
					// What Zoho answers (credits left) feeds the health
					// that show prints.
					a.metrics = metrics.New(metrics.Options{})
				}
				m, err := a.manager(baseURL)
				if err != nil {
					return err
				}
				t, err := a.tenant(ctx, tenant)
				if err != nil {
					return err
				}
				return fn(ctx, a, m, t)
			})
		}
	}

	var clientID, scopes string
	var secretStdin bool
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a connection (client id and secret from the Zoho API console)",
		Long: `add stores a new connection. The client secret is read from the environment
variable DESKCONN_CLIENT_SECRET or, with --client-secret-stdin, from the first
line of standard input: never from the command line, where other users and
shell history could see it.`,
		Args: cobra.ExactArgs(1),
	}
	add.Flags().StringVar(&clientID, "client-id", "", "OAuth client id (required)")
	add.Flags().StringVar(&scopes, "scopes", strings.Join(connection.DefaultScopes, ","), "comma-separated scopes")
	add.Flags().BoolVar(&secretStdin, "client-secret-stdin", false, "read the client secret from standard input")
	add.RunE = func(cmd *cobra.Command, args []string) error {
		secret := env.Getenv("DESKCONN_CLIENT_SECRET")
		if secretStdin {
			line, err := bufio.NewReader(env.Stdin).ReadString('\n')
			if err != nil && line == "" {
				return fmt.Errorf("read the client secret from standard input: %w", err)
			}
			secret = strings.TrimSpace(line)
		}
		return run(func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error {
			c, err := m.Create(ctx, t.ID, connection.CreateInput{Name: args[0], ClientID: clientID, ClientSecret: deskconn.Secret(secret), Scopes: connection.ParseScopes(scopes)})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.Stdout, "connection %s added (id %s)\nRegister this redirect URL in the Zoho API console: %s\nThen run: deskconn connections connect %s\n", c.Name, c.ID, m.CallbackURL(), c.Name)
			return err
		})(cmd, args)
	}

	list := &cobra.Command{Use: "list", Short: "List connections", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error {
			cs, err := m.List(ctx, t.ID)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tSTATUS\tREGION\tORG\tUSER")
			for _, c := range cs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.Name, c.Status, dash(c.Location), dash(orgLabel(c)), dash(c.UserEmail))
			}
			return w.Flush()
		})}

	var asJSON bool
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a connection and its health",
		Long: `show prints a connection and its health: token state and next refresh, last
error, the organisation's API credits used today of its edition's daily limit,
and the calls and errors of the last hour (every action call, reads included,
by any server or CLI on this database).

The daily limit needs the organisation's edition and active agents: show
asks Zoho for them (two calls, 2 credits of the organisation's), which also
gives the credits left. --json prints the same health object as
GET /v1/connections/{connection}.`,
		Args: cobra.ExactArgs(1),
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show.RunE = func(cmd *cobra.Command, args []string) error {
		return run(func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error {
			c, err := m.Get(ctx, t.ID, args[0])
			if err != nil {
				return err
			}
			h := restapi.NewHealthReporter(m, usage.NewCounter(a.store, nil, a.log), a.metrics, nil).Health(ctx, c)
			return printConnectionHealth(env, m, c, &h, asJSON)
		})(cmd, args)
	}

	del := &cobra.Command{Use: "delete NAME", Short: "Revoke a connection's refresh token and delete it", Args: cobra.ExactArgs(1)}
	del.RunE = func(cmd *cobra.Command, args []string) error {
		return run(func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error {
			if err := m.Delete(ctx, t.ID, args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintf(env.Stdout, "connection %s deleted\n", args[0])
			return err
		})(cmd, args)
	}

	var wait time.Duration
	var rebind bool
	connect := &cobra.Command{
		Use:   "connect NAME",
		Short: "Print the Zoho authorize URL and wait for the callback",
		Long: `connect prints the URL to open in a browser. When nothing listens on the
base URL's address it listens there itself for the OAuth callback; when
'deskconn serve' already does, it waits for the server to finish the flow.

Reconnecting keeps the organisation the connection is bound to: consenting as
a Zoho user of another organisation is refused. --rebind lets this consent
bind the connection to another organisation; the activity log records it.`,
		Args: cobra.ExactArgs(1),
	}
	connect.Flags().DurationVar(&wait, "wait", 10*time.Minute, "how long to wait for the callback")
	connect.Flags().BoolVar(&rebind, "rebind", false, "allow the consent to bind the connection to another organisation (audited)")
	connect.RunE = func(cmd *cobra.Command, args []string) error {
		return run(func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error {
			return connectCLI(ctx, env, m, t, args[0], baseURL, wait, rebind)
		})(cmd, args)
	}

	org := &cobra.Command{Use: "org NAME ORG_ID", Short: "Choose the organisation of a connection whose user has several", Args: cobra.ExactArgs(2)}
	org.RunE = func(cmd *cobra.Command, args []string) error {
		return run(func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error {
			c, err := m.ChooseOrg(ctx, t.ID, args[0], args[1])
			if err != nil {
				return err
			}
			return printConnection(env, m, c, false)
		})(cmd, args)
	}
	cmd.AddCommand(add, list, show, del, connect, org)
	return cmd
}

// connectionsBaseURL is the base URL of the connection commands: --base-url,
// else DESKCONN_BASE_URL, else the one `deskconn serve` recorded in the
// store (so the redirect URL printed is the one its connect page shows),
// else http://127.0.0.1:8080.
func connectionsBaseURL(ctx context.Context, env *Env, st store.Store, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if u := env.Getenv("DESKCONN_BASE_URL"); u != "" {
		return u, nil
	}
	u, err := st.GetSetting(ctx, store.SettingBaseURL)
	switch {
	case err == nil:
		return u, nil
	case errors.Is(err, store.ErrNotFound):
		return "http://127.0.0.1:8080", nil
	default:
		return "", fmt.Errorf("read the server's base URL: %w", err)
	}
}

func connectCLI(ctx context.Context, env *Env, m *connection.Manager, t *store.Tenant, name, baseURL string, wait time.Duration, rebind bool) error {
	before, err := m.Get(ctx, t.ID, name)
	if err != nil {
		return err
	}
	authorize := m.AuthorizeURL
	if rebind {
		authorize = m.AuthorizeURLRebind
	}
	authURL, err := authorize(ctx, t.ID, name, "")
	if err != nil {
		return err
	}
	printAuthURL := func() {
		fmt.Fprintf(env.Stdout, "Open this URL in a browser to connect %s:\n\n    %s\n\nWaiting for the callback at %s ...\n", name, authURL, m.CallbackURL())
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()

	u, err := url.Parse(baseURL)
	if err != nil {
		return fmt.Errorf("base url: %w", err)
	}
	// Listen before printing the URL, so that a callback cannot arrive
	// before anything is there to receive it.
	ln, err := net.Listen("tcp", u.Host)
	var dnsErr *net.DNSError
	if errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EADDRNOTAVAIL) || errors.As(err, &dnsErr) {
		// A server is there, or the base URL is a server's elsewhere (as
		// recorded by serve): it handles the callback; watch the store.
		printAuthURL()
		return waitForServer(ctx, env, m, t, before)
	}
	if err != nil {
		return fmt.Errorf("listen for the callback on %s: %w", u.Host, err)
	}
	printAuthURL()
	type result struct {
		c   *store.Connection
		err error
	}
	results := make(chan result, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/callback", func(w http.ResponseWriter, r *http.Request) {
		res, err := m.Callback(r.Context(), r.URL.Query())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "deskconn: %s\n", deskconn.AsError(err).Message)
		} else {
			fmt.Fprintf(w, "deskconn: connection %s is %s. You can close this tab.\n", res.Connection.Name, res.Connection.Status)
		}
		var c *store.Connection
		if res != nil {
			c = res.Connection
		}
		select {
		case results <- result{c, err}:
		default:
		}
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer func() {
		// Shutdown, not Close: the browser must still receive the page
		// that the callback handler is writing.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			hs.Close()
		}
	}()
	select {
	case <-ctx.Done():
		return fmt.Errorf("no callback arrived: %w", ctx.Err())
	case r := <-results:
		if r.err != nil {
			// The message was written for the web page ("click Connect"):
			// say what to do at the terminal too.
			return fmt.Errorf("%w\nTo try again, run: deskconn connections connect %s", r.err, name)
		}
		return printConnection(env, m, r.c, false)
	}
}

func waitForServer(ctx context.Context, env *Env, m *connection.Manager, t *store.Tenant, before *store.Connection) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the connection did not change: %w", ctx.Err())
		case <-tick.C:
		}
		c, err := m.Get(ctx, t.ID, before.ID)
		if err != nil {
			return err
		}
		if c.UpdatedAt.After(before.UpdatedAt) && (c.Status == store.StatusActive || c.Status == store.StatusChooseOrg) {
			return printConnection(env, m, c, false)
		}
	}
}

func printConnection(env *Env, m *connection.Manager, c *store.Connection, asJSON bool) error {
	return printConnectionHealth(env, m, c, nil, asJSON)
}

// printConnectionHealth prints c, and its health when h is not nil (in
// JSON under "health", as GET /v1/connections/{connection} has it).
func printConnectionHealth(env *Env, m *connection.Manager, c *store.Connection, h *usage.Health, asJSON bool) error {
	if asJSON {
		v := map[string]any{
			"id": c.ID, "name": c.Name, "status": c.Status, "clientId": c.ClientID, "scopes": c.Scopes,
			"redirectUrl": m.CallbackURL(), "location": c.Location, "accountsServer": c.AccountsServer,
			"deskBaseUrl": c.DeskBaseURL, "orgId": c.OrgID, "orgName": c.OrgName, "orgChoices": connection.OrgChoices(c),
			"userId": c.UserID, "userEmail": c.UserEmail, "userName": c.UserName, "lastError": c.LastError,
		}
		if h != nil {
			v["health"] = h
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Name:\t%s\nStatus:\t%s\nClient id:\t%s\nScopes:\t%s\nRedirect URL:\t%s\n", c.Name, c.Status, c.ClientID, strings.Join(c.Scopes, ","), m.CallbackURL())
	if c.Location != "" {
		fmt.Fprintf(w, "Region:\t%s (%s)\n", c.Location, c.AccountsServer)
	}
	if c.OrgID != "" {
		fmt.Fprintf(w, "Organisation:\t%s\n", orgLabel(c))
	}
	for _, o := range connection.OrgChoices(c) {
		if c.Status == store.StatusChooseOrg {
			fmt.Fprintf(w, "Choice:\t%s (%s)   deskconn connections org %s %s\n", o.Name, o.ID, c.Name, o.ID)
		}
	}
	if c.UserEmail != "" {
		fmt.Fprintf(w, "Zoho user:\t%s <%s>\n", c.UserName, c.UserEmail)
	}
	if c.LastError != "" {
		fmt.Fprintf(w, "Last error:\t%s\n", c.LastError)
	}
	if h != nil {
		fmt.Fprintf(w, "Token:\t%s\n", h.TokenNote)
		if h.AccessTokenExpiresAt != nil {
			fmt.Fprintf(w, "Next refresh:\ton the first call after %s\n", h.AccessTokenExpiresAt.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "Zoho credits:\t%s\n", h.Credits.Summary)
		fmt.Fprintf(w, "Last hour:\t%d calls, %d failed (%s)\n", h.LastHour.Calls, h.LastHour.Errors, h.LastHour.Note)
		if h.LastHour.CountError != "" {
			fmt.Fprintf(w, "\tsaved counts unreadable: %s\n", h.LastHour.CountError)
		}
	}
	return w.Flush()
}

func orgLabel(c *store.Connection) string {
	if c.OrgID == "" {
		return ""
	}
	return c.OrgName + " (" + c.OrgID + ")"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}
