package emulator_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
)

// The tests in this file hold the emulator to answers recorded from the
// live Zoho Desk and Zoho Accounts (docs/architecture.md, "Facts"; the
// emulator package doc names the source of each).

// ticketNumbers returns the ticketNumber of every row of a ticket list.
func ticketNumbers(t *testing.T, r result) []string {
	t.Helper()
	wantStatus(t, r, 200, "")
	var out []string
	for _, row := range r.json(t)["data"].([]any) {
		out = append(out, row.(map[string]any)["ticketNumber"].(string))
	}
	return out
}

// TestTicketListDefaultOrderIsNewestFirst: without sortBy, GET /tickets
// lists createdTime descending, as a live recording shows.
func TestTicketListDefaultOrderIsNewestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	created := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Newest", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID})
	wantStatus(t, created, 200, "")
	newest := created.json(t)["ticketNumber"].(string)

	tests := []struct {
		name, query string
		newestFirst bool
	}{
		{"no sortBy", "", true},
		{"-createdTime", "&sortBy=-createdTime", true},
		{"createdTime", "&sortBy=createdTime", false},
		{"ticketNumber", "&sortBy=ticketNumber", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ticketNumbers(t, e.do("GET", "/api/v1/tickets?limit=50"+tc.query, nil))
			if (got[0] == newest) != tc.newestFirst {
				t.Fatalf("first row #%s, newest #%s, want newest first = %v", got[0], newest, tc.newestFirst)
			}
			for i := 1; i < len(got); i++ {
				if desc := len(got[i]) < len(got[i-1]) || (len(got[i]) == len(got[i-1]) && got[i] < got[i-1]); desc != tc.newestFirst {
					t.Fatalf("rows %s then %s: not in the expected order (newest first = %v)", got[i-1], got[i], tc.newestFirst)
				}
			}
		})
	}
	// Paging walks the same order: the second page continues the first.
	first := ticketNumbers(t, e.do("GET", "/api/v1/tickets?limit=2", nil))
	second := ticketNumbers(t, e.do("GET", "/api/v1/tickets?from=2&limit=2", nil))
	all := ticketNumbers(t, e.do("GET", "/api/v1/tickets?limit=4", nil))
	if got := append(first, second...); len(got) != 4 || got[0] != all[0] || got[2] != all[2] || got[3] != all[3] {
		t.Fatalf("pages %v + %v, want %v", first, second, all)
	}
}

