package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/store"
)

func newAPIKeysCmd(env *Env) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{Use: "apikeys", Short: "Create, list and revoke API keys for the REST API and MCP"}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "default", "tenant the keys belong to (created on first use)")
	var readOnly bool
	var connName, actions, expires string
	create := &cobra.Command{
		Use: "create NAME", Short: "Create an API key and print it (once)", Args: cobra.ExactArgs(1),
		Long: `create makes an API key for the REST API and MCP over HTTP and prints it once.
Without flags the key reaches every connection of the tenant. Limit it with
--read-only (read actions only), --connection NAME (one connection),
--actions a,b (only these actions) and --expires 30d (or 12h); a call outside
its limits is refused, naming the limit.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			scope, err := keyScopeFlags(readOnly, actions, expires)
			if err != nil {
				return err
			}
			return withApp(cmd, env, func(ctx context.Context, a *app) error {
				t, err := a.tenant(ctx, tenant)
				if err != nil {
					return err
				}
				if connName != "" {
					c, err := findConnection(ctx, a.store, t.ID, connName)
					if err != nil {
						return err
					}
					scope.ConnectionID = c.ID
				}
				key, k, err := a.apikeys().CreateScoped(ctx, t.ID, args[0], scope)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "API key %s (%s) created for tenant %q with scope: %s. It is shown only now:\n", k.ID, k.Name, t.Name, keyScopeText(k, connName))
				_, err = fmt.Fprintln(env.Stdout, key.Reveal())
				return err
			})
		},
	}
	create.Flags().BoolVar(&readOnly, "read-only", false, "the key may run read actions only")
	create.Flags().StringVar(&connName, "connection", "", "the only connection (name or id) the key reaches")
	create.Flags().StringVar(&actions, "actions", "", "comma-separated: the only actions the key may run")
	create.Flags().StringVar(&expires, "expires", "", "how long the key is valid, e.g. 30d or 12h (default: until revoked)")
	cmd.AddCommand(create, &cobra.Command{
		Use: "list", Short: "List API keys (prefixes only)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, env, func(ctx context.Context, a *app) error {
				t, err := a.tenant(ctx, tenant)
				if err != nil {
					return err
				}
				keys, err := a.apikeys().List(ctx, t.ID)
				if err != nil {
					return err
				}
				conns, err := a.store.ListConnections(ctx, t.ID)
				if err != nil {
					return fmt.Errorf("list connections: %w", err)
				}
				names := map[string]string{}
				for _, c := range conns {
					names[c.ID] = c.Name
				}
				w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tNAME\tPREFIX\tSCOPE\tEXPIRES\tCREATED\tLAST USED\tREVOKED")
				for _, k := range keys {
					fmt.Fprintf(w, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, keyScopeText(k, names[k.ConnectionID]),
						stamp(k.ExpiresAt), stamp(k.CreatedAt), stamp(k.LastUsed), stamp(k.RevokedAt))
				}
				return w.Flush()
			})
		},
	}, &cobra.Command{
		Use: "revoke ID", Short: "Revoke an API key", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, env, func(ctx context.Context, a *app) error {
				t, err := a.tenant(ctx, tenant)
				if err != nil {
					return err
				}
				if err := a.apikeys().Revoke(ctx, t.ID, args[0]); err != nil {
					return err
				}
				_, err = fmt.Fprintf(env.Stdout, "API key %s revoked\n", args[0])
				return err
			})
		},
	})
	return cmd
}

// keyScopeFlags checks create's --read-only, --actions and --expires and
// returns the scope they give (the connection is resolved later).
func keyScopeFlags(readOnly bool, actions, expires string) (apikey.Scope, error) {
	sc := apikey.Scope{ReadOnly: readOnly}
	if actions != "" {
		cat := catalogue()
		for _, name := range strings.Split(actions, ",") {
			name = strings.TrimSpace(name)
			i := slices.IndexFunc(cat, func(a *action.Action) bool { return a.Name() == name })
			if i < 0 {
				return sc, deskconn.Errorf(deskconn.CodeInvalid, "--actions: no action %q; `deskconn actions` lists them", name)
			}
			if readOnly && cat[i].IsWrite() {
				return sc, deskconn.Errorf(deskconn.CodeInvalid, "--actions: %s changes data, which a --read-only key can never run; leave it out or drop --read-only", name)
			}
			if !slices.Contains(sc.Actions, name) {
				sc.Actions = append(sc.Actions, name)
			}
		}
	}
	if expires != "" {
		d, err := parseDays(expires)
		if err != nil || d <= 0 {
			return sc, deskconn.Errorf(deskconn.CodeInvalid, "--expires %q: give a positive duration such as 30d or 12h", expires)
		}
		sc.ExpiresAt = time.Now().Add(d)
	}
	return sc, nil
}

// keyScopeText describes k's scope for listings; connName names its
// connection ("" when unknown: the id is shown).
func keyScopeText(k *store.APIKey, connName string) string {
	sc := action.KeyScope{ReadOnly: k.ReadOnly, ConnectionID: k.ConnectionID, ConnectionName: connName, Actions: k.Actions}
	return sc.String()
}

// findConnection returns the tenant's connection by id or name, as
// connection.Manager.Get does, without needing a manager.
func findConnection(ctx context.Context, st store.Store, tenantID, idOrName string) (*store.Connection, error) {
	c, err := st.GetConnection(ctx, tenantID, idOrName)
	if errors.Is(err, store.ErrNotFound) {
		c, err = st.GetConnectionByName(ctx, tenantID, idOrName)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, deskconn.Errorf(deskconn.CodeInvalid, "--connection: no connection %q in this tenant; `deskconn connections list` lists them", idOrName)
	}
	if err != nil {
		return nil, fmt.Errorf("find connection: %w", err)
	}
	return c, nil
}
