package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn/internal/web"
)

func newLoginCmd(env *Env) *cobra.Command {
	var tenant, baseURL string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Print a new one-time login link for the connect page (no restart needed)",
		Long: `login stores a new one-time login link in the database and prints it. A
running "deskconn serve" on the same database (any replica) honours it at
once. The link works once and expires after --ttl.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ttl <= 0 {
				return fmt.Errorf("--ttl %s: give a positive duration such as 24h", ttl)
			}
			return withApp(cmd, env, func(ctx context.Context, a *app) error {
				base, err := connectionsBaseURL(ctx, env, a.store, baseURL)
				if err != nil {
					return err
				}
				t, err := a.tenant(ctx, tenant)
				if err != nil {
					return err
				}
				expires := time.Now().Add(ttl)
				link, err := web.CreateLoginURL(ctx, a.store, base, t.ID, expires)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "One-time login link for tenant %q, valid until %s:\n", t.Name, expires.UTC().Format(time.RFC3339))
				_, err = fmt.Fprintln(env.Stdout, link)
				return err
			})
		},
	}
	tenantFlag(cmd, &tenant)
	cmd.Flags().StringVar(&baseURL, "base-url", "", "public base URL of the server "+
		"(env DESKCONN_BASE_URL; default: the one the latest `deskconn serve` on this database uses, else http://127.0.0.1:8080)")
	cmd.Flags().DurationVar(&ttl, "ttl", web.DefaultLoginTTL, "how long the link stays valid")
	return cmd
}