// TestTokenThrottleAnswer: the 11th token request within 10 minutes gets
// Zoho's throttle answer, HTTP 400 with the recorded body.
func TestTokenThrottleAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	rt, _, err := e.emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.basic.READ"})
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {emulator.DemoClientID}, "client_secret": {emulator.DemoClientSecret}, "refresh_token": {rt}}
	for i := range 10 {
		if r := e.postForm("/oauth/v2/token", form); r.status != 200 || r.json(t)["access_token"] == nil {
			t.Fatalf("refresh %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := e.postForm("/oauth/v2/token", form)
	if r.status != 400 {
		t.Fatalf("throttled refresh: status %d, want 400; body %s", r.status, r.body)
	}
	want := map[string]any{"error": "Access Denied", "status": "failure",
		"error_description": "You have made too many requests continuously. Please try again after some time."}
	if got := r.json(t); !maps.Equal(got, want) {
		t.Fatalf("throttled refresh body = %v, want %v", got, want)
	}
}

// TestTokenPrefixPerDataCentre: tokens and codes start with the four
// digits of their DC: "1000." in us, "1005." in in (a live India token).
func TestTokenPrefixPerDataCentre(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{DataCenters: emulator.ZohoDataCenters(), OrgLocations: map[string]string{emulator.SecondOrgID: "in"}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	shape := regexp.MustCompile(`^(\d{4})\.[0-9a-f]{32}\.[0-9a-f]{32}$`)
	tests := []struct {
		org, deskHost, prefix string
	}{
		{emulator.DemoOrgID, "desk.zoho.com", "1000"},
		{emulator.SecondOrgID, "desk.zoho.in", "1005"},
	}
	for _, tc := range tests {
		refresh, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, tc.org, []string{"Desk.basic.READ"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{refresh, access} {
			if m := shape.FindStringSubmatch(tok); m == nil || m[1] != tc.prefix {
				t.Errorf("org %s: token %.9s… does not start with %s.", tc.org, tok, tc.prefix)
			}
		}
		req := httptest.NewRequest("GET", srv.URL+"/api/v1/myinfo", nil)
		req.RequestURI, req.Host = "", tc.deskHost
		req.Header.Set("Authorization", "Zoho-oauthtoken "+access)
		req.Header["orgId"] = []string{tc.org}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("org %s at %s: status %d, want 200", tc.org, tc.deskHost, resp.StatusCode)
		}
	}
}

// TestUnauthenticatedAnswers: no Authorization header is 401 UNAUTHORIZED,
// a token Zoho does not know is 401 INVALID_OAUTH, with the live messages.
func TestUnauthenticatedAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	tests := []struct {
		name, authorization, code, message string
	}{
		{"no header", "", "UNAUTHORIZED", "You are not authenticated to perform this operation."},
		{"unknown token", "Zoho-oauthtoken 1000.0123456789abcdef.0123456789abcdef", "INVALID_OAUTH", "The OAuth Token you provided is invalid."},
		{"unknown India token", "Zoho-oauthtoken 1005.0123456789abcdef.0123456789abcdef", "INVALID_OAUTH", "The OAuth Token you provided is invalid."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/api/v1/tickets", nil, "Authorization", tc.authorization)
			wantStatus(t, r, 401, tc.code)
			if got := r.json(t)["message"]; got != tc.message {
				t.Fatalf("message = %q, want %q", got, tc.message)
			}
		})
	}
}

// TestOrgIDOnlyAsHeader: ?orgId= in the query authorises nothing; the
// request is answered as one without the orgId header.
func TestOrgIDOnlyAsHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	missing := e.do("GET", "/api/v1/departments", nil, "orgId", "")
	wantStatus(t, missing, 422, "UNPROCESSABLE_ENTITY")
	query := e.do("GET", "/api/v1/departments?orgId="+emulator.DemoOrgID, nil, "orgId", "")
	wantStatus(t, query, 422, "UNPROCESSABLE_ENTITY")
	if string(query.body) != string(missing.body) {
		t.Fatalf("?orgId= answer %s, want the missing-header answer %s", query.body, missing.body)
	}
	// With the header, a query orgId is ignored (it is not an unknown parameter).
	wantStatus(t, e.do("GET", "/api/v1/departments?orgId="+emulator.SecondOrgID, nil), 200, "")
	if recs := e.emu.Requests(); recs[1].OrgID != "" {
		t.Fatalf("request log records query orgId %q as the org", recs[1].OrgID)
	}
}

// TestCreditWeights: the x-rate-limit-request-weight-v3 of each call, as
// recorded from live Zoho.
func TestCreditWeights(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	created := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Weigh me", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID})
	id := created.json(t)["id"].(string)
	tests := []struct {
		name   string
		r      result
		weight string
	}{
		{"create", created, "1"},
		{"get", e.do("GET", "/api/v1/tickets/"+id, nil), "1"},
		{"list", e.do("GET", "/api/v1/tickets", nil), "3"},
		{"search", e.do("GET", "/api/v1/tickets/search?subject=Weigh*", nil), "3"},
		{"moveToTrash", e.do("POST", "/api/v1/tickets/moveToTrash", map[string]any{"ticketIds": []string{id}}), "6"},
	}
	remaining := -1
	for _, tc := range tests {
		if tc.r.status >= 300 {
			t.Fatalf("%s: status %d %s", tc.name, tc.r.status, tc.r.body)
		}
		if got := tc.r.header.Get("X-Rate-Limit-Request-Weight-V3"); got != tc.weight {
			t.Errorf("%s: weight %q, want %s", tc.name, got, tc.weight)
		}
		left, _ := strconv.Atoi(tc.r.header.Get("X-Rate-Limit-Remaining-V3"))
		if w, _ := strconv.Atoi(tc.weight); remaining >= 0 && left != remaining-w {
			t.Errorf("%s: remaining %d after %d, want %d less", tc.name, left, remaining, w)
		}
		remaining = left
	}
}

