package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
)

var allScopes = []string{"Desk.tickets.ALL", "Desk.contacts.READ", "Desk.contacts.CREATE", "Desk.basic.READ", "Desk.basic.CREATE",
	"Desk.basic.UPDATE", "Desk.settings.READ", "Desk.search.READ", "Desk.products.READ"}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	emu   *emulator.Emulator
	srv   *httptest.Server
	clk   *clock
	token string
}

func newEnv(t *testing.T, opts emulator.Options) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	emu := emulator.New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, allScopes)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, emu: emu, srv: srv, clk: clk, token: access}
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return m
}

func (r result) errorCode(t *testing.T) string {
	t.Helper()
	code, _ := r.json(t)["errorCode"].(string)
	return code
}

// do sends a Desk request with the env token and orgId 2389290 unless
// headers override them ("" deletes).
func (e *env) do(method, path string, body any, headers ...string) result {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Zoho-oauthtoken "+e.token)
	req.Header["orgId"] = []string{emulator.DemoOrgID}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			delete(req.Header, headers[i])
		} else {
			req.Header[headers[i]] = []string{headers[i+1]}
		}
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) result {
	e.t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: data}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func wantStatus(t *testing.T, r result, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if code != "" {
		if got := r.errorCode(t); got != code {
			t.Fatalf("errorCode = %q, want %q; body %s", got, code, r.body)
		}
	}
}

func TestAuthOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	_, readOnly, err := e.emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.basic.READ"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		headers []string
		status  int
		code    string
	}{
		{"no token", "/api/v1/tickets", []string{"Authorization", ""}, 401, "UNAUTHORIZED"},
		{"bearer scheme", "/api/v1/tickets", []string{"Authorization", "Bearer " + e.token}, 401, "INVALID_OAUTH"},
		{"unknown token", "/api/v1/tickets", []string{"Authorization", "Zoho-oauthtoken 1000.abc.def"}, 401, "INVALID_OAUTH"},
		{"scope missing", "/api/v1/tickets", []string{"Authorization", "Zoho-oauthtoken " + readOnly}, 403, "SCOPE_MISMATCH"},
		{"scope checked before org", "/api/v1/tickets", []string{"Authorization", "Zoho-oauthtoken " + readOnly, "orgId", ""}, 403, "SCOPE_MISMATCH"},
		{"org missing", "/api/v1/tickets", []string{"orgId", ""}, 422, "UNPROCESSABLE_ENTITY"},
		{"other org", "/api/v1/tickets", []string{"orgId", emulator.SecondOrgID}, 403, "OAUTH_ORG_MISMATCH"},
		{"organizations needs no org", "/api/v1/organizations", []string{"orgId", ""}, 200, ""},
		{"orgId as query only", "/api/v1/departments?orgId=" + emulator.DemoOrgID, []string{"orgId", ""}, 422, "UNPROCESSABLE_ENTITY"},
		{"unknown query param", "/api/v1/tickets?foo=1", nil, 422, "UNPROCESSABLE_ENTITY"},
		{"unknown path", "/api/v1/nope", nil, 404, "URL_NOT_FOUND"},
		{"wrong method", "/api/v1/myinfo", []string{"X-Method", "DELETE"}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, nil, tc.headers...)
			wantStatus(t, r, tc.status, tc.code)
		})
	}
	wantStatus(t, e.do("DELETE", "/api/v1/myinfo", nil), 405, "METHOD_NOT_ALLOWED")
}

func TestTokenExpiryAndAllScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	wantStatus(t, e.do("GET", "/api/v1/tickets/1892000000042032", nil), 200, "")
	e.clk.Add(time.Hour)
	wantStatus(t, e.do("GET", "/api/v1/tickets/1892000000042032", nil), 401, "INVALID_OAUTH")

	e2 := newEnv(t, emulator.Options{})
	e2.emu.ExpireAccessTokens()
	wantStatus(t, e2.do("GET", "/api/v1/myinfo", nil), 401, "INVALID_OAUTH")
}

