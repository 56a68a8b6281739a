package resilience

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
)

const (
	org      = emulator.DemoOrgID
	ticketID = "1892000000042032"
)

// matrixActions are the spec's ten actions and the lookups, each with an
// input that succeeds against the seeded emulator.
var matrixActions = []struct {
	name, input string
	read        bool
}{
	{"create_ticket", `{"orgId":"` + org + `","payload":{"subject":"Matrix","departmentId":"1892000000006907","contactId":"1892000000042032"}}`, false},
	{"list_tickets", `{"orgId":"` + org + `","params":{"limit":10}}`, true},
	{"get_ticket", `{"orgId":"` + org + `","ticketId":"` + ticketID + `"}`, true},
	{"update_ticket", `{"orgId":"` + org + `","ticketId":"` + ticketID + `","payload":{"priority":"High"}}`, false},
	{"move_tickets_to_trash", `{"orgId":"` + org + `","payload":{"ticketIds":["` + ticketID + `"]}}`, false},
	{"create_ticket_attachment", `{"orgId":"` + org + `","ticketId":"` + ticketID + `","fileName":"a.txt","fileData":"aGVsbG8gd29ybGQ="}`, false},
	{"list_ticket_attachments", `{"orgId":"` + org + `","ticketId":"` + ticketID + `"}`, true},
	{"add_agent", `{"orgId":"` + org + `","payload":{"emailId":"new.agent@zylker.com","lastName":"Agent","rolePermissionType":"AgentPublic","associatedDepartmentIds":["1892000000006907"]}}`, false},
	{"list_agents", `{"orgId":"` + org + `"}`, true},
	{"deactivate_agent", `{"orgId":"` + org + `","agentId":"` + emulator.DemoAgentID + `"}`, false},
	{"find_agent_by_email", `{"orgId":"` + org + `","email":"jade.tywin@zylker.com"}`, true},
	{"list_organizations", `{}`, true},
	{"list_departments", `{"orgId":"` + org + `"}`, true},
	{"list_teams", `{"orgId":"` + org + `"}`, true},
	{"list_products", `{"orgId":"` + org + `"}`, true},
	{"list_roles", `{"orgId":"` + org + `"}`, true},
	{"list_profiles", `{"orgId":"` + org + `"}`, true},
	{"search_tickets", `{"orgId":"` + org + `","params":{"departmentId":"1892000000006907"}}`, true},
	{"search_contacts", `{"orgId":"` + org + `","params":{"email":"carol*"}}`, true},
	{"create_contact", `{"orgId":"` + org + `","payload":{"lastName":"Matrix","email":"matrix@example.net","accountName":"Initech"}}`, false},
	{"update_contact", `{"orgId":"` + org + `","email":"carol@zylker-customer.com","payload":{"title":"Buyer"}}`, false},
	{"move_contacts_to_trash", `{"orgId":"` + org + `","confirm":true,"payload":{"contactIds":["1892000000043001"]}}`, false},
	{"get_contact", `{"orgId":"` + org + `","email":"carol@zylker-customer.com"}`, true},
	{"create_account", `{"orgId":"` + org + `","payload":{"accountName":"Matrix Ltd"}}`, false},
	{"update_account", `{"orgId":"` + org + `","accountName":"Initech","payload":{"phone":"+1 555 0100"}}`, false},
	{"list_accounts", `{"orgId":"` + org + `"}`, true},
	{"search_articles", `{"orgId":"` + org + `","text":"printer"}`, true},
}

// desk limits faults to Zoho Desk calls (the token endpoint stays healthy
// except where a fault says otherwise).
const desk = "/api/v1/"

