package resilience

import (
	"errors"
	"fmt"
	"slices"
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

// matrixActions are the spec's ten actions, the lookups and the main
// ticket-work actions, each with an input that succeeds against the seeded
// emulator.
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
	// Working a ticket (issue 11): the customer-visible write and a note.
	{"reply_to_ticket", `{"orgId":"` + org + `","ticketId":"` + ticketID + `","content":"Matrix reply","confirm":true}`, false},
	{"add_ticket_comment", `{"orgId":"` + org + `","ticketId":"` + ticketID + `","content":"Matrix note"}`, false},
	{"list_ticket_conversations", `{"orgId":"` + org + `","ticketId":"` + ticketID + `","limit":5}`, true},
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
	// slow_body is paced by the test (paceSlowBodies), not by the clock.
	{name: "slow_body", faults: []emulator.Fault{{Kind: emulator.FaultSlowBody, PathPrefix: desk}}, allSucceed: true},
	{name: "truncated_json", faults: []emulator.Fault{{Kind: emulator.FaultTruncatedJSON, PathPrefix: desk, Times: 1}}},
	{name: "wrong_content_type", faults: []emulator.Fault{{Kind: emulator.FaultWrongContentType, PathPrefix: desk, Times: 1}}},
	{name: "token_expiry", expireToken: true, allSucceed: true},
	{name: "token_expiry_with_token_5xx", expireToken: true,
		faults: []emulator.Fault{{Kind: emulator.FaultStatus, PathPrefix: "/oauth/v2/token", Status: 500}}},
}

// paceSlowBodies gives every slow_body fault of faults a gate and lets its
// chunks go one by one from a goroutine, so that a slow body costs
// hand-offs rather than wall-clock pauses: on a busy machine it is as slow
// as the machine, never slower than a deadline. stop ends the pacing.
func paceSlowBodies(faults []emulator.Fault) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range faults {
		if faults[i].Kind != emulator.FaultSlowBody {
			continue
		}
		gate := make(chan struct{})
		faults[i].SlowChunkGate = gate
		wg.Go(func() {
			for {
				select {
				case gate <- struct{}{}:
				case <-done:
					return
				}
			}
		})
	}
	return func() { close(done); wg.Wait() }
}

// TestFaultMatrix runs every action under every fault, each cell on its own
// emulator and store, and checks that the call ends in success or a typed
// *deskconn.Error; transient faults must be absorbed by reads, and token
// expiry by every action. No cell has a wall-clock deadline: a call must
// end on its own (a hang fails the run at go test's -timeout), so the
// outcome does not depend on how busy the machine is. Cells run
// concurrently (bounded) because most of their time is spent in retry
// waits.
func TestFaultMatrix(t *testing.T) {
	type cell struct {
		action, fault string
		err           error
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
				faults := slices.Clone(f.faults)
				stop := paceSlowBodies(faults)
				defer stop()
				e.emu.SetFaults(faults...)
				_, c.err = e.invoke(t.Context(), a.name, a.input, "")
			})
		}
	}
	wg.Wait()
	for _, c := range cells {
		name := c.action + "/" + c.fault
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