func TestRateLimitHeadersAndCredits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{DailyCredits: 5})
	r := e.do("GET", "/api/v1/tickets", nil)
	wantStatus(t, r, 200, "")
	if r.header.Get("X-Rate-Limit-Request-Weight-v3") != "3" || r.header.Get("X-Rate-Limit-Remaining-v3") != "2" {
		t.Fatalf("headers = %v", r.header)
	}
	r = e.do("GET", "/api/v1/tickets/1892000000042032", nil)
	wantStatus(t, r, 200, "")
	if r.header.Get("X-Rate-Limit-Remaining-v3") != "1" {
		t.Fatalf("remaining = %q", r.header.Get("X-Rate-Limit-Remaining-v3"))
	}
	r = e.do("GET", "/api/v1/tickets", nil)
	wantStatus(t, r, 429, "THRESHOLD_EXCEEDED")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("THRESHOLD_EXCEEDED without Retry-After")
	}
	e.clk.Add(24 * time.Hour)
	_, e.token, _ = e.emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, allScopes)
	wantStatus(t, e.do("GET", "/api/v1/tickets", nil), 200, "")
}

func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{MaxConcurrent: 1})
	e.emu.AddFault(emulator.Fault{Kind: emulator.FaultLatency, PathPrefix: "/api/v1/myinfo", Latency: 300 * time.Millisecond, Times: 1})
	done := make(chan result)
	go func() { done <- e.do("GET", "/api/v1/myinfo", nil) }()
	time.Sleep(100 * time.Millisecond)
	r := e.do("GET", "/api/v1/departments", nil)
	wantStatus(t, r, 429, "TOO_MANY_REQUESTS")
	if r.header.Get("Retry-After") != "" {
		t.Fatal("TOO_MANY_REQUESTS must not carry Retry-After")
	}
	wantStatus(t, <-done, 200, "")
}

func TestPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	tests := []struct {
		path   string
		status int
		n      int
	}{
		{"/api/v1/tickets?from=0&limit=100", 200, 100},
		{"/api/v1/tickets", 200, 25},
		{"/api/v1/tickets?from=290&limit=100", 200, 10},
		{"/api/v1/tickets?from=300&limit=100", 204, 0},
		{"/api/v1/tickets?limit=101", 422, 0},
		{"/api/v1/tickets?limit=0", 422, 0},
		{"/api/v1/tickets?from=-1", 422, 0},
		{"/api/v1/agents?limit=200", 200, 8},
		{"/api/v1/agents?limit=201", 422, 0},
		{"/api/v1/departments?limit=2", 200, 2},
		{"/api/v1/teams?limit=0", 200, -1},
		{"/api/v1/tickets/search?subject=Refund&from=1000", 422, 0},
	}
	for _, tc := range tests {
		r := e.do("GET", tc.path, nil)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.path, r.status, tc.status, r.body)
			continue
		}
		if tc.status == 204 && len(r.body) != 0 {
			t.Errorf("%s: 204 with body %q", tc.path, r.body)
		}
		if tc.status == 200 && tc.n >= 0 {
			if got := len(r.json(t)["data"].([]any)); got != tc.n {
				t.Errorf("%s: %d items, want %d", tc.path, got, tc.n)
			}
		}
	}
}

func TestTicketListFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	rows := func(q string) []map[string]any {
		r := e.do("GET", "/api/v1/tickets?limit=100&"+q, nil)
		if r.status == 204 {
			return nil
		}
		wantStatus(t, r, 200, "")
		var out []map[string]any
		for _, x := range r.json(t)["data"].([]any) {
			out = append(out, x.(map[string]any))
		}
		return out
	}
	for _, row := range rows("assignee=Unassigned") {
		if row["assigneeId"] != nil {
			t.Fatalf("unassigned filter returned %v", row["assigneeId"])
		}
	}
	for _, row := range rows("status=Open,Closed&channel=Email") {
		if (row["status"] != "Open" && row["status"] != "Closed") || row["channel"] != "Email" {
			t.Fatalf("filter mismatch: %v %v", row["status"], row["channel"])
		}
	}
	desc := rows("sortBy=-createdTime")
	if desc[0]["createdTime"].(string) < desc[1]["createdTime"].(string) {
		t.Fatal("-createdTime not descending")
	}
	inc := rows("include=contacts,assignee&departmentId=" + emulator.DemoDepartmentID)
	if _, ok := inc[0]["contact"]; !ok {
		t.Fatal("include=contacts missing contact")
	}
	if len(rows("receivedInDays=15")) >= len(rows("receivedInDays=90")) {
		t.Fatal("receivedInDays does not narrow")
	}
	f := rows("fields=subject,status")
	if len(f[0]) != 3 {
		t.Fatalf("fields row = %v", f[0])
	}
	wantStatus(t, e.do("GET", "/api/v1/tickets?sortBy=bogus", nil), 422, "UNPROCESSABLE_ENTITY")
	if d := rows("sortBy=dueDate"); d[0]["dueDate"] == nil {
		t.Fatal("dueDate sort puts nulls first")
	}
}

