package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
)

// newGrantsCmd lists and revokes MCP sign-in grants: the OAuth consents
// hosted MCP clients got on the consent page, the credentials beside API
// keys.
func newGrantsCmd(env *Env) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{Use: "grants", Short: "List and revoke the access MCP clients got by OAuth sign-in",
		Long: `grants lists and revokes the grants MCP clients received when a person
signed them in on the consent page (OAuth sign-in for MCP over HTTP). A grant
is a credential beside API keys: revoking it refuses its access and refresh
tokens at once. The REST API offers the same: GET /v1/mcp-grants and
DELETE /v1/mcp-grants/{id}.`}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "default", "tenant the grants belong to")
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List live grants", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, env, func(ctx context.Context, a *app) error {
				t, err := a.tenant(ctx, tenant)
				if err != nil {
					return err
				}
				gs, err := a.store.ListMCPGrants(ctx, t.ID)
				if err != nil {
					return fmt.Errorf("list grants: %w", err)
				}
				w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tCLIENT\tRESOURCE\tSCOPE\tCREATED")
				for _, g := range gs {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", g.ID, g.ClientName, g.Resource, grantScopeText(g), stamp(g.CreatedAt))
				}
				return w.Flush()
			})
		},
	}, &cobra.Command{
		Use: "revoke ID", Short: "Revoke a grant and every token issued under it", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, env, func(ctx context.Context, a *app) error {
				t, err := a.tenant(ctx, tenant)
				if err != nil {
					return err
				}
				err = a.store.RevokeMCPGrant(ctx, t.ID, args[0], time.Now())
				if errors.Is(err, store.ErrNotFound) {
					return deskconn.Errorf(deskconn.CodeNotFound, "no live grant %q in tenant %q: `deskconn grants list` shows them", args[0], tenant)
				}
				if err != nil {
					return fmt.Errorf("revoke grant: %w", err)
				}
				_, err = fmt.Fprintf(env.Stdout, "grant %s revoked\n", args[0])
				return err
			})
		},
	})
	return cmd
}

func grantScopeText(g *store.MCPGrant) string {
	s := "full"
	if g.ReadOnly {
		s = "read-only"
	}
	if g.Toolset != "" {
		s += ", toolset " + g.Toolset
	}
	return s
}
