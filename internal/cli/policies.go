package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/store"
)

// policyDefault, given as the POLICY of `policies set`, removes the
// connection's own setting so the action runs under its default again.
const policyDefault = "default"

func newPoliciesCmd(env *Env) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "policies",
		Short: "See and set what agents may do on a connection (allow, deny, confirm per action)",
		Long: `Each action runs on a connection under a policy: allow, deny, or confirm
(a write must carry "confirm": true). Without a setting an action runs under
its default: reads and plain writes allow, customer-visible and destructive
writes confirm. A change applies to the next call over REST, MCP and the CLI.`,
	}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "default", "tenant that owns the connection (created on first use)")

	withConn := func(cmd *cobra.Command, fn func(ctx context.Context, m *connection.Manager, t *store.Tenant) error) error {
		return withApp(cmd, env, func(ctx context.Context, a *app) error {
			baseURL, err := connectionsBaseURL(ctx, env, a.store, "")
			if err != nil {
				return err
			}
			m, err := a.manager(baseURL)
			if err != nil {
				return err
			}
			t, err := a.tenant(ctx, tenant)
			if err != nil {
				return err
			}
			return fn(ctx, m, t)
		})
	}
	show := func(c *store.Connection, asJSON bool) error {
		entries := action.EffectivePolicies(catalogue(), c.Policies)
		if asJSON {
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]any{"connection": c.Name, "policies": entries})
		}
		w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ACTION\tKIND\tPOLICY\tDEFAULT\tSET")
		for _, e := range entries {
			set := ""
			if e.Set {
				set = "yes"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.Action, e.Kind, e.Policy, e.Default, set)
		}
		return w.Flush()
	}

	var asJSON bool
	list := &cobra.Command{
		Use: "list CONNECTION", Short: "List every action's policy on the connection", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withConn(cmd, func(ctx context.Context, m *connection.Manager, t *store.Tenant) error {
				c, err := m.Get(ctx, t.ID, args[0])
				if err != nil {
					return err
				}
				return show(c, asJSON)
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")

	set := &cobra.Command{
		Use:   "set CONNECTION ACTION POLICY",
		Short: "Set one action's policy: allow, deny, confirm, or default (remove the setting)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, pol := args[1], args[2]
			if pol != policyDefault {
				if err := action.CheckPolicies(catalogue(), map[string]string{name: pol}, ""); err != nil {
					return policyArgError(err, name, pol)
				}
			} else if err := action.CheckPolicies(catalogue(), map[string]string{name: string(action.PolicyAllow)}, ""); err != nil {
				return policyArgError(err, name, pol)
			}
			return withConn(cmd, func(ctx context.Context, m *connection.Manager, t *store.Tenant) error {
				c, err := m.SetPolicies(ctx, t.ID, args[0], func(cur map[string]string) (map[string]string, error) {
					if pol == policyDefault {
						delete(cur, name)
					} else {
						cur[name] = pol
					}
					return cur, nil
				})
				if err != nil {
					return err
				}
				e := effective(c, name)
				_, err = fmt.Fprintf(env.Stdout, "%s on connection %s: %s\n", name, c.Name, e)
				return err
			})
		},
	}

	preset := &cobra.Command{
		Use:   "preset CONNECTION " + strings.Join(action.Presets, "|"),
		Short: "Replace the connection's policies with a preset",
		Long: `preset replaces every policy the connection sets:
  read-only                   denies every write; reads stay allowed
  no-customer-visible-writes  denies the writes a customer sees (reply_to_ticket)`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			next, err := action.PresetPolicies(args[1], catalogue())
			if err != nil {
				return deskconn.Errorf(deskconn.CodeInvalid, "%v", err)
			}
			return withConn(cmd, func(ctx context.Context, m *connection.Manager, t *store.Tenant) error {
				c, err := m.SetPolicies(ctx, t.ID, args[0], func(map[string]string) (map[string]string, error) { return next, nil })
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "preset %s applied to connection %s\n", args[1], c.Name)
				return show(c, false)
			})
		},
	}
	cmd.AddCommand(list, set, preset)
	return cmd
}

// effective names the policy name runs under on c, and whether it is the
// default.
func effective(c *store.Connection, name string) string {
	for _, e := range action.EffectivePolicies(catalogue(), c.Policies) {
		if e.Action == name {
			if e.Set {
				return string(e.Policy)
			}
			return string(e.Policy) + " (the default)"
		}
	}
	return ""
}

// policyArgError turns CheckPolicies' pointer-based error into one that
// names the command-line argument to change.
func policyArgError(err error, name, pol string) error {
	de, ok := err.(*deskconn.Error)
	if !ok || len(de.Fields) == 0 {
		return err
	}
	msg := de.Fields[0].Message
	if strings.HasPrefix(msg, "no action") {
		return deskconn.Errorf(deskconn.CodeInvalid, "ACTION %q: %s", name, strings.Replace(msg, "GET /v1/actions or ", "", 1))
	}
	if strings.Contains(msg, "nothing to confirm") {
		return deskconn.Errorf(deskconn.CodeInvalid, "POLICY %q: %s", pol, msg)
	}
	return deskconn.Errorf(deskconn.CodeInvalid, "POLICY %q: use allow, deny, confirm or default", pol)
}