func TestSpecSamples(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	// Create Ticket sample.
	r := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Unable to access account", "departmentId": "1892000000006907",
		"contactId": "1892000000042032", "description": "Customer is unable to login to their account after password reset",
		"status": "Open", "priority": "High", "classification": "Problem", "channel": "Email"})
	wantStatus(t, r, 200, "")
	tk := r.json(t)
	if tk["statusType"] != "Open" || tk["webUrl"] == nil || tk["ticketNumber"] == nil {
		t.Fatalf("created ticket = %v", tk)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", tk["createdTime"].(string)); err != nil {
		t.Fatalf("createdTime %v: %v", tk["createdTime"], err)
	}
	// List, get.
	wantStatus(t, e.do("GET", "/api/v1/tickets?from=0&limit=50&status=Open&sortBy=-createdTime&include=contacts,assignee", nil), 200, "")
	wantStatus(t, e.do("GET", "/api/v1/tickets/1892000000042032?include=contacts,products,assignee,departments", nil), 200, "")
	// Updates.
	wantStatus(t, e.do("PATCH", "/api/v1/tickets/1892000000042032?disableClosureNotification=false", map[string]any{"status": "In Progress"}), 200, "")
	wantStatus(t, e.do("PATCH", "/api/v1/tickets/1892000000042032", map[string]any{"assigneeId": "1892000000006907", "priority": "High"}), 200, "")
	r = e.do("PATCH", "/api/v1/tickets/1892000000042032?disableClosureNotification=false", map[string]any{"status": "Closed", "resolution": "Issue resolved"})
	wantStatus(t, r, 200, "")
	if m := r.json(t); m["statusType"] != "Closed" || m["closedTime"] == nil || m["resolution"] != "Issue resolved" {
		t.Fatalf("closed ticket = %v", m)
	}
	// Attachments.
	r = e.upload("/api/v1/tickets/1892000000042032/attachments?isPublic=true", "error_screenshot.png", []byte("PNGDATA"))
	wantStatus(t, r, 200, "")
	att := r.json(t)
	if att["size"] != "7" || att["isPublic"] != true {
		t.Fatalf("attachment = %v", att)
	}
	href, _ := url.Parse(att["href"].(string))
	r = e.do("GET", href.Path, nil)
	if r.status != 200 || string(r.body) != "PNGDATA" {
		t.Fatalf("content = %d %q", r.status, r.body)
	}
	r = e.do("GET", "/api/v1/tickets/1892000000042032/attachments?sortBy=-createdTime&from=0&limit=20&include=creator", nil)
	wantStatus(t, r, 200, "")
	if rows := r.json(t)["data"].([]any); rows[0].(map[string]any)["creator"] == nil {
		t.Fatal("include=creator missing")
	}
	// Agents.
	r = e.do("POST", "/api/v1/agents", map[string]any{"emailId": "john.smith@zylker.com", "firstName": "John", "lastName": "Smith",
		"phone": "+1-555-123-4567", "mobile": "+1-555-987-6543", "associatedDepartmentIds": []string{"1892000000006907", "1892000000006908"},
		"rolePermissionType": "AgentPublic", "timeZone": "America/New_York", "langCode": "en", "aboutInfo": "Senior Support Agent"})
	wantStatus(t, r, 200, "")
	if a := r.json(t); a["isConfirmed"] != false || a["zuid"] != nil {
		t.Fatalf("new agent = %v", a)
	}
	wantStatus(t, e.do("POST", "/api/v1/agents", map[string]any{"emailId": "john.smith@zylker.com", "lastName": "S",
		"associatedDepartmentIds": []string{"1892000000006907"}, "rolePermissionType": "AgentPublic"}), 422, "INVALID_DATA")
	wantStatus(t, e.do("GET", "/api/v1/agents?from=0&limit=50&status=ACTIVE&departmentIds=1892000000006907&include=profile,role&sortOrder=asc", nil), 200, "")
	wantStatus(t, e.do("POST", "/api/v1/agents/1892000000006907/deactivate", nil), 204, "")
	if a, _ := e.emu.AgentByEmail(emulator.DemoOrgID, "jade.tywin@zylker.com"); a.Status != "DISABLED" {
		t.Fatalf("status after deactivate = %q", a.Status)
	}
	wantStatus(t, e.do("POST", "/api/v1/agents/activate", map[string]any{"agentIds": []string{"1892000000006907"}}), 204, "")
	// Trash.
	before := e.emu.TicketCount(emulator.DemoOrgID)
	wantStatus(t, e.do("POST", "/api/v1/tickets/moveToTrash", map[string]any{"ticketIds": []string{"1892000000042032", "1892000000042033", "1892000000042034"}}), 204, "")
	if got := e.emu.TicketCount(emulator.DemoOrgID); got != before-3 {
		t.Fatalf("ticket count %d, want %d", got, before-3)
	}
	wantStatus(t, e.do("GET", "/api/v1/tickets/1892000000042033", nil), 404, "URL_NOT_FOUND")
	r = e.do("GET", "/api/v1/tickets/search?subject=Refund*", nil)
	if r.status != 204 {
		t.Fatalf("trashed ticket found by search: %d %s", r.status, r.body)
	}
}

