package emulator_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/golang-jwt/jwt/v5"
)

// receiver is a webhook endpoint that records what Zoho sends.
type receiver struct {
	srv *httptest.Server

	mu        sync.Mutex
	getStatus int // answer to validation GETs; 0 means 200
	status    int // answer to POSTs; 0 means 200
	posts     []post
	block     chan struct{} // when set, POSTs wait on it (receiver timeout)
}

type post struct {
	jwt    string
	events []map[string]any
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		getStatus, status, block := r.getStatus, r.status, r.block
		r.mu.Unlock()
		if req.Method == http.MethodGet {
			w.WriteHeader(cmpOr(getStatus, http.StatusOK))
			return
		}
		body, _ := io.ReadAll(req.Body)
		if block != nil {
			<-block
			return
		}
		var evs []map[string]any
		if err := json.Unmarshal(body, &evs); err == nil && req.Header.Get("X-ZDesk-JWT") != "" {
			r.mu.Lock()
			r.posts = append(r.posts, post{jwt: req.Header.Get("X-ZDesk-JWT"), events: evs})
			r.mu.Unlock()
		}
		w.WriteHeader(cmpOr(status, http.StatusOK))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func (r *receiver) received() []post {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.posts)
}

var eventScopes = append(slices.Clone(allScopes), "Desk.events.ALL", "Desk.contacts.UPDATE")

func newWebhookEnv(t *testing.T, opts emulator.Options) *env {
	t.Helper()
	e := newEnv(t, opts)
	_, access, err := e.emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, eventScopes)
	if err != nil {
		t.Fatal(err)
	}
	e.token = access
	return e
}

func (e *env) waitWebhooks() {
	e.t.Helper()
	if err := e.emu.WaitWebhooks(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) createWebhook(url, subs string) map[string]any {
	e.t.Helper()
	res := e.do("POST", "/api/v1/webhooks", `{"url":"`+url+`","name":"deskconn","subscriptions":`+subs+`}`)
	if res.status != http.StatusOK {
		e.t.Fatalf("create webhook = %d %s", res.status, res.body)
	}
	return res.json(e.t)
}

func TestWebhookManagement(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t, emulator.Options{})
	r := newReceiver(t)
	if res := e.do("GET", "/api/v1/webhooks", nil); res.status != http.StatusNoContent {
		t.Fatalf("list (none) = %d, want 204", res.status)
	}
	w := e.createWebhook(r.srv.URL, `{"Ticket_Add":null,"Ticket_Update":{"fields":["status"],"includePrevState":true}}`)
	for _, k := range []string{"id", "name", "description", "url", "subscriptions", "isEnabled", "ignoreSourceId", "includeEventsFrom", "createdBy", "createdTime", "modifiedTime", "type"} {
		if _, ok := w[k]; !ok {
			t.Errorf("created webhook lacks %q: %v", k, w)
		}
	}
	if w["isEnabled"] != true || w["type"] != "CUSTOMER_WEBHOOK" {
		t.Errorf("created webhook = %v, want enabled CUSTOMER_WEBHOOK", w)
	}
	id := w["id"].(string)
	if res := e.do("GET", "/api/v1/webhooks/"+id, nil); res.status != http.StatusOK || res.json(t)["url"] != r.srv.URL {
		t.Errorf("get = %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/api/v1/webhooks", nil); res.status != http.StatusOK || len(res.json(t)["data"].([]any)) != 1 {
		t.Errorf("list = %d %s", res.status, res.body)
	}
	res := e.do("PATCH", "/api/v1/webhooks/"+id, `{"isEnabled":false,"subscriptions":{"Ticket_Add":null}}`)
	if res.status != http.StatusOK || res.json(t)["isEnabled"] != false {
		t.Errorf("patch = %d %s", res.status, res.body)
	}
	if res := e.do("DELETE", "/api/v1/webhooks/"+id, nil); res.status != http.StatusOK || len(res.body) != 0 {
		t.Errorf("delete = %d %q, want 200 and an empty body", res.status, res.body)
	}
	if res := e.do("GET", "/api/v1/webhooks/"+id, nil); res.status != http.StatusNotFound {
		t.Errorf("get deleted = %d, want 404", res.status)
	}
}

func TestWebhookCreateRefuses(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t, emulator.Options{})
	r := newReceiver(t)
	failing := newReceiver(t)
	failing.getStatus, failing.status = http.StatusNotFound, http.StatusForbidden
	tests := []struct {
		name      string
		body      string
		status    int
		fieldName string
	}{
		{"unknown event", `{"url":"` + r.srv.URL + `","subscriptions":{"Ticket_Explode":null}}`, 422, "/subscriptions/Ticket_Explode"},
		{"unknown filter key", `{"url":"` + r.srv.URL + `","subscriptions":{"Ticket_Add":{"fields":["status"]}}}`, 422, "/subscriptions/Ticket_Add/fields"},
		{"no subscriptions", `{"url":"` + r.srv.URL + `"}`, 422, "/subscriptions"},
		{"no url", `{"subscriptions":{"Ticket_Add":null}}`, 422, "/url"},
		{"bad scheme", `{"url":"mailto:x@y.z","subscriptions":{"Ticket_Add":null}}`, 422, "/url"},
		{"validation fails", `{"url":"` + failing.srv.URL + `","subscriptions":{"Ticket_Add":null}}`, 422, "/url"},
	}
	for _, tt := range tests {
		res := e.do("POST", "/api/v1/webhooks", tt.body)
		if res.status != tt.status || !strings.Contains(string(res.body), `"fieldName":"`+tt.fieldName+`"`) {
			t.Errorf("%s: %d %s, want %d naming %s", tt.name, res.status, res.body, tt.status, tt.fieldName)
		}
	}
	// The validation POST is tried when the GET fails.
	postOnly := newReceiver(t)
	postOnly.getStatus = http.StatusMethodNotAllowed
	e.createWebhook(postOnly.srv.URL, `{"Ticket_Add":null}`)

	// Scopes: a token without Desk.events.* cannot manage webhooks.
	_, plain, err := e.emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.tickets.ALL"})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.do("GET", "/api/v1/webhooks", nil, "Authorization", "Zoho-oauthtoken "+plain); res.status != http.StatusForbidden {
		t.Errorf("list without events scope = %d, want 403", res.status)
	}
}