// holdSlot starts a Desk call that occupies one of the org's concurrency
// slots until release is called, and returns once the slot is taken.
func holdSlot(t *testing.T, e *env) (release func()) {
	t.Helper()
	e.emu.AddFault(emulator.Fault{Kind: emulator.FaultLatency, PathPrefix: "/api/v1/myinfo", Latency: time.Hour, Times: 1})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v1/myinfo", nil)
		req.Header.Set("Authorization", "Zoho-oauthtoken "+e.token)
		req.Header["orgId"] = []string{emulator.DemoOrgID}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	// Probe until a probe is refused: only the held call can hold the one
	// slot then, and it keeps it until released. (A probe that passes held
	// the slot itself for a moment; the loop just tries again.)
	for {
		r := e.do("GET", "/api/v1/departments", nil)
		if r.status == http.StatusTooManyRequests {
			break
		}
		wantStatus(t, r, 200, "")
	}
	return func() { cancel(); <-done }
}

// Test429Kinds: the emulator produces each 429 Zoho documents: the daily
// credits (THRESHOLD_EXCEEDED with Retry-After), too many calls at once
// and too many calls within a time window (TOO_MANY_REQUESTS, no
// Retry-After, told apart by the message).
func Test429Kinds(t *testing.T) {
	t.Parallel()
	t.Run("daily credits", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, emulator.Options{DailyCredits: 1})
		wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 200, "")
		r := e.do("GET", "/api/v1/myinfo", nil)
		wantStatus(t, r, 429, "THRESHOLD_EXCEEDED")
		if r.header.Get("Retry-After") == "" {
			t.Fatal("THRESHOLD_EXCEEDED without Retry-After")
		}
	})
	t.Run("concurrency", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, emulator.Options{MaxConcurrent: 1})
		before := e.emu.TicketCount(emulator.DemoOrgID)
		release := holdSlot(t, e)
		r := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Refused", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID})
		release()
		wantStatus(t, r, 429, "TOO_MANY_REQUESTS")
		if m := r.json(t)["message"]; m != "You have made too many requests simultaneously. Please try again after some time." {
			t.Fatalf("message = %q", m)
		}
		if r.header.Get("Retry-After") != "" {
			t.Fatal("concurrency 429 carries Retry-After")
		}
		if n := e.emu.TicketCount(emulator.DemoOrgID); n != before {
			t.Fatalf("a refused create made a ticket: %d tickets, want %d", n, before)
		}
	})
	t.Run("time window", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, emulator.Options{WindowRequests: 2, Window: time.Minute})
		first := e.do("GET", "/api/v1/myinfo", nil)
		wantStatus(t, first, 200, "")
		e.clk.Add(30 * time.Second)
		wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 200, "")
		before := e.emu.TicketCount(emulator.DemoOrgID)
		r := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Refused", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID})
		wantStatus(t, r, 429, "TOO_MANY_REQUESTS")
		if m := r.json(t)["message"]; m != "You have made too many requests within a given amount of time. Please try again after some time." {
			t.Fatalf("message = %q", m)
		}
		if r.header.Get("Retry-After") != "" || r.header.Get("X-Rate-Limit-Request-Weight-V3") != "" {
			t.Fatalf("time-window 429 headers = %v: want neither Retry-After nor a credit weight", r.header)
		}
		if n := e.emu.TicketCount(emulator.DemoOrgID); n != before {
			t.Fatalf("a refused create made a ticket: %d tickets, want %d", n, before)
		}
		// The first call leaves the window: one more is admitted.
		e.clk.Add(30 * time.Second)
		wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 200, "")
		wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 429, "TOO_MANY_REQUESTS")
		// Another org has its own window.
		_, other, err := e.emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.SecondOrgID, []string{"Desk.basic.READ"})
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, e.do("GET", "/api/v1/myinfo", nil, "Authorization", "Zoho-oauthtoken "+other, "orgId", emulator.SecondOrgID), 200, "")
	})
}