func (e *env) upload(path, name string, data []byte) result {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		e.t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", e.srv.URL+path, &buf)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Zoho-oauthtoken "+e.token)
	req.Header["orgId"] = []string{emulator.DemoOrgID}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return e.send(req)
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{MaxBodyBytes: 2048, MaxAttachmentBytes: 16})
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		ptrs   []string
	}{
		{"missing subject", "POST", "/api/v1/tickets", map[string]any{"departmentId": "1892000000006907", "contactId": "1892000000042032"}, 422, []string{"/subject"}},
		{"missing contact", "POST", "/api/v1/tickets", map[string]any{"subject": "x", "departmentId": "1892000000006907"}, 422, []string{"/contactId"}},
		{"bad department", "POST", "/api/v1/tickets", map[string]any{"subject": "x", "departmentId": "1", "contactId": "1892000000042032"}, 422, []string{"/departmentId"}},
		{"unknown status", "POST", "/api/v1/tickets", map[string]any{"subject": "x", "departmentId": "1892000000006907", "contactId": "1892000000042032", "status": "Nope"}, 422, []string{"/status"}},
		{"unknown field", "POST", "/api/v1/tickets", map[string]any{"subject": "x", "departmentId": "1892000000006907", "contactId": "1892000000042032", "subjct": "y"}, 422, []string{"/subjct"}},
		{"inline contact empty", "POST", "/api/v1/tickets", map[string]any{"subject": "x", "departmentId": "1892000000006907", "contact": map[string]any{}}, 422, []string{"/contact/lastName"}},
		{"null subject on update", "PATCH", "/api/v1/tickets/1892000000042032", map[string]any{"subject": nil}, 422, []string{"/subject"}},
		{"agent missing fields", "POST", "/api/v1/agents", map[string]any{}, 422, []string{"/emailId", "/lastName", "/associatedDepartmentIds", "/rolePermissionType"}},
		{"trash too many", "POST", "/api/v1/tickets/moveToTrash", map[string]any{"ticketIds": make([]string, 51)}, 422, nil},
		{"body too large", "POST", "/api/v1/tickets", `{"subject":"` + strings.Repeat("x", 4000) + `"}`, 413, nil},
		{"not json", "POST", "/api/v1/tickets", "{", 400, nil},
		{"empty", "POST", "/api/v1/tickets", " ", 422, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			var body struct {
				Errors []struct{ FieldName, ErrorType string }
			}
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, fe := range body.Errors {
				got = append(got, fe.FieldName)
			}
			for _, p := range tc.ptrs {
				found := false
				for _, g := range got {
					found = found || g == p
				}
				if !found {
					t.Fatalf("pointers %v lack %s", got, p)
				}
			}
		})
	}
	wantStatus(t, e.upload("/api/v1/tickets/1892000000042032/attachments", "big.bin", make([]byte, 17)), 413, "RESOURCE_SIZE_EXCEEDED")
	wantStatus(t, e.upload("/api/v1/tickets/1/attachments", "a.txt", []byte("a")), 404, "URL_NOT_FOUND")
}