func TestWebhookEditionLimits(t *testing.T) {
	t.Parallel()
	std := newWebhookEnv(t, emulator.Options{Edition: "STANDARD"})
	r := newReceiver(t)
	res := std.do("POST", "/api/v1/webhooks", `{"url":"`+r.srv.URL+`","subscriptions":{"Ticket_Add":null}}`)
	if res.status != http.StatusForbidden || res.json(t)["errorCode"] != "LICENSE_ACCESS_LIMITED" {
		t.Errorf("STANDARD create = %d %s, want 403 LICENSE_ACCESS_LIMITED", res.status, res.body)
	}
	// Disabled webhooks may be configured on any edition.
	if res := std.do("POST", "/api/v1/webhooks", `{"url":"`+r.srv.URL+`","isEnabled":false,"subscriptions":{"Ticket_Add":null}}`); res.status != http.StatusOK {
		t.Errorf("STANDARD create disabled = %d %s, want 200", res.status, res.body)
	}
	pro := newWebhookEnv(t, emulator.Options{Edition: "PROFESSIONAL"})
	for i := range 5 {
		if res := pro.do("POST", "/api/v1/webhooks", `{"url":"`+r.srv.URL+`","subscriptions":{"Ticket_Add":null}}`); res.status != http.StatusOK {
			t.Fatalf("PROFESSIONAL webhook %d = %d %s", i+1, res.status, res.body)
		}
	}
	if res := pro.do("POST", "/api/v1/webhooks", `{"url":"`+r.srv.URL+`","subscriptions":{"Ticket_Add":null}}`); res.status != http.StatusForbidden {
		t.Errorf("PROFESSIONAL 6th enabled webhook = %d, want 403", res.status)
	}
}

