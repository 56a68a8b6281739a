package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/events"
	"github.com/deskconn/deskconn/internal/store"
)

// eventsRun opens the app, the manager and the tenant for an events or
// subscriptions command.
func eventsRun(env *Env, tenant, baseURL *string, fn func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		return withApp(cmd, env, func(ctx context.Context, a *app) error {
			m, err := a.manager(*baseURL)
			if err != nil {
				return err
			}
			t, err := a.tenant(ctx, *tenant)
			if err != nil {
				return err
			}
			return fn(ctx, a, m, t)
		})
	}
}

// parseTypes reads a comma list of event types.
func parseTypes(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if !events.KnownType(t) {
			return nil, fmt.Errorf("--types: unknown event type %q; use a comma list of %s", t, strings.Join(events.Types, ", "))
		}
		out = append(out, t)
	}
	return out, nil
}

func newEventsCmd(env *Env) *cobra.Command {
	var tenant, baseURL string
	cmd := &cobra.Command{Use: "events", Short: "Turn a connection's Zoho Desk events on or off, and follow them"}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "default", "tenant that owns the connections (created on first use)")
	def := env.Getenv("DESKCONN_BASE_URL")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	cmd.PersistentFlags().StringVar(&baseURL, "base-url", def, "public base URL of the running server; Zoho's webhook points at BASE/zoho/webhooks (env DESKCONN_BASE_URL)")

	var mode string
	enable := &cobra.Command{
		Use:   "enable CONNECTION",
		Short: "Receive the connection's events: a Zoho webhook when possible, polling otherwise",
		Long: `enable registers a Zoho webhook for the connection's ticket, thread, comment,
contact and account events, pointing at the running server (--base-url, which
Zoho must reach over https). Where a webhook cannot be had (no public https
URL, an edition without webhooks, or a connection without the Desk.events.ALL
scope) the server polls Zoho instead, and this command says why.`,
		Args: cobra.ExactArgs(1),
	}
	enable.Flags().StringVar(&mode, "mode", "", `"webhook" (fail rather than poll), "polling", or empty for the best available`)
	enable.RunE = func(cmd *cobra.Command, args []string) error {
		if mode != "" && mode != string(store.SourceWebhook) && mode != string(store.SourcePolling) {
			return fmt.Errorf(`--mode %q: use "webhook", "polling" or leave it empty`, mode)
		}
		return eventsRun(env, &tenant, &baseURL, func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error {
			src := &events.Sources{Store: a.store, Client: m.Client, BaseURL: baseURL}
			got, err := src.Enable(ctx, t.ID, args[0], store.EventSourceMode(mode))
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "events of %s: %s\n", args[0], got.Mode)
			if got.LastError != "" {
				fmt.Fprintf(env.Stdout, "note: %s\n", got.LastError)
			}
			return nil
		})(cmd, args)
	}

	disable := &cobra.Command{
		Use: "disable CONNECTION", Short: "Stop receiving the connection's events and delete its Zoho webhook", Args: cobra.ExactArgs(1),
	}
	disable.RunE = func(cmd *cobra.Command, args []string) error {
		return eventsRun(env, &tenant, &baseURL, func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error {
			src := &events.Sources{Store: a.store, Client: m.Client, BaseURL: baseURL}
			if err := src.Disable(ctx, t.ID, args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintf(env.Stdout, "events of %s: off\n", args[0])
			return err
		})(cmd, args)
	}

	var conn, types string
	var after int64
	var noFollow bool
	tail := &cobra.Command{
		Use:   "tail --connection NAME",
		Short: "Print the connection's events as JSON lines, following new ones",
		Long: `tail prints the connection's events, one JSON envelope per line, oldest first,
then waits for new ones until interrupted (or, with --no-follow, exits).
Each line's cursor is printed to standard error as "cursor N"; pass the last
one as --after to continue later.`,
		Args: cobra.NoArgs,
	}
	tail.Flags().StringVar(&conn, "connection", "", "connection name or id (required)")
	tail.Flags().StringVar(&types, "types", "", "comma list of event types (default: all)")
	tail.Flags().Int64Var(&after, "after", 0, "start after this cursor (0: the oldest event kept)")
	tail.Flags().BoolVar(&noFollow, "no-follow", false, "print the events there are and exit")
	tail.RunE = func(cmd *cobra.Command, args []string) error {
		if conn == "" {
			return errors.New("--connection is required: name the connection whose events to print")
		}
		ts, err := parseTypes(types)
		if err != nil {
			return err
		}
		return eventsRun(env, &tenant, &baseURL, func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error {
			c, err := m.Get(ctx, t.ID, conn)
			if err != nil {
				return err
			}
			l := &events.Log{Store: a.store}
			f := store.EventFilter{ConnectionID: c.ID, After: after, Types: ts, Limit: 100}
			for {
				wait := 30 * time.Second
				if noFollow {
					wait = 0
				}
				evs, err := l.Wait(ctx, f, wait)
				if err != nil {
					if ctx.Err() != nil {
						return nil // interrupted
					}
					return err
				}
				for _, e := range evs {
					fmt.Fprintf(env.Stdout, "%s\n", e.Body)
					fmt.Fprintf(env.Stderr, "cursor %d\n", e.Seq)
					f.After = e.Seq
				}
				if noFollow && len(evs) < f.Limit {
					return nil
				}
			}
		})(cmd, args)
	}
	cmd.AddCommand(enable, disable, tail)
	return cmd
}