func TestExplicitNullClears(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	r := e.do("PATCH", "/api/v1/tickets/1892000000042032", `{"assigneeId":null,"teamId":null}`)
	wantStatus(t, r, 200, "")
	if m := r.json(t); m["assigneeId"] != nil || m["teamId"] != nil {
		t.Fatalf("not cleared: %v %v", m["assigneeId"], m["teamId"])
	}
}

func TestInlineContact(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	n := e.emu.ContactCount(emulator.DemoOrgID)
	r := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Printer on fire", "departmentId": "1892000000006907",
		"contact": map[string]any{"lastName": "Carol", "email": "carol@zylker-customer.com"}})
	wantStatus(t, r, 200, "")
	if r.json(t)["contactId"] != emulator.DemoContactID || e.emu.ContactCount(emulator.DemoOrgID) != n {
		t.Fatal("inline contact with a known email did not reuse it")
	}
	r = e.do("POST", "/api/v1/tickets", map[string]any{"subject": "New person", "departmentId": "1892000000006907",
		"contact": map[string]any{"lastName": "New", "email": "new.person@example.org"}})
	wantStatus(t, r, 200, "")
	if e.emu.ContactCount(emulator.DemoOrgID) != n+1 {
		t.Fatal("inline contact not created")
	}
	if e.emu.Counters().TicketsCreated != 2 {
		t.Fatalf("TicketsCreated = %d", e.emu.Counters().TicketsCreated)
	}
}

func TestSearchAndAgentsByEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	r := e.do("GET", "/api/v1/tickets/search?subject=Cannot%20log%20in%20to%20the%20portal", nil)
	wantStatus(t, r, 200, "")
	if m := r.json(t); m["count"] != 2.0 {
		t.Fatalf("count = %v", m["count"])
	}
	r = e.do("GET", "/api/v1/tickets/search?status=${CLOSED}&limit=100", nil)
	wantStatus(t, r, 200, "")
	for _, row := range r.json(t)["data"].([]any) {
		if row.(map[string]any)["statusType"] != "Closed" {
			t.Fatal("status type search mismatch")
		}
	}
	wantStatus(t, e.do("GET", "/api/v1/tickets/search?subject=ab", nil), 422, "UNPROCESSABLE_ENTITY")
	r = e.do("GET", "/api/v1/agents/email/nobody@zylker.com", nil)
	if r.status != 204 || len(r.body) != 0 {
		t.Fatalf("agent by unknown email: %d %q", r.status, r.body)
	}
	wantStatus(t, e.do("GET", "/api/v1/agents/email/jade.tywin@zylker.com", nil), 200, "")
	// The count of active full agents (the per-agent part of the daily
	// credits) agrees with the list; light agents only when asked for.
	full := e.do("GET", "/api/v1/agents?status=ACTIVE&isLightAgent=false&limit=200", nil)
	all := e.do("GET", "/api/v1/agents?status=ACTIVE&limit=200", nil)
	wantStatus(t, full, 200, "")
	wantStatus(t, all, 200, "")
	for q, list := range map[string]result{"status=ACTIVE&includeLightAgent=false": full, "status=ACTIVE&includeLightAgent=true": all} {
		r = e.do("GET", "/api/v1/agents/count?"+q, nil)
		wantStatus(t, r, 200, "")
		if got, want := r.json(t)["count"], float64(len(list.json(t)["data"].([]any))); got != want {
			t.Fatalf("agents/count?%s = %v, the list has %v", q, got, want)
		}
	}
	wantStatus(t, e.do("GET", "/api/v1/agents/count?status=DELETED", nil), 422, "UNPROCESSABLE_ENTITY")
	r = e.do("GET", "/api/v1/contacts/search?email=carol@zylker-customer.com", nil)
	wantStatus(t, r, 200, "")
	if r.json(t)["count"] != 1.0 {
		t.Fatalf("contact search = %s", r.body)
	}
	// Zoho accepts a second contact with an e-mail in use [C NREC].
	wantStatus(t, e.do("POST", "/api/v1/contacts", map[string]any{"lastName": "Dup", "email": "carol@zylker-customer.com"}), 200, "")
	wantStatus(t, e.do("POST", "/api/v1/contacts", map[string]any{"lastName": "Fresh", "email": "fresh@example.org"}), 200, "")
}

func TestSettingsEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	r := e.do("GET", "/api/v1/organizations", nil)
	wantStatus(t, r, 200, "")
	if n := len(r.json(t)["data"].([]any)); n != 2 {
		t.Fatalf("organizations = %d, want 2 (user in both orgs)", n)
	}
	r = e.do("GET", "/api/v1/accessibleOrganizations", nil)
	if n := len(r.json(t)["data"].([]any)); n != 1 {
		t.Fatalf("accessible = %d, want 1 (bound org)", n)
	}
	if _, ok := e.do("GET", "/api/v1/teams", nil).json(t)["teams"]; !ok {
		t.Fatal("teams wrapper key missing")
	}
	for _, p := range []string{"/api/v1/departments", "/api/v1/products", "/api/v1/roles", "/api/v1/profiles", "/api/v1/contacts", "/api/v1/myinfo?include=profile,role"} {
		wantStatus(t, e.do("GET", p, nil), 200, "")
	}
	if m := e.do("GET", "/api/v1/myinfo", nil).json(t); m["emailId"] != emulator.DemoUser {
		t.Fatalf("myinfo = %v", m["emailId"])
	}
}

func TestLicenceLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{AgentLicenses: 7}) // 6 active non-light agents seeded
	add := func(email string) result {
		return e.do("POST", "/api/v1/agents", map[string]any{"emailId": email, "lastName": "X",
			"associatedDepartmentIds": []string{emulator.DemoDepartmentID}, "rolePermissionType": "AgentPublic"})
	}
	wantStatus(t, add("one@zylker.com"), 200, "")
	r := add("two@zylker.com")
	wantStatus(t, r, 403, "LICENSE_ACCESS_LIMITED")
	if r.json(t)["feature"] != "AGENTS" {
		t.Fatalf("body = %s", r.body)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	e.emu.AddFault(emulator.Fault{Kind: emulator.FaultStatus, Status: 503, PathPrefix: "/api/v1/departments", Times: 2})
	wantStatus(t, e.do("GET", "/api/v1/departments", nil), 503, "")
	wantStatus(t, e.do("GET", "/api/v1/departments", nil), 503, "")
	wantStatus(t, e.do("GET", "/api/v1/departments", nil), 200, "")

	e.emu.AddFault(emulator.Fault{Kind: emulator.FaultStatus, Status: 429, RetryAfter: 7, Times: 1})
	r := e.do("GET", "/api/v1/departments", nil)
	if r.status != 429 || r.header.Get("Retry-After") != "7" {
		t.Fatalf("429 fault: %d %v", r.status, r.header)
	}
	e.emu.AddFault(emulator.Fault{Kind: emulator.FaultTruncatedJSON, Times: 1})
	r = e.do("GET", "/api/v1/departments", nil)
	if json.Valid(r.body) {
		t.Fatal("truncated fault produced valid JSON")
	}
	e.emu.AddFault(emulator.Fault{Kind: emulator.FaultWrongContentType, Times: 1})
	if r := e.do("GET", "/api/v1/departments", nil); !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("content type = %q", r.header.Get("Content-Type"))
	}
	// Reset after the body: the ticket is created but the client sees an error.
	before := e.emu.TicketCount(emulator.DemoOrgID)
	e.emu.AddFault(emulator.Fault{Kind: emulator.FaultResetAfterBody, Method: "POST", Times: 1})
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/tickets", strings.NewReader(`{"subject":"s","departmentId":"1892000000006907","contactId":"1892000000042032"}`))
	req.Header.Set("Authorization", "Zoho-oauthtoken "+e.token)
	req.Header["orgId"] = []string{emulator.DemoOrgID}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("reset_after fault returned a response")
	}
	if e.emu.TicketCount(emulator.DemoOrgID) != before+1 {
		t.Fatal("reset_after must process the request")
	}
	e.emu.AddFault(emulator.Fault{Kind: emulator.FaultResetBeforeBody, Method: "POST", Times: 1})
	req, _ = http.NewRequest("POST", e.srv.URL+"/api/v1/tickets", strings.NewReader(`{"subject":"s","departmentId":"1892000000006907","contactId":"1892000000042032"}`))
	req.Header.Set("Authorization", "Zoho-oauthtoken "+e.token)
	req.Header["orgId"] = []string{emulator.DemoOrgID}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("reset_before fault returned a response")
	}
	if e.emu.TicketCount(emulator.DemoOrgID) != before+1 {
		t.Fatal("reset_before must not process the request")
	}
	// Request log records status and error codes, never secrets.
	recs := e.emu.Requests()
	if len(recs) == 0 || recs[0].Status != 503 {
		t.Fatalf("log = %+v", recs[:1])
	}
	e.emu.Reset()
	if len(e.emu.Requests()) != 0 || e.emu.TicketCount(emulator.DemoOrgID) != emulator.SeedTicketCount {
		t.Fatal("reset did not restore the seed")
	}
}