// TestSearchAnswerShape: search answers carry count as a JSON number, and
// ticket search rows carry the description, the embedded contact (with
// its account), assignee, department, product and team, and
// relationshipType "None", as live rows do.
func TestSearchAnswerShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	r := e.do("GET", "/api/v1/tickets/search?ticketNumber=101", nil)
	wantStatus(t, r, 200, "")
	m := r.json(t)
	if n, ok := m["count"].(float64); !ok || n != 1 {
		t.Fatalf("count = %#v, want the JSON number 1", m["count"])
	}
	row := m["data"].([]any)[0].(map[string]any)
	for key, want := range map[string]any{"description": "<div>Synthetic ticket 0</div>", "relationshipType": "None",
		"accountId": emulator.DemoAccountID, "childTicketCount": "0"} {
		if row[key] != want {
			t.Errorf("%s = %#v, want %#v", key, row[key], want)
		}
	}
	for _, key := range []string{"cf", "customFields", "isRead", "lastThread"} {
		if _, ok := row[key]; !ok {
			t.Errorf("search row has no %s", key)
		}
	}
	embedded := func(key string) map[string]any {
		obj, ok := row[key].(map[string]any)
		if !ok {
			t.Fatalf("%s = %#v, want an object", key, row[key])
		}
		return obj
	}
	contact := embedded("contact")
	if contact["id"] != emulator.DemoContactID {
		t.Errorf("contact = %v", contact)
	}
	account, _ := contact["account"].(map[string]any)
	if account["id"] != emulator.DemoAccountID || account["accountName"] == nil || account["website"] == nil {
		t.Errorf("contact.account = %#v, want {id, accountName, website}", contact["account"])
	}
	if a := embedded("assignee"); a["id"] != emulator.DemoAgentID || a["emailId"] == nil {
		t.Errorf("assignee = %v", a)
	}
	if d := embedded("department"); d["id"] != emulator.DemoDepartmentID || d["name"] != "Support" {
		t.Errorf("department = %v", d)
	}
	if p := embedded("product"); p["id"] != row["productId"] {
		t.Errorf("product = %v, productId %v", p, row["productId"])
	}
	if tm := embedded("team"); tm["id"] != row["teamId"] {
		t.Errorf("team = %v, teamId %v", tm, row["teamId"])
	}

	r = e.do("GET", "/api/v1/contacts/search?email=carol@zylker-customer.com", nil)
	wantStatus(t, r, 200, "")
	m = r.json(t)
	if n, ok := m["count"].(float64); !ok || n != 1 {
		t.Fatalf("contacts search count = %#v, want the JSON number 1", m["count"])
	}
	if acc, _ := m["data"].([]any)[0].(map[string]any)["account"].(map[string]any); acc["id"] != emulator.DemoAccountID {
		t.Errorf("contact search row account = %#v", acc)
	}
}