// matrixFaults are the faults of the matrix. readsSucceed marks transient
// faults that the retry policy must absorb for read actions (and the
// token-expiry case, which must succeed for every action).
var matrixFaults = []struct {
	name         string
	faults       []emulator.Fault
	expireToken  bool
	readsSucceed bool
	allSucceed   bool
}{
	{name: "none", allSucceed: true},
	{name: "latency", faults: []emulator.Fault{{Kind: emulator.FaultLatency, PathPrefix: desk, Latency: 200 * time.Millisecond}}, allSucceed: true},
	{name: "5xx_burst", faults: []emulator.Fault{{Kind: emulator.FaultStatus, PathPrefix: desk, Status: 500, Times: 2}}, readsSucceed: true},
	{name: "5xx_outage", faults: []emulator.Fault{{Kind: emulator.FaultStatus, PathPrefix: desk, Status: 503}}},
	{name: "429_retry_after", faults: []emulator.Fault{{Kind: emulator.FaultStatus, PathPrefix: desk, Status: 429, RetryAfter: 1, Times: 1}}, readsSucceed: true},
	{name: "429_no_retry_after", faults: []emulator.Fault{{Kind: emulator.FaultStatus, PathPrefix: desk, Status: 429, Times: 1}}, readsSucceed: true},
	{name: "reset_before_body", faults: []emulator.Fault{{Kind: emulator.FaultResetBeforeBody, PathPrefix: desk, Times: 1}}, readsSucceed: true},
	{name: "reset_after_body", faults: []emulator.Fault{{Kind: emulator.FaultResetAfterBody, PathPrefix: desk, Times: 1}}, readsSucceed: true},
	{name: "slow_body", faults: []emulator.Fault{{Kind: emulator.FaultSlowBody, PathPrefix: desk, SlowChunkDelay: time.Millisecond}}, allSucceed: true},
	{name: "truncated_json", faults: []emulator.Fault{{Kind: emulator.FaultTruncatedJSON, PathPrefix: desk, Times: 1}}},
	{name: "wrong_content_type", faults: []emulator.Fault{{Kind: emulator.FaultWrongContentType, PathPrefix: desk, Times: 1}}},
	{name: "token_expiry", expireToken: true, allSucceed: true},
	{name: "token_expiry_with_token_5xx", expireToken: true,
		faults: []emulator.Fault{{Kind: emulator.FaultStatus, PathPrefix: "/oauth/v2/token", Status: 500}}},
}

// callDeadline bounds every call of the matrix.
const callDeadline = 20 * time.Second

// TestFaultMatrix runs every action under every fault, each cell on its own
// emulator and store, and checks that the call ends in success or a typed
// *deskconn.Error within its deadline; transient faults must be absorbed
// by reads, and token expiry by every action. Cells run concurrently
// (bounded) because most of their time is spent in retry waits.
func TestFaultMatrix(t *testing.T) {
	type cell struct {
		action, fault string
		err           error
		elapsed       time.Duration
		want          bool // success required
	}
	var (
		cells []*cell
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 16)
	)
	for _, f := range matrixFaults {
		for _, a := range matrixActions {
			c := &cell{action: a.name, fault: f.name, want: f.allSucceed || (f.readsSucceed && a.read)}
			cells = append(cells, c)
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				e, err := startEnv(t, envOptions{})
				if err != nil {
					c.err = fmt.Errorf("start env: %w", err)
					c.want = true
					return
				}
				if f.expireToken {
					// Warm the manager's token cache, then kill the token
					// at Zoho: the next call meets 401 INVALID_OAUTH.
					if _, err := e.invoke(t.Context(), "list_organizations", `{}`, ""); err != nil {
						c.err = fmt.Errorf("warm-up: %w", err)
						return
					}
					e.emu.ExpireAccessTokens()
				}
				e.emu.SetFaults(f.faults...)
				ctx, cancel := context.WithTimeout(t.Context(), callDeadline)
				defer cancel()
				start := time.Now()
				_, c.err = e.invoke(ctx, a.name, a.input, "")
				c.elapsed = time.Since(start)
			})
		}
	}
	wg.Wait()
	for _, c := range cells {
		name := c.action + "/" + c.fault
		if c.elapsed > callDeadline+time.Second {
			t.Errorf("%s: took %v, deadline %v", name, c.elapsed, callDeadline)
		}
		if c.err == nil {
			continue
		}
		if c.want {
			t.Errorf("%s: want success, got %v", name, c.err)
			continue
		}
		var de *deskconn.Error
		if !errors.As(c.err, &de) {
			t.Errorf("%s: error %v (%T) is not a *deskconn.Error", name, c.err, c.err)
			continue
		}
		if de.Code == deskconn.CodeInternal {
			t.Errorf("%s: a Zoho fault was reported as an internal error: %v", name, c.err)
		}
		if strings.Contains(c.err.Error(), emulator.DemoClientSecret) {
			t.Errorf("%s: the error carries the client secret", name)
		}
	}
}