// TestSlowBodyGate checks that a gated slow body sends one 16-byte chunk per
// signal and is whole once every chunk was let go: the fault is paced by
// the test, not by the clock.
func TestSlowBodyGate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	want := e.do("GET", "/api/v1/departments", nil)
	wantStatus(t, want, 200, "")
	gate := make(chan struct{})
	e.emu.AddFault(emulator.Fault{Kind: emulator.FaultSlowBody, PathPrefix: "/api/v1/departments", Times: 1, SlowChunkGate: gate})
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/departments", nil)
	req.Header.Set("Authorization", "Zoho-oauthtoken "+e.token)
	req.Header["orgId"] = []string{emulator.DemoOrgID}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := make([]byte, 0, len(want.body))
	buf := make([]byte, 16)
	for chunk := 0; len(got) < len(want.body); chunk++ {
		if chunk > 0 {
			gate <- struct{}{} // unbuffered: the server took the signal
		}
		n, err := io.ReadFull(resp.Body, buf[:min(16, len(want.body)-len(got))])
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		got = append(got, buf[:n]...)
	}
	if rest, err := io.ReadAll(resp.Body); err != nil || len(rest) != 0 {
		t.Fatalf("after the last chunk: %d more bytes, %v", len(rest), err)
	}
	if !bytes.Equal(got, want.body) {
		t.Fatalf("slow body differs from the real one:\n%s\n%s", got, want.body)
	}
}

func TestAdminEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	resp, err := http.Post(e.srv.URL+"/__emulator/tokens", "application/json", strings.NewReader(
		`{"clientId":"`+emulator.DemoClientID+`","user":"admin@zylker.com","orgId":"2389290","scopes":["Desk.basic.READ"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.token = tok["access_token"]
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 200, "")
	resp, err = http.Post(e.srv.URL+"/__emulator/faults", "application/json", strings.NewReader(`{"kind":"status","status":500,"times":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 500, "INTERNAL_SERVER_ERROR")
	resp, err = http.Post(e.srv.URL+"/__emulator/expire-tokens", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 401, "INVALID_OAUTH")
}

func TestExtraTicketsScale(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{ExtraTickets: 100000})
	if n := e.emu.TicketCount(emulator.DemoOrgID); n != 100300 {
		t.Fatalf("tickets = %d", n)
	}
	r := e.do("GET", "/api/v1/tickets?from=100250&limit=100&sortBy=-createdTime", nil)
	wantStatus(t, r, 200, "")
	if n := len(r.json(t)["data"].([]any)); n != 50 {
		t.Fatalf("last page = %d", n)
	}
}