// TestTicketObjectShape: a ticket carries both cf and customFields,
// description and priority null unless set, and the accountId of its
// contact.
func TestTicketObjectShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	const noAccountContact = "1892000000043002" // every third seeded contact has no account (seed_customers.go)
	created := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Shape", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID})
	wantStatus(t, created, 200, "")
	id := created.json(t)["id"].(string)
	got := e.do("GET", "/api/v1/tickets/"+id, nil)
	wantStatus(t, got, 200, "")
	for name, m := range map[string]map[string]any{"create": created.json(t), "get": got.json(t)} {
		for key, want := range map[string]any{"description": nil, "priority": nil, "accountId": emulator.DemoAccountID} {
			if v, ok := m[key]; !ok || v != want {
				t.Errorf("%s: %s = %#v (present %v), want %#v", name, key, v, ok, want)
			}
		}
		for _, key := range []string{"cf", "customFields"} {
			if v, ok := m[key].(map[string]any); !ok || len(v) != 0 {
				t.Errorf("%s: %s = %#v, want {}", name, key, m[key])
			}
		}
	}
	tests := []struct {
		name    string
		body    map[string]any
		account any
	}{
		{"contact without account", map[string]any{"contactId": noAccountContact}, nil},
		{"contact with account", map[string]any{"contactId": emulator.DemoContactID}, emulator.DemoAccountID},
		{"other field keeps it", map[string]any{"priority": "High"}, emulator.DemoAccountID},
		{"explicit null wins", map[string]any{"contactId": emulator.DemoContactID, "accountId": nil}, nil},
	}
	for _, tc := range tests {
		r := e.do("PATCH", "/api/v1/tickets/"+id, tc.body)
		wantStatus(t, r, 200, "")
		if got := r.json(t)["accountId"]; got != tc.account {
			t.Errorf("%s: accountId = %#v, want %#v", tc.name, got, tc.account)
		}
	}
	withCF := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "CF", "departmentId": emulator.DemoDepartmentID,
		"contactId": noAccountContact, "description": "text", "priority": "Low", "cf": map[string]any{"cf_modelname": "F3"}})
	wantStatus(t, withCF, 200, "")
	m := withCF.json(t)
	if m["accountId"] != nil || m["description"] != "text" || m["priority"] != "Low" {
		t.Errorf("accountId, description, priority = %#v, %#v, %#v", m["accountId"], m["description"], m["priority"])
	}
	for _, key := range []string{"cf", "customFields"} {
		if v, _ := m[key].(map[string]any); v["cf_modelname"] != "F3" {
			t.Errorf("%s = %#v, want cf_modelname F3", key, m[key])
		}
	}
}

// TestRequestIDHeader: like Zoho, the emulator sends no X-Request-Id
// unless Options.RequestIDs asks for one.
func TestRequestIDHeader(t *testing.T) {
	t.Parallel()
	calls := func(e *env) []result {
		return []result{
			e.do("GET", "/api/v1/tickets", nil),
			e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Id", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID}),
			e.do("GET", "/api/v1/tickets/404", nil),
			e.do("GET", "/api/v1/tickets", nil, "Authorization", ""),
			e.do("GET", "/api/v1/tickets?bogus=1", nil),
		}
	}
	for i, r := range calls(newEnv(t, emulator.Options{})) {
		if v, ok := r.header["X-Request-Id"]; ok {
			t.Errorf("call %d (status %d) sent X-Request-Id %q by default", i, r.status, v)
		}
	}
	seen := map[string]bool{}
	for i, r := range calls(newEnv(t, emulator.Options{RequestIDs: true})) {
		id := r.header.Get("X-Request-Id")
		if id == "" || seen[id] {
			t.Errorf("call %d (status %d): X-Request-Id %q, want a new id", i, r.status, id)
		}
		seen[id] = true
	}
}

// TestHTML401Fault: the html_401 fault answers 401 with an HTML page, as
// Zoho does for a token of another data centre or organisation, and
// changes nothing.
func TestHTML401Fault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	f, err := emulator.ParseFault([]byte(`{"kind":"html_401","method":"POST","times":1}`))
	if err != nil {
		t.Fatal(err)
	}
	e.emu.AddFault(f)
	before := e.emu.TicketCount(emulator.DemoOrgID)
	r := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Wrong DC", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID})
	if r.status != 401 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.HasPrefix(string(r.body), "<!doctype html>") {
		t.Fatalf("html_401: %d %q %.40s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if n := e.emu.TicketCount(emulator.DemoOrgID); n != before {
		t.Fatalf("html_401 ran the handler: %d tickets, want %d", n, before)
	}
	wantStatus(t, e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Right DC", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID}), 200, "")
	if _, err := emulator.ParseFault([]byte(`{"kind":"html_401","status":500}`)); err == nil {
		t.Fatal("html_401 accepted a status")
	}
}
