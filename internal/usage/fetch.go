package usage

import (
	"context"
	"errors"
	"fmt"

	"github.com/deskconn/deskconn/zohodesk"
)

// ClientFunc returns the Zoho Desk client of a tenant's connection.
type ClientFunc func(ctx context.Context, tenantID, connectionID string) (*zohodesk.Client, error)

// FetchFromDesk returns a FetchOrgFunc that asks Zoho Desk with the
// connection's client: the edition from GET /api/v1/organizations (the
// entry of the organisation), the active full agents from GET
// /api/v1/agents/count?status=ACTIVE&includeLightAgent=false. Both need
// only read scopes the default connection has (Desk.basic.READ or
// Desk.settings.READ); a connection without them gets the error of the
// call that failed and keeps what the other call returned.
func FetchFromDesk(client ClientFunc) FetchOrgFunc {
	return func(ctx context.Context, key OrgKey) (OrgInfo, error) {
		var info OrgInfo
		cl, err := client(ctx, key.TenantID, key.ConnectionID)
		if err != nil {
			return info, fmt.Errorf("the connection's Zoho client: %w", err)
		}
		var errs []error
		orgs, _, err := cl.Organizations.List(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("the organisation's edition (GET /organizations): %w", err))
		} else {
			found := false
			for _, o := range orgs {
				if o.ID == key.OrgID {
					info.Edition, found = o.Edition, true
				}
			}
			if !found {
				errs = append(errs, fmt.Errorf("the organisation's edition: organisation %s is not among the user's", key.OrgID))
			}
		}
		no := false
		n, _, err := cl.Agents.Count(ctx, key.OrgID, &zohodesk.AgentCountOptions{Status: "ACTIVE", IncludeLightAgent: &no})
		if err != nil {
			errs = append(errs, fmt.Errorf("the number of agents (GET /agents/count): %w", err))
		} else {
			info.Agents, info.AgentsKnown = n, true
		}
		return info, errors.Join(errs...)
	}
}