// jwksKey fetches the emulator's JWKS and returns its key.
func jwksKey(t *testing.T, e *env) *rsa.PublicKey {
	t.Helper()
	res := e.do("GET", "/.well-known/jwks.json", nil, "Authorization", "")
	if res.status != http.StatusOK {
		t.Fatalf("GET jwks = %d", res.status)
	}
	var set struct {
		Keys []struct{ Kid, N, E string } `json:"keys"`
	}
	if err := json.Unmarshal(res.body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks = %s", res.body)
	}
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	ex, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}
}

func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t, emulator.Options{})
	r := newReceiver(t)
	w := e.createWebhook(r.srv.URL, `{"Ticket_Add":null,"Ticket_Update":{"includePrevState":true},"Contact_Add":null}`)
	created := e.do("POST", "/api/v1/tickets", `{"subject":"Printer on fire","departmentId":"1892000000006907","contactId":"1892000000042032"}`)
	if created.status != http.StatusOK {
		t.Fatalf("create ticket = %d %s", created.status, created.body)
	}
	id := created.json(t)["id"].(string)
	if res := e.do("PATCH", "/api/v1/tickets/"+id, `{"status":"Closed"}`); res.status != http.StatusOK {
		t.Fatalf("update ticket = %d %s", res.status, res.body)
	}
	e.waitWebhooks()
	posts := r.received()
	if len(posts) != 2 {
		t.Fatalf("received %d posts, want 2 (Ticket_Add, Ticket_Update)", len(posts))
	}
	pub := jwksKey(t, e)
	for i, p := range posts {
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(p.jwt, claims, func(*jwt.Token) (any, error) { return pub, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(e.clk.Now),
			jwt.WithIssuer("orgId:"+emulator.DemoOrgID), jwt.WithAudience("webhookId:"+w["id"].(string)))
		if err != nil {
			t.Errorf("post %d: JWT = %v", i, err)
		}
		if len(p.events) != 1 || p.events[0]["orgId"] != emulator.DemoOrgID {
			t.Errorf("post %d: events = %v", i, p.events)
		}
	}
	add, upd := posts[0].events[0], posts[1].events[0]
	if add["eventType"] != "Ticket_Add" || add["payload"].(map[string]any)["id"] != id || add["prevState"] != nil {
		t.Errorf("first event = %v, want Ticket_Add of the ticket", add)
	}
	if upd["eventType"] != "Ticket_Update" || upd["payload"].(map[string]any)["status"] != "Closed" ||
		upd["prevState"].(map[string]any)["status"] != "Open" {
		t.Errorf("second event = %v, want Ticket_Update with prevState", upd)
	}
	if _, ok := add["eventTime"].(string); !ok {
		t.Errorf("eventTime = %v, want epoch milliseconds as a string", add["eventTime"])
	}
}

func TestWebhookFilters(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t, emulator.Options{})
	r := newReceiver(t)
	// Only status changes, and no previous state.
	e.createWebhook(r.srv.URL, `{"Ticket_Update":{"fields":["status"]}}`)
	created := e.do("POST", "/api/v1/tickets", `{"subject":"Filters","departmentId":"1892000000006907","contactId":"1892000000042032"}`)
	id := created.json(t)["id"].(string)
	e.do("PATCH", "/api/v1/tickets/"+id, `{"priority":"High"}`)
	e.do("PATCH", "/api/v1/tickets/"+id, `{"status":"On Hold"}`)
	e.waitWebhooks()
	posts := r.received()
	if len(posts) != 1 || posts[0].events[0]["payload"].(map[string]any)["status"] != "On Hold" || posts[0].events[0]["prevState"] != nil {
		t.Fatalf("received %v, want only the status change, without prevState", posts)
	}
}

func TestWebhookFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults emulator.WebhookFaults
		want   []string // subjects in arrival order
	}{
		{"duplicate", emulator.WebhookFaults{Duplicate: true}, []string{"a", "a", "b", "b"}},
		{"reorder", emulator.WebhookFaults{Reorder: true}, []string{"b", "a"}},
		{"drop every second", emulator.WebhookFaults{DropEvery: 2}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newWebhookEnv(t, emulator.Options{})
			r := newReceiver(t)
			e.createWebhook(r.srv.URL, `{"Ticket_Add":null}`)
			e.emu.SetWebhookFaults(tt.faults)
			// Both tickets are queued before the first delivery can finish:
			// the receiver blocks until they are.
			r.mu.Lock()
			for _, s := range []string{"a", "b"} {
				if res := e.do("POST", "/api/v1/tickets", `{"subject":"`+s+`","departmentId":"1892000000006907","contactId":"1892000000042032"}`); res.status != http.StatusOK {
					t.Fatalf("create = %d", res.status)
				}
			}
			r.mu.Unlock()
			e.waitWebhooks()
			var got []string
			for _, p := range r.received() {
				got = append(got, p.events[0]["payload"].(map[string]any)["subject"].(string))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("received %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWebhookReceiverTimeoutAndGone(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t, emulator.Options{WebhookAckTimeout: 100 * time.Millisecond})
	slow := newReceiver(t)
	e.createWebhook(slow.srv.URL, `{"Ticket_Add":null}`)
	block := make(chan struct{})
	defer close(block)
	slow.mu.Lock()
	slow.block = block
	slow.mu.Unlock()
	e.do("POST", "/api/v1/tickets", `{"subject":"slow","departmentId":"1892000000006907","contactId":"1892000000042032"}`)
	e.waitWebhooks()
	ds := e.emu.WebhookDeliveries()
	if len(ds) != 1 || ds[0].Status != 0 || ds[0].Err == "" {
		t.Fatalf("deliveries = %+v, want one timed out", ds)
	}

	gone := newWebhookEnv(t, emulator.Options{})
	r := newReceiver(t)
	w := gone.createWebhook(r.srv.URL, `{"Ticket_Add":null}`)
	r.mu.Lock()
	r.status = http.StatusGone
	r.mu.Unlock()
	gone.do("POST", "/api/v1/tickets", `{"subject":"gone","departmentId":"1892000000006907","contactId":"1892000000042032"}`)
	gone.waitWebhooks()
	if res := gone.do("GET", "/api/v1/webhooks/"+w["id"].(string), nil); res.status != http.StatusNotFound {
		t.Errorf("webhook after 410 = %d, want deleted (404)", res.status)
	}
}

// The admin API sets webhook faults and lists deliveries, for tests that
// drive a running emulator over HTTP.
func TestWebhookAdmin(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t, emulator.Options{})
	r := newReceiver(t)
	e.createWebhook(r.srv.URL, `{"Ticket_Add":null}`)
	if res := e.do("PUT", "/__emulator/webhook-faults", `{"duplicate":true,"delay":"1ms"}`); res.status != http.StatusNoContent {
		t.Fatalf("PUT webhook-faults = %d %s", res.status, res.body)
	}
	for _, bad := range []string{`{"delay":"forever"}`, `{"dropEvery":-1}`, `{"sometimes":true}`} {
		if res := e.do("PUT", "/__emulator/webhook-faults", bad); res.status != http.StatusBadRequest {
			t.Errorf("PUT webhook-faults %s = %d, want 400", bad, res.status)
		}
	}
	e.do("POST", "/api/v1/tickets", `{"subject":"admin","departmentId":"1892000000006907","contactId":"1892000000042032"}`)
	e.waitWebhooks()
	res := e.do("GET", "/__emulator/webhook-deliveries", nil)
	var ds []emulator.WebhookDelivery
	if err := json.Unmarshal(res.body, &ds); err != nil || len(ds) != 2 || ds[0].Status != http.StatusOK || ds[0].EventType != "Ticket_Add" {
		t.Errorf("webhook-deliveries = %s, want two acknowledged Ticket_Add deliveries", res.body)
	}
}

// TestWebhookWorkAndCustomerEvents: replies, comments, contact updates and
// account writes made through the API are delivered as Zoho's
// Ticket_Thread_Add, Ticket_Comment_Add, Contact_Update (with prevState),
// Account_Add and Account_Update events, each naming its object.
func TestWebhookWorkAndCustomerEvents(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t, emulator.Options{})
	r := newReceiver(t)
	e.createWebhook(r.srv.URL, `{"Ticket_Thread_Add":null,"Ticket_Comment_Add":null,"Contact_Update":{"includePrevState":true},"Account_Add":null,"Account_Update":{"includePrevState":true}}`)
	ticket := "/api/v1/tickets/" + emulator.DemoThreadTicketID
	for _, step := range []struct{ method, path, body string }{
		{"POST", ticket + "/sendReply", `{"channel":"EMAIL","content":"Fixed.","fromEmailAddress":"support@zylker.zohodesk.com"}`},
		{"POST", ticket + "/comments", `{"content":"Checked the logs."}`},
		{"PATCH", "/api/v1/contacts/" + emulator.DemoContactID, `{"title":"Buyer"}`},
		{"POST", "/api/v1/accounts", `{"accountName":"Webhook Widgets"}`},
	} {
		if res := e.do(step.method, step.path, step.body); res.status != http.StatusOK {
			t.Fatalf("%s %s = %d %s", step.method, step.path, res.status, res.body)
		}
	}
	e.waitWebhooks()
	var accountID string
	for _, p := range r.received() {
		for _, ev := range p.events {
			if ev["eventType"] == "Account_Add" {
				accountID, _ = ev["payload"].(map[string]any)["id"].(string)
			}
		}
	}
	if accountID == "" {
		t.Fatal("no Account_Add delivered")
	}
	if res := e.do("PATCH", "/api/v1/accounts/"+accountID, `{"phone":"+1 555 0110"}`); res.status != http.StatusOK {
		t.Fatalf("update account = %d %s", res.status, res.body)
	}
	e.waitWebhooks()
	got := map[string]map[string]any{}
	for _, p := range r.received() {
		for _, ev := range p.events {
			got[ev["eventType"].(string)] = ev
		}
	}
	for typ, want := range map[string]string{"Ticket_Thread_Add": "ticketId", "Ticket_Comment_Add": "ticketId", "Contact_Update": "id", "Account_Add": "id", "Account_Update": "id"} {
		ev := got[typ]
		if ev == nil {
			t.Errorf("no %s delivered (got %v)", typ, got)
			continue
		}
		if v, _ := ev["payload"].(map[string]any)[want].(string); v == "" {
			t.Errorf("%s payload lacks %s: %v", typ, want, ev["payload"])
		}
	}
	if prev, _ := got["Contact_Update"]["prevState"].(map[string]any); prev == nil || prev["title"] == "Buyer" {
		t.Errorf("Contact_Update prevState = %v, want the contact before the change", got["Contact_Update"]["prevState"])
	}
	if prev, _ := got["Account_Update"]["prevState"].(map[string]any); prev == nil || prev["phone"] == "+1 555 0110" {
		t.Errorf("Account_Update prevState = %v, want the account before the change", got["Account_Update"]["prevState"])
	}
}

// With WebhookConcurrency several deliveries are in flight at once; the
// JWTs of one webhook within one second are the same token, and it
// verifies.
func TestWebhookConcurrentDelivery(t *testing.T) {
	t.Parallel()
	const n = 3
	e := newWebhookEnv(t, emulator.Options{WebhookConcurrency: n})
	var mu sync.Mutex
	inFlight, peak := 0, 0
	release := make(chan struct{})
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.Header.Get("X-ZDesk-JWT") == "" {
			return // URL validation
		}
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		tokens = append(tokens, req.Header.Get("X-ZDesk-JWT"))
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	w := e.createWebhook(srv.URL, `{"Ticket_Add":null}`)
	for range n {
		if res := e.do("POST", "/api/v1/tickets", `{"subject":"Printer on fire","departmentId":"1892000000006907","contactId":"1892000000042032"}`); res.status != http.StatusOK {
			t.Fatalf("create ticket = %d %s", res.status, res.body)
		}
	}
	for {
		mu.Lock()
		p := peak
		mu.Unlock()
		if p == n {
			break
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("at most %d deliveries were in flight at once, want %d", p, n)
		case <-time.After(time.Millisecond):
		}
	}
	close(release)
	e.waitWebhooks()
	pub := jwksKey(t, e)
	if len(tokens) != n {
		t.Fatalf("%d deliveries, want %d", len(tokens), n)
	}
	for i, tok := range tokens {
		if tok != tokens[0] {
			t.Errorf("delivery %d has another JWT than delivery 0 in the same second", i)
		}
		_, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return pub, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(e.clk.Now),
			jwt.WithIssuer("orgId:"+emulator.DemoOrgID), jwt.WithAudience("webhookId:"+w["id"].(string)))
		if err != nil {
			t.Errorf("delivery %d: JWT = %v", i, err)
		}
	}
	// A second later the token is a new one.
	e.clk.Add(time.Second)
	if res := e.do("POST", "/api/v1/tickets", `{"subject":"Printer on fire","departmentId":"1892000000006907","contactId":"1892000000042032"}`); res.status != http.StatusOK {
		t.Fatalf("create ticket = %d %s", res.status, res.body)
	}
	e.waitWebhooks()
	if len(tokens) != n+1 || tokens[n] == tokens[0] {
		t.Errorf("the delivery a second later reused the earlier JWT")
	}
}

