package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/events"
)

func newKeysCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the keys that seal secrets at rest"}
	cmd.AddCommand(&cobra.Command{
		Use:   "reseal",
		Short: "Re-seal every stored secret under the active key",
		Long: `reseal re-encrypts every client secret, token and subscription secret under the first key of
DESKCONN_SECRET_KEY (a comma-separated list: the new key first, then the old
ones). Run it after adding a new key; then the old keys can be dropped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, env, func(ctx context.Context, a *app) error {
				n, err := connection.Reseal(ctx, a.store, a.keyring)
				if err != nil {
					return err
				}
				subs, err := events.ResealSubscriptions(ctx, a.store, a.keyring)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(env.Stdout, "re-sealed %d connection(s) under key %s\nre-sealed %d subscription secret(s)\n", n, a.keyring.ActiveKeyID(), subs)
				return err
			})
		},
	})
	return cmd
}