func newSubscriptionsCmd(env *Env) *cobra.Command {
	var tenant, baseURL, conn string
	cmd := &cobra.Command{Use: "subscriptions", Aliases: []string{"subs"}, Short: "Push a connection's events to your URL, signed"}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "default", "tenant that owns the connections (created on first use)")
	cmd.PersistentFlags().StringVar(&conn, "connection", "", "connection name or id (required)")
	baseURL = "http://127.0.0.1:8080" // unused: subscriptions need no OAuth redirect
	withConn := func(fn func(ctx context.Context, a *app, c *store.Connection) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			if conn == "" {
				return errors.New("--connection is required: name the connection whose events to push")
			}
			return eventsRun(env, &tenant, &baseURL, func(ctx context.Context, a *app, m *connection.Manager, t *store.Tenant) error {
				c, err := m.Get(ctx, t.ID, conn)
				if err != nil {
					return err
				}
				return fn(ctx, a, c)
			})(cmd, args)
		}
	}

	var url, types string
	add := &cobra.Command{
		Use:   "add --connection NAME --url URL",
		Short: "Subscribe a URL; prints the signing secret once",
		Long: `add makes the running server POST every new event of the connection (of
--types, default all) to URL, signed with a secret printed only now:
Deskconn-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">.
Failed deliveries are retried with backoff for at least 24 hours. The URL must
be a public http(s) address (private and loopback addresses are refused).`,
		Args: cobra.NoArgs,
	}
	add.Flags().StringVar(&url, "url", "", "where deliveries are POSTed (required)")
	add.Flags().StringVar(&types, "types", "", "comma list of event types (default: all)")
	add.RunE = func(cmd *cobra.Command, args []string) error {
		if url == "" {
			return errors.New("--url is required: the https address deliveries are POSTed to")
		}
		ts, err := parseTypes(types)
		if err != nil {
			return err
		}
		return withConn(func(ctx context.Context, a *app, c *store.Connection) error {
			sub, secret, err := events.NewSubscription(ctx, a.store, a.keyring, subscriberFetcher(a.log, false), c.TenantID, c.ID, url, ts)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.Stdout, "subscription %s added\nsigning secret (shown only now): %s\n", sub.ID, secret)
			return err
		})(cmd, args)
	}

	list := &cobra.Command{Use: "list --connection NAME", Short: "List the connection's subscriptions", Args: cobra.NoArgs}
	list.RunE = withConn(func(ctx context.Context, a *app, c *store.Connection) error {
		subs, err := a.store.ListSubscriptions(ctx, c.TenantID, c.ID)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tURL\tTYPES\tCREATED")
		for _, s := range subs {
			ts := strings.Join(s.Types, ",")
			if ts == "" {
				ts = "all"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.ID, s.URL, ts, s.CreatedAt.Format(time.RFC3339))
		}
		return w.Flush()
	})

	del := &cobra.Command{Use: "delete --connection NAME ID", Short: "Delete a subscription", Args: cobra.ExactArgs(1)}
	del.RunE = func(cmd *cobra.Command, args []string) error {
		return withConn(func(ctx context.Context, a *app, c *store.Connection) error {
			sub, err := a.store.GetSubscription(ctx, c.TenantID, args[0])
			if err != nil || sub.ConnectionID != c.ID {
				return fmt.Errorf("connection %s has no subscription %q", c.Name, args[0])
			}
			if err := a.store.DeleteSubscription(ctx, c.TenantID, sub.ID); err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.Stdout, "subscription %s deleted\n", sub.ID)
			return err
		})(cmd, args)
	}
	cmd.AddCommand(add, list, del)
	return cmd
}
