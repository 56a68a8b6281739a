package contract_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/contract"
	"github.com/deskconn/deskconn/zohodesk"
)

var (
	specOnce sync.Once
	spec     *contract.Spec
	specErr  error
)

// loadSpec loads Zoho's files once per test binary (it takes seconds).
func loadSpec(t *testing.T) *contract.Spec {
	t.Helper()
	specOnce.Do(func() { spec, specErr = contract.Load(contract.DefaultDir(), nil) })
	if specErr != nil {
		t.Fatalf("load Zoho's OpenAPI files: %v", specErr)
	}
	return spec
}

var allScopes = []string{
	"Desk.tickets.ALL", "Desk.contacts.ALL", "Desk.basic.ALL", "Desk.settings.ALL",
	"Desk.search.READ", "Desk.products.READ", "Desk.agents.ALL", "Desk.articles.READ",
}

// harness is one emulator behind two validating servers: client traffic
// (requests and responses validated) and raw test traffic (responses only,
// so requests may be deliberately wrong).
type harness struct {
	emu            *emulator.Emulator
	client         *zohodesk.Client
	clientRec      *contract.Recorder
	rawRec         *contract.Recorder
	rawURL, access string
}

func newHarness(t *testing.T, s *contract.Spec) *harness {
	t.Helper()
	emu := emulator.New(emulator.Options{})
	h := &harness{emu: emu}
	h.clientRec = contract.NewRecorder(s, emu, contract.ValidateRequests)
	h.rawRec = contract.NewRecorder(s, emu, contract.ValidateResponses)
	clientSrv := httptest.NewServer(h.clientRec)
	rawSrv := httptest.NewServer(h.rawRec)
	t.Cleanup(clientSrv.Close)
	t.Cleanup(rawSrv.Close)
	h.rawURL = rawSrv.URL
	_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, allScopes)
	if err != nil {
		t.Fatal(err)
	}
	h.access = access
	h.client, err = zohodesk.New(zohodesk.Config{BaseURL: clientSrv.URL + "/api/v1", Tokens: zohodesk.StaticToken(access)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// raw sends one request to the emulator outside the client.
func (h *harness) raw(t *testing.T, method, path string, header map[string]string, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, h.rawURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = []string{v}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

const org = emulator.DemoOrgID

// clientCalls drive every endpoint the zohodesk client covers.
func clientCalls(t *testing.T, h *harness) {
	ctx := t.Context()
	c := h.client
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, _, err := c.Organizations.List(ctx)
	must("organizations", err)
	_, _, err = c.Organizations.ListAccessible(ctx)
	must("accessibleOrganizations", err)
	_, _, err = c.Departments.List(ctx, org, &zohodesk.DepartmentListOptions{ListOptions: zohodesk.ListOptions{Limit: 200}})
	must("departments", err)
	_, _, err = c.Teams.List(ctx, org, nil)
	must("teams", err)
	_, _, err = c.Products.List(ctx, org, &zohodesk.ProductListOptions{ListOptions: zohodesk.ListOptions{From: 0, Limit: 50}})
	must("products", err)
	_, _, err = c.Roles.List(ctx, org, nil)
	must("roles", err)
	_, _, err = c.Profiles.List(ctx, org, nil)
	must("profiles", err)
	_, _, err = c.MyInfo(ctx, org, nil)
	must("myinfo", err)

	_, _, err = c.Contacts.List(ctx, org, &zohodesk.ContactListOptions{ListOptions: zohodesk.ListOptions{Limit: 10}})
	must("contacts list", err)
	_, _, err = c.Contacts.Search(ctx, org, &zohodesk.ContactSearchOptions{Email: "carol@zylker-customer.com"})
	must("contacts search", err)
	_, _, err = c.Contacts.Search(ctx, org, &zohodesk.ContactSearchOptions{LastName: "Nobody*"})
	must("contacts search (204)", err)
	contact, _, err := c.Contacts.Create(ctx, org, &zohodesk.ContactCreateRequest{LastName: "Contract", FirstName: "Carla", Email: "carla.contract@example.com", Phone: "+1 555 0100"})
	must("contacts create", err)
	_, _, err = c.Contacts.Get(ctx, org, contact.ID, nil)
	must("contacts get", err)

	customerCalls(t, h, contact.ID)

	ticket, _, err := c.Tickets.Create(ctx, org, &zohodesk.TicketCreateRequest{
		Subject: "Contract test", DepartmentID: emulator.DemoDepartmentID,
		Contact:     &zohodesk.TicketContact{LastName: "Inline", Email: "inline.contract@example.com"},
		Description: "validated against Zoho's spec", Priority: "High", Channel: "Email",
	})
	must("tickets create (inline contact)", err)
	_, _, err = c.Tickets.Create(ctx, org, &zohodesk.TicketCreateRequest{Subject: "Contract test 2", DepartmentID: emulator.DemoDepartmentID, ContactID: contact.ID})
	must("tickets create (contactId)", err)
	_, _, err = c.Tickets.List(ctx, org, &zohodesk.TicketListOptions{ListOptions: zohodesk.ListOptions{Limit: 50}})
	must("tickets list", err)
	_, _, err = c.Tickets.List(ctx, org, &zohodesk.TicketListOptions{ListOptions: zohodesk.ListOptions{From: 10, Limit: 5}, SortBy: "-createdTime", Include: "contacts,assignee,departments,team"})
	must("tickets list with include", err)
	_, _, err = c.Tickets.Get(ctx, org, ticket.ID, nil)
	must("tickets get", err)
	_, _, err = c.Tickets.Get(ctx, org, "1892000000042032", &zohodesk.TicketGetOptions{Include: "contacts,products,assignee,departments,team"})
	must("tickets get with include", err)
	_, _, err = c.Tickets.Update(ctx, org, ticket.ID, &zohodesk.TicketUpdateRequest{Status: zohodesk.Set("On Hold"), AssigneeID: zohodesk.Null[string]()}, nil)
	must("tickets update", err)
	_, _, err = c.Tickets.Search(ctx, org, &zohodesk.TicketSearchOptions{Subject: "Printer*", ListOptions: zohodesk.ListOptions{Limit: 10}})
	must("tickets search", err)
	_, _, err = c.Tickets.Search(ctx, org, &zohodesk.TicketSearchOptions{Subject: "no such subject at all*"})
	must("tickets search (204)", err)

	up, _, err := c.Uploads.Create(ctx, org, "notes.txt", strings.NewReader("uploaded notes"))
	must("uploads", err)
	_, _, err = c.Tickets.Create(ctx, org, &zohodesk.TicketCreateRequest{Subject: "With upload", DepartmentID: emulator.DemoDepartmentID, ContactID: contact.ID, Uploads: []string{up.ID}})
	must("tickets create with uploads", err)
	att, _, err := c.TicketAttachments.Create(ctx, org, ticket.ID, "log.txt", strings.NewReader("line 1\nline 2\n"), &zohodesk.TicketAttachmentCreateOptions{IsPublic: true})
	must("attachments create", err)
	_, _, err = c.TicketAttachments.List(ctx, org, ticket.ID, nil)
	must("attachments list", err)
	body, _, err := c.TicketAttachments.Download(ctx, org, att.Href)
	must("attachments content", err)
	got, err := io.ReadAll(body)
	body.Close()
	must("attachments content body", err)
	if string(got) != "line 1\nline 2\n" {
		t.Errorf("attachment content = %q", got)
	}
	_, err = c.Tickets.MoveToTrash(ctx, org, []string{ticket.ID})
	must("tickets moveToTrash", err)

	agent, _, err := c.Agents.Add(ctx, org, &zohodesk.AgentCreateRequest{
		EmailID: "new.agent@zylker.com", LastName: "Agent", FirstName: "New",
		AssociatedDepartmentIDs: []string{emulator.DemoDepartmentID}, RolePermissionType: "AgentPublic",
	})
	must("agents add", err)
	_, _, err = c.Agents.List(ctx, org, &zohodesk.AgentListOptions{ListOptions: zohodesk.ListOptions{Limit: 100}})
	must("agents list", err)
	_, _, err = c.Agents.Get(ctx, org, emulator.DemoAgentID, nil)
	must("agents get", err)
	_, _, err = c.Agents.GetByEmail(ctx, org, "jade.tywin@zylker.com")
	must("agents by email", err)
	noLight := false
	_, _, err = c.Agents.Count(ctx, org, &zohodesk.AgentCountOptions{Status: "ACTIVE", IncludeLightAgent: &noLight})
	must("agents count", err)
	_, err = c.Agents.Deactivate(ctx, org, agent.ID)
	must("agents deactivate", err)
	_, err = c.Agents.Activate(ctx, org, []string{agent.ID})
	must("agents activate", err)
}

// rawCalls drive the error and edge responses the client cannot provoke.
func rawCalls(t *testing.T, h *harness) {
	auth := map[string]string{"Authorization": "Zoho-oauthtoken " + h.access, "orgId": org}
	cases := []struct {
		method, path, body string
		header             map[string]string
		want               int
	}{
		{"GET", "/api/v1/tickets/1892000000999999", "", auth, http.StatusNotFound},
		{"GET", "/api/v1/tickets?limit=101", "", auth, http.StatusUnprocessableEntity},
		{"GET", "/api/v1/tickets?from=100000", "", auth, http.StatusNoContent},
		{"POST", "/api/v1/tickets", `{"subject":"x"}`, auth, http.StatusUnprocessableEntity},
		{"PATCH", "/api/v1/tickets/1892000000042033", `{"status":7}`, auth, http.StatusUnprocessableEntity},
		{"POST", "/api/v1/contacts", `{"firstName":"no last name"}`, auth, http.StatusUnprocessableEntity},
		{"GET", "/api/v1/agents?limit=500", "", auth, http.StatusUnprocessableEntity},
		{"PATCH", "/api/v1/contacts/" + emulator.DemoContactID, `{"lastName":null}`, auth, http.StatusUnprocessableEntity},
		{"POST", "/api/v1/contacts/moveToTrash", `{"contactIds":["1"]}`, auth, http.StatusUnprocessableEntity},
		{"POST", "/api/v1/accounts", `{"website":"https://no-name.example"}`, auth, http.StatusUnprocessableEntity},
		{"GET", "/api/v1/accounts/1892000000069999", "", auth, http.StatusNotFound},
	}
	for _, c := range cases {
		if got := h.raw(t, c.method, c.path, c.header, c.body); got != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, got, c.want)
		}
	}
}

// expected lists, per spec operation, the statuses whose responses the
// suite must have validated, and whether client requests must have been.
var expected = []struct {
	op       string
	requests bool
	statuses []int
}{
	{"GET /api/v1/organizations", true, []int{200}},
	{"GET /api/v1/accessibleOrganizations", true, []int{200}},
	{"GET /api/v1/departments", true, []int{200}},
	{"GET /api/v1/teams", true, []int{200}},
	{"GET /api/v1/products", true, []int{200}},
	{"GET /api/v1/roles", true, []int{200}},
	{"GET /api/v1/profiles", true, []int{200}},
	{"GET /api/v1/myinfo", true, []int{200}},
	{"GET /api/v1/contacts", true, []int{200}},
	{"GET /api/v1/contacts/search", true, []int{200, 204}},
	{"POST /api/v1/contacts", true, []int{200, 422}},
	{"GET /api/v1/contacts/{contactId}", true, []int{200}},
	{"PATCH /api/v1/contacts/{contactId}", true, []int{200, 422}},
	{"POST /api/v1/contacts/moveToTrash", true, []int{204, 422}},
	{"GET /api/v1/contacts/{contactId}/tickets", true, []int{200, 204}},
	{"POST /api/v1/accounts", true, []int{200, 422}},
	{"GET /api/v1/accounts", true, []int{200}},
	{"GET /api/v1/accounts/{accountId}", true, []int{200, 404}},
	{"PATCH /api/v1/accounts/{accountId}", true, []int{200}},
	{"GET /api/v1/accounts/search", true, []int{200, 204}},
	{"GET /api/v1/accounts/{accountId}/contacts", true, []int{200, 204}},
	{"GET /api/v1/articles", true, []int{200}},
	{"GET /api/v1/articles/search", true, []int{200, 204}},
	{"GET /api/v1/articles/{id}", true, []int{200}},
	{"GET /api/v1/kbRootCategories", true, []int{200}},
	{"GET /api/v1/kbRootCategories/{rootCategoryId}/categoryTree", true, []int{200}},
	{"POST /api/v1/tickets", true, []int{200, 422}},
	{"GET /api/v1/tickets", true, []int{200, 204, 422}},
	{"GET /api/v1/tickets/{ticketId}", true, []int{200, 404}},
	{"PATCH /api/v1/tickets/{ticketId}", true, []int{200, 422}},
	{"POST /api/v1/tickets/moveToTrash", true, []int{204}},
	{"GET /api/v1/tickets/search", true, []int{200, 204}},
	{"POST /api/v1/uploads", true, []int{200}},
	{"POST /api/v1/tickets/{ticketId}/attachments", true, []int{200}},
	{"GET /api/v1/tickets/{ticketId}/attachments", true, []int{200}},
	{"GET /api/v1/tickets/{ticketId}/attachments/{attachmentId}/content", true, []int{200}},
	{"POST /api/v1/agents", true, []int{200}},
	{"GET /api/v1/agents", true, []int{200, 422}},
	{"GET /api/v1/agents/{agentId}", true, []int{200}},
	{"GET /api/v1/agents/email/{emailId}", true, []int{200}},
	{"GET /api/v1/agents/count", true, []int{200}},
	{"POST /api/v1/agents/{agentId}/deactivate", true, []int{204}},
	{"POST /api/v1/agents/activate", true, []int{204}},
}

// TestContract drives the emulator with the zohodesk client (every endpoint
// it covers) and with raw error cases, validates every exchange against
// Zoho's OpenAPI files, and fails on any problem no exception tolerates, on
// any operation that was not validated, and on any exception that is no
// longer needed.
func TestContract(t *testing.T) {
	s := loadSpec(t)
	h := newHarness(t, s)
	t.Run("client", func(t *testing.T) { clientCalls(t, h) })
	t.Run("raw", func(t *testing.T) { rawCalls(t, h) })

	for _, p := range append(h.clientRec.Problems(), h.rawRec.Problems()...) {
		t.Errorf("contract violation: %v", p)
	}
	clientX, rawX := h.clientRec.Exchanges(), h.rawRec.Exchanges()
	for _, want := range expected {
		cx, rx := clientX[want.op], rawX[want.op]
		if want.requests && cx.Requests == 0 {
			t.Errorf("%s: no client request validated", want.op)
		}
		for _, status := range want.statuses {
			if cx.Responses[status]+rx.Responses[status] == 0 {
				t.Errorf("%s: no %d response validated", want.op, status)
			}
		}
	}
	for _, op := range slices.Concat(h.clientRec.Operations(), h.rawRec.Operations()) {
		if !slices.ContainsFunc(expected, func(e struct {
			op       string
			requests bool
			statuses []int
		}) bool {
			return e.op == op
		}) {
			t.Errorf("operation %s was exercised but is not in the expected table", op)
		}
	}
	if t.Failed() {
		return // unused exceptions are only meaningful after a clean run
	}
	for _, e := range s.Unused() {
		t.Errorf("exception no longer needed, remove it from contract.Exceptions: %v", e)
	}
}