// The admin customer-reply fires Ticket_Thread_Add like a reply made
// through the API, and Ticket_Update (status back to Open, with prevState)
// when it reopens a closed ticket.
func TestWebhookCustomerReplyEvents(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t, emulator.Options{})
	r := newReceiver(t)
	e.createWebhook(r.srv.URL, `{"Ticket_Thread_Add":{"direction":"in"},"Ticket_Update":{"includePrevState":true}}`)
	ticket := emulator.DemoThreadTicketID
	if res := e.do("PATCH", "/api/v1/tickets/"+ticket, `{"status":"Closed"}`); res.status != http.StatusOK {
		t.Fatalf("close ticket = %d %s", res.status, res.body)
	}
	e.waitWebhooks()
	before := len(r.received())
	threadID, err := e.emu.AddCustomerReply(emulator.DemoOrgID, ticket, "<p>Still broken.</p>")
	if err != nil {
		t.Fatal(err)
	}
	e.waitWebhooks()
	posts := r.received()[before:]
	if len(posts) != 2 {
		t.Fatalf("customer reply delivered %d posts, want 2 (Ticket_Update, Ticket_Thread_Add)", len(posts))
	}
	upd, add := posts[0].events[0], posts[1].events[0]
	if upd["eventType"] != "Ticket_Update" || upd["payload"].(map[string]any)["status"] != "Open" ||
		upd["prevState"].(map[string]any)["status"] != "Closed" {
		t.Errorf("first event = %v, want Ticket_Update reopening the ticket", upd)
	}
	p, _ := add["payload"].(map[string]any)
	if add["eventType"] != "Ticket_Thread_Add" || p["id"] != threadID || p["ticketId"] != ticket || p["direction"] != "in" {
		t.Errorf("second event = %v, want Ticket_Thread_Add of thread %s (direction in)", add, threadID)
	}
	// On an open ticket only the thread is announced.
	threadID, err = e.emu.AddCustomerReply(emulator.DemoOrgID, ticket, "<p>Hello?</p>")
	if err != nil {
		t.Fatal(err)
	}
	e.waitWebhooks()
	posts = r.received()[before+2:]
	if len(posts) != 1 || posts[0].events[0]["eventType"] != "Ticket_Thread_Add" || posts[0].events[0]["payload"].(map[string]any)["id"] != threadID {
		t.Errorf("second customer reply delivered %v, want one Ticket_Thread_Add", posts)
	}
}
