package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
)

func newAuditCmd(env *Env) *cobra.Command {
	var tenant, conn, act, outcome, key string
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the activity log: writes made or refused through actions, newest first",
		Long: `audit lists the tenant's audit records, newest first: when, which API key
("-" for the CLI and the web page), connection, action, outcome (ok, dry_run or
an error code such as forbidden), Zoho's request id and a short summary (never
secrets or file contents). --json prints one JSON object a line (the same
records GET /v1/audit exports).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return fmt.Errorf("--limit %d: give 0 (every record) or more", limit)
			}
			return withApp(cmd, env, func(ctx context.Context, a *app) error {
				t, err := a.tenant(ctx, tenant)
				if err != nil {
					return err
				}
				conns, err := a.store.ListConnections(ctx, t.ID)
				if err != nil {
					return fmt.Errorf("list connections: %w", err)
				}
				names := map[string]string{}
				f := store.AuditFilter{TenantID: t.ID, Action: act, Outcome: outcome, APIKeyID: key}
				for _, c := range conns {
					names[c.ID] = c.Name
					if conn != "" && (c.Name == conn || c.ID == conn) {
						f.ConnectionID = c.ID
					}
				}
				if conn != "" && f.ConnectionID == "" {
					return fmt.Errorf("--connection: no connection %q in tenant %q; `deskconn connections list` lists them", conn, t.Name)
				}
				recs, err := auditRecords(ctx, a.store, f, limit)
				if err != nil {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(env.Stdout)
					for _, r := range recs {
						if err := enc.Encode(restapi.NewAuditView(r, names)); err != nil {
							return err
						}
					}
					return nil
				}
				w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "TIME\tKEY\tCONNECTION\tACTION\tOUTCOME\tDETAIL")
				for _, r := range recs {
					who, where := r.APIKeyID, names[r.ConnectionID]
					if who == "" {
						who = "-"
					}
					if where == "" {
						where = r.ConnectionID
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", stamp(r.Time), who, where, r.Action, r.Outcome, r.Detail)
				}
				return w.Flush()
			})
		},
	}
	tenantFlag(cmd, &tenant)
	f := cmd.Flags()
	f.StringVar(&conn, "connection", "", "only this connection (name or id)")
	f.StringVar(&act, "action", "", "only this action")
	f.StringVar(&outcome, "outcome", "", "only this outcome (ok, dry_run, forbidden, ...)")
	f.StringVar(&key, "key", "", "only this API key id")
	f.BoolVar(&asJSON, "json", false, "print JSON lines instead of a table")
	f.IntVar(&limit, "limit", 100, "at most this many records (0: every one)")
	return cmd
}

// auditRecords reads the records matching f, newest first, a page at a
// time, up to limit (0: all).
func auditRecords(ctx context.Context, st store.Store, f store.AuditFilter, limit int) ([]*store.AuditRecord, error) {
	const page = 1000
	var out []*store.AuditRecord
	for {
		f.Limit = page
		if limit > 0 {
			f.Limit = min(page, limit-len(out))
		}
		recs, err := st.ListAudit(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("read the audit log: %w", err)
		}
		out = append(out, recs...)
		if len(recs) < f.Limit || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		f.BeforeID = recs[len(recs)-1].ID
	}
}
