package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/demo/demotest"
	"github.com/deskconn/deskconn/internal/metrics"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/usage"
	"github.com/deskconn/deskconn/internal/web"
	"github.com/deskconn/deskconn/zohodesk"
)

// followConnect posts a connect form and follows the OAuth flow through
// the auto-consenting emulator back to the callback, as a browser does.
func (b *browser) followConnect(conn string, form url.Values) (int, string) {
	b.t.Helper()
	return b.post("/connections/"+conn+"/connect", form)
}

// demoBoundToOtherOrg starts a demo (auto-consent, as the demo's single
// organisation user) whose connection "demo" is bound to the second
// organisation, which the consenting user cannot reach.
func demoBoundToOtherOrg(t *testing.T) *demo.Demo {
	t.Helper()
	d, err := demo.Start(t.Context(), demo.Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0",
		Emulator: emulator.Options{DefaultUser: emulator.SingleOrgUser}, Mount: mountActions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	c, _ := d.Manager.Get(t.Context(), d.TenantID, "demo")
	c.OrgID, c.OrgName = emulator.SecondOrgID, "Other Org"
	if err := d.Store.UpdateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestReconnectKeepsOrganisation: a connection bound to one organisation
// is not silently rebound when the person consents as a user of another;
// the refusal says so; "Reconnect to another organisation" rebinds it and
// the activity records it. The result page survives a reload.
func TestReconnectKeepsOrganisation(t *testing.T) {
	t.Parallel()
	d := demoBoundToOtherOrg(t)
	b := signIn(t, d, d.LoginURL)
	code, body := b.followConnect("demo", nil)
	if code != http.StatusConflict || !strings.Contains(body, "Consent was for another organisation") || !strings.Contains(body, "Other Org") {
		t.Fatalf("reconnect as a user of another org: %d %s", code, body)
	}
	if c, _ := d.Manager.Get(t.Context(), d.TenantID, "demo"); c.OrgID != emulator.SecondOrgID {
		t.Fatalf("the refused reconnect rebound the connection to %s", c.OrgID)
	}
	code, body = b.followConnect("demo", url.Values{"rebind": {"1"}})
	if code != 200 || !strings.Contains(body, `id="connected-org">Zylker`) {
		t.Fatalf("rebind: %d %s", code, body)
	}
	if c, _ := d.Manager.Get(t.Context(), d.TenantID, "demo"); c.OrgID != emulator.DemoOrgID {
		t.Fatalf("rebind left the org %s", c.OrgID)
	}
	recs, _ := d.Store.ListAudit(t.Context(), store.AuditFilter{TenantID: d.TenantID, Action: "connection.rebind"})
	if len(recs) != 1 || !strings.Contains(recs[0].Detail, "Other Org") {
		t.Fatalf("audit of the rebinding: %+v", recs)
	}
	// The result page is /connected/demo: reloading it shows the state.
	if code, body := b.get("/connected/demo"); code != 200 || !strings.Contains(body, "Connected: demo") {
		t.Errorf("reloading the result page: %d", code)
	}
	// A plain reconnect by a user who reaches the bound org keeps it.
	if code, body := b.followConnect("demo", nil); code != 200 || !strings.Contains(body, `id="connected-org">Zylker`) {
		t.Errorf("plain reconnect: %d", code)
	}
}

// TestDeleteAsksForTheName: delete needs the connection's name typed and
// says it revokes Zoho's refresh token; form errors name fields as people
// read them, and scope typos get the closest valid name.
func TestDeleteAndFormErrors(t *testing.T) {
	t.Parallel()
	d := startConsoleDemo(t, false)
	b := signIn(t, d, d.LoginURL)
	if _, body := b.get("/"); !strings.Contains(body, "revokes Zoho's refresh token") {
		t.Error("the delete control does not say it revokes the refresh token")
	}
	if code, body := b.post("/connections/demo/delete", url.Values{"confirm_name": {"dem"}}); code != 400 || !strings.Contains(body, "does not match") {
		t.Fatalf("delete with a wrong name: %d", code)
	}
	if _, err := d.Manager.Get(t.Context(), d.TenantID, "demo"); err != nil {
		t.Fatal("a wrong name deleted the connection")
	}
	code, body := b.post("/connections", url.Values{"name": {"x2"}, "client_id": {""}, "client_secret": {"s"}, "scopes": {"Desk.tikets.READ"}})
	if code != 400 || !strings.Contains(body, "<b>Client id</b>") || !strings.Contains(body, "did you mean Desk.tickets.READ?") || strings.Contains(body, "/clientId") {
		t.Fatalf("form errors: %d %s", code, body)
	}
	if code, _ := b.post("/connections/demo/delete", url.Values{"confirm_name": {"demo"}}); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if _, err := d.Manager.Get(t.Context(), d.TenantID, "demo"); err == nil {
		t.Fatal("typed name did not delete")
	}
}

// TestEditScopesAndSecretThenReconnect: the connection page edits the
// scopes (checked like on create) and the client secret; reconnecting
// applies them.
func TestEditScopesAndSecretThenReconnect(t *testing.T) {
	t.Parallel()
	d := startConsoleDemo(t, false)
	b := signIn(t, d, d.LoginURL)
	if code, body := b.post("/connections/demo/edit", url.Values{"scopes": {"Desk.tickets.ALL,Desk.contact.READ"}}); code != 400 || !strings.Contains(body, "did you mean Desk.contacts.READ?") || !strings.Contains(body, "<b>Scopes</b>") {
		t.Fatalf("edit with a scope typo: %d", code)
	}
	before, _ := d.Manager.Get(t.Context(), d.TenantID, "demo")
	code, body := b.post("/connections/demo/edit", url.Values{"scopes": {"Desk.tickets.ALL, Desk.basic.READ,Desk.settings.READ"}, "client_secret": {emulator.DemoClientSecret}})
	if code != 200 || !strings.Contains(body, "Click Reconnect") {
		t.Fatalf("edit: %d", code)
	}
	c, _ := d.Manager.Get(t.Context(), d.TenantID, "demo")
	if strings.Join(c.Scopes, ",") != "Desk.tickets.ALL,Desk.basic.READ,Desk.settings.READ" || c.LastError == "" || string(c.SealedClientSecret) == string(before.SealedClientSecret) {
		t.Fatalf("after edit: scopes %v, last error %q, secret resealed %v", c.Scopes, c.LastError, string(c.SealedClientSecret) != string(before.SealedClientSecret))
	}
	if code, body := b.post("/connections/demo/connect", nil); code != 200 || !strings.Contains(body, "Connected: demo") {
		t.Fatalf("reconnect after edit: %d", code)
	}
	if c, _ := d.Manager.Get(t.Context(), d.TenantID, "demo"); c.LastError != "" || c.Status != store.StatusActive {
		t.Errorf("after reconnect: %s %q", c.Status, c.LastError)
	}
}

// TestHealthShowsCredits: the connection page shows the credits used today
// against the organisation's daily limit, made from its edition and active
// agents (fetched from Zoho), with the credits Zoho last said are left.
func TestHealthShowsCredits(t *testing.T) {
	t.Parallel()
	d := startConsoleDemo(t, false)
	m := metrics.New(metrics.Options{})
	ts := httptest.NewUnstartedServer(nil)
	srv, err := restapi.New(restapi.Options{Manager: d.Manager, APIKeys: apikey.New(d.Store), BaseURL: "http://" + ts.Listener.Addr().String(), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := web.Mount(srv, web.Options{}); err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	b := signIn(t, d, d.LoginURL) // the session is in the shared store
	b.base = ts.URL
	limitRE := regexp.MustCompile(`daily limit (\d+) \(edition ENTERPRISE, (\d+) agents\)`)
	_, body := b.get("/connections/demo")
	lm := limitRE.FindStringSubmatch(body)
	if lm == nil {
		t.Fatalf("before any call, the page does not show the daily limit of the demo's ENTERPRISE organisation:\n%s", body)
	}
	limit, _ := strconv.Atoi(lm[1])
	agents, _ := strconv.Atoi(lm[2])
	if want, _ := usage.DailyLimit("ENTERPRISE", agents); agents < 1 || limit != want {
		t.Errorf("daily limit %d with %d agents; want %d", limit, agents, want)
	}
	m.ObserveZoho(zohodesk.ResponseInfo{Method: "GET", PathTemplate: "/tickets", StatusCode: 200, OrgID: emulator.DemoOrgID,
		RateLimit: zohodesk.RateLimit{Remaining: limit - 1234, HasRemaining: true}})
	if _, body := b.get("/connections/demo"); !strings.Contains(body, fmt.Sprintf("1234 used of %d today (edition ENTERPRISE, %d agents)", limit, agents)) ||
		!strings.Contains(body, "shared by every app") {
		t.Errorf("the connection page does not show the credits used against the limit:\n%s", body)
	}
	// Bought credits: more left than the edition gives.
	m.ObserveZoho(zohodesk.ResponseInfo{Method: "GET", PathTemplate: "/tickets", StatusCode: 200, OrgID: emulator.DemoOrgID,
		RateLimit: zohodesk.RateLimit{Remaining: limit + 500, HasRemaining: true}})
	if _, body := b.get("/connections/demo"); !strings.Contains(body, fmt.Sprintf("%d left today", limit+500)) || !strings.Contains(body, "extra credits bought?") {
		t.Errorf("more credits than the limit are not shown as such:\n%s", body)
	}
}

// TestReconnectRebindOverREST: POST /v1/connections/{connection}/connect
// keeps the organisation the connection is bound to; with {"rebind": true}
// the consent rebinds it, and the audit records it; a body-less POST still
// starts a plain reconnect.
func TestReconnectRebindOverREST(t *testing.T) {
	t.Parallel()
	d := demoBoundToOtherOrg(t)
	key := d.APIKey.Reveal()
	// consent starts the flow over REST and follows the authorize URL
	// through the auto-consenting emulator to the callback, as a browser.
	consent := func(body string) int {
		t.Helper()
		res, got := demotest.Do(t, http.MethodPost, d.URL+"/v1/connections/demo/connect", key, body)
		u, _ := got["authorizeUrl"].(string)
		if res.StatusCode != http.StatusOK || u == "" {
			t.Fatalf("POST connect %q: %d %v", body, res.StatusCode, got)
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, body := range []string{"", `{"rebind": false}`} {
		if code := consent(body); code != http.StatusConflict {
			t.Fatalf("reconnect (body %q) as a user of another org: callback %d, want 409", body, code)
		}
		if c, _ := d.Manager.Get(t.Context(), d.TenantID, "demo"); c.OrgID != emulator.SecondOrgID {
			t.Fatalf("a reconnect without rebind rebound the connection to %s", c.OrgID)
		}
	}
	if res, got := demotest.Do(t, http.MethodPost, d.URL+"/v1/connections/demo/connect", key, `{"rebnd": true}`); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a misspelt field: %d %v, want 400", res.StatusCode, got)
	}
	if code := consent(`{"rebind": true}`); code != http.StatusOK {
		t.Fatalf("rebind: callback %d", code)
	}
	if c, _ := d.Manager.Get(t.Context(), d.TenantID, "demo"); c.OrgID != emulator.DemoOrgID {
		t.Fatalf("rebind left the org %s", c.OrgID)
	}
	recs, _ := d.Store.ListAudit(t.Context(), store.AuditFilter{TenantID: d.TenantID, Action: "connection.rebind"})
	if len(recs) != 1 || !strings.Contains(recs[0].Detail, "Other Org") {
		t.Fatalf("audit of the rebinding: %+v", recs)
	}
}

// TestConnectionHealthOverREST: GET /v1/connections/{connection} includes
// the health (the list does not): token state, credits used of the daily
// limit after a call to Zoho, and the last hour's calls, reads included.
func TestConnectionHealthOverREST(t *testing.T) {
	t.Parallel()
	d := startConsoleDemo(t, false)
	key := d.APIKey.Reveal()
	if res, got := demotest.Do(t, http.MethodPost, d.URL+"/v1/connections/demo/actions/list_tickets", key, `{"params":{"limit":1}}`); res.StatusCode != http.StatusOK {
		t.Fatalf("read: %d %v", res.StatusCode, got)
	}
	if res, _ := demotest.Do(t, http.MethodPost, d.URL+"/v1/connections/demo/actions/get_ticket", key, `{"ticketId":"no such"}`); res.StatusCode < 400 {
		t.Fatalf("a failing read answered %d", res.StatusCode)
	}
	res, got := demotest.Do(t, http.MethodGet, d.URL+"/v1/connections/demo", key, "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET connection: %d %v", res.StatusCode, got)
	}
	h, _ := got["health"].(map[string]any)
	if h == nil {
		t.Fatalf("no health in %v", got)
	}
	if h["token"] != "valid" || h["accessTokenExpiresAt"] == nil {
		t.Errorf("token: %v, expires %v", h["token"], h["accessTokenExpiresAt"])
	}
	last, _ := h["lastHour"].(map[string]any)
	if last["calls"] != 2.0 || last["errors"] != 1.0 || !strings.Contains(fmt.Sprint(last["note"]), "reads included") {
		t.Errorf("lastHour = %v; want 2 calls (reads), 1 error", last)
	}
	cr, _ := h["credits"].(map[string]any)
	limit, _ := cr["dailyLimit"].(float64)
	remaining, _ := cr["remaining"].(float64)
	used, _ := cr["used"].(float64)
	if cr["edition"] != "ENTERPRISE" || limit == 0 || remaining == 0 || used != limit-remaining || used < 1 {
		t.Errorf("credits = %v; want used = dailyLimit - remaining > 0 for the ENTERPRISE org", cr)
	}
	_, list := demotest.Do(t, http.MethodGet, d.URL+"/v1/connections", key, "")
	for _, c := range list["connections"].([]any) {
		if _, ok := c.(map[string]any)["health"]; ok {
			t.Errorf("the list includes health (it would fetch per connection)")
		}
	}
}
