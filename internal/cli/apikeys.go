package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newAPIKeysCmd(env *Env) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{Use: "apikeys", Short: "Create, list and revoke API keys for the REST API and MCP"}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "default", "tenant the keys belong to (created on first use)")
	cmd.AddCommand(&cobra.Command{
		Use: "create NAME", Short: "Create an API key and print it (once)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, env, func(ctx context.Context, a *app) error {
				t, err := a.tenant(ctx, tenant)
				if err != nil {
					return err
				}
				key, k, err := a.apikeys().Create(ctx, t.ID, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "API key %s (%s) created for tenant %q. It is shown only now:\n", k.ID, k.Name, t.Name)
				_, err = fmt.Fprintln(env.Stdout, key.Reveal())
				return err
			})
		},
	}, &cobra.Command{
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
				w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tNAME\tPREFIX\tCREATED\tLAST USED\tREVOKED")
				for _, k := range keys {
					fmt.Fprintf(w, "%s\t%s\t%s…\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, stamp(k.CreatedAt), stamp(k.LastUsed), stamp(k.RevokedAt))
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
