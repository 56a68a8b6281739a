package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/demo/demotest"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
)

// mountActions mounts the action catalogue, audited to st, as serve does.
func mountActions(s *restapi.Server, _ *connection.Manager, st store.Store) error {
	reg := action.NewRegistry(action.Options{Idempotency: st, Audit: st, Observer: s.ObserveAction})
	reg.Add(deskactions.All(deskactions.Deps{})...)
	return s.MountActions(restapi.ActionsOptions{Registry: reg})
}

func startConsoleDemo(t *testing.T, consentPage bool) *demo.Demo {
	t.Helper()
	d, err := demo.Start(t.Context(), demo.Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", ConsentPage: consentPage,
		Emulator: emulator.Options{DefaultUser: emulator.SingleOrgUser}, Mount: mountActions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// browser is a cookie-keeping HTTP client signed in with d's login link.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
	csrf string
}

func signIn(t *testing.T, d *demo.Demo, link string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, c: &http.Client{Jar: jar}, base: d.URL}
	code, body := b.get(link)
	if code != 200 {
		t.Fatalf("login: %d", code)
	}
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	b.csrf = m[1]
	return b
}

func (b *browser) get(u string) (int, string) {
	b.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.base + u
	}
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf)
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var newKey = regexp.MustCompile(`id="new-key">([^<]+)<`)

// TestConsolePagesOverHTTP drives every console control with plain HTTP:
// policies (one action, a preset), keys (scoped create, bad input named as
// on the form, revoke), activity (filters, links to Zoho Desk, JSON lines
// export), invite and sessions.
func TestConsolePagesOverHTTP(t *testing.T) {
	t.Parallel()
	d := startConsoleDemo(t, false)
	b := signIn(t, d, d.LoginURL)

	// Policies: one action denied, then the read-only preset.
	if code, body := b.post("/connections/demo/policies", url.Values{"policy.list_tickets": {"deny"}}); code != 200 || !strings.Contains(body, "Policies saved") {
		t.Fatalf("save policies: %d", code)
	}
	c, _ := d.Manager.Get(t.Context(), d.TenantID, "demo")
	if c.Policies["list_tickets"] != "deny" || len(c.Policies) != 1 {
		t.Fatalf("stored policies %v", c.Policies)
	}
	if code, body := b.post("/connections/demo/policies", url.Values{"policy.list_tickets": {"sometimes"}}); code != 400 || !strings.Contains(body, "Policy of list_tickets") {
		t.Errorf("a bad policy: %d, want 400 naming the field as read", code)
	}
	if code, _ := b.post("/connections/demo/policies", url.Values{"preset": {"read-only"}}); code != 200 {
		t.Fatalf("preset: %d", code)
	}
	c, _ = d.Manager.Get(t.Context(), d.TenantID, "demo")
	if c.Policies["reply_to_ticket"] != "deny" || c.Policies["list_tickets"] != "" {
		t.Fatalf("read-only preset gave %v", c.Policies)
	}
	if _, body := b.get("/connections/demo"); !strings.Contains(body, `id="health-token"`) || !strings.Contains(body, "valid;") {
		t.Errorf("the connection page lacks its health")
	}
	if code, _ := b.post("/connections/demo/policies", url.Values{"preset": {}}); code != 200 {
		t.Fatalf("reset: %d", code)
	}

	// Keys: bad input names the form's fields; a scoped key is shown once
	// and listed with its scope.
	code, body := b.post("/keys", url.Values{"name": {"agent"}, "read_only": {"1"}, "actions": {"reply_to_ticket"}, "expires": {"soon"}})
	if code != 400 || !strings.Contains(body, "<b>Actions</b>") || !strings.Contains(body, "<b>Expires after</b>") {
		t.Fatalf("bad key form: %d %s", code, body)
	}
	code, body = b.post("/keys", url.Values{"name": {"agent"}, "read_only": {"1"}, "connection": {"demo"}, "expires": {"30d"}})
	m := newKey.FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("create key: %d", code)
	}
	key := m[1]
	if !strings.Contains(body, "read-only") || !strings.Contains(body, "demo") {
		t.Errorf("the key list does not show the new key's scope")
	}
	if _, again := b.get("/keys"); strings.Contains(again, key) {
		t.Error("the key is shown again after creation")
	}

	// An agent uses the key: a read works, a write is refused by scope.
	calls0, errs0 := lastHourCalls(t, b, "demo")
	if resp, p := demotest.Do(t, "POST", d.URL+"/v1/connections/demo/actions/list_tickets", key, `{"params":{"limit":1}}`); resp.StatusCode != 200 {
		t.Fatalf("read with the read-only key: %d %v", resp.StatusCode, p)
	}
	if resp, p := demotest.Do(t, "POST", d.URL+"/v1/connections/demo/actions/add_ticket_comment", key, `{"ticketId":"1","content":"x"}`); resp.StatusCode != 403 {
		t.Fatalf("write with the read-only key: %d %v, want 403", resp.StatusCode, p)
	}
	// The health counts both calls, the read included, and the refusal
	// as failed.
	if calls, errs := lastHourCalls(t, b, "demo"); calls != calls0+2 || errs != errs0+1 {
		t.Errorf("health after a read and a refused write: %d calls, %d failed; want %d, %d", calls, errs, calls0+2, errs0+1)
	}
	keys, _ := d.Server.APIKeys().List(t.Context(), d.TenantID)
	var keyID string
	for _, k := range keys {
		if k.Name == "agent" {
			keyID = k.ID
		}
	}
	// Activity (writes are audited): filtered by the key, it shows the
	// agent's refused write.
	_, body = b.get("/activity?key=" + url.QueryEscape(keyID) + "&connection=demo")
	if !strings.Contains(body, "add_ticket_comment") || !strings.Contains(body, "key agent") || !strings.Contains(body, "forbidden") {
		t.Errorf("activity filtered by key lacks the agent's call:\n%s", body)
	}
	if _, body := b.get("/activity?outcome=no_such_outcome"); !strings.Contains(body, `id="no-activity"`) {
		t.Error("an outcome filter that matches nothing still lists records")
	}
	code, export := b.get("/activity/export?key=" + url.QueryEscape(keyID))
	if code != 200 || !strings.Contains(export, `"action":"add_ticket_comment"`) || strings.Count(strings.TrimSpace(export), "\n") != 0 {
		t.Errorf("export: %d %q", code, export)
	}

	// Revoke: the key stops working.
	if code, body := b.post("/keys/"+keyID+"/revoke", nil); code != 200 || !strings.Contains(body, "revoked") {
		t.Fatalf("revoke: %d", code)
	}
	if resp, _ := demotest.Do(t, "POST", d.URL+"/v1/connections/demo/actions/list_tickets", key, `{"params":{"limit":1}}`); resp.StatusCode != 401 {
		t.Fatalf("revoked key: %d, want 401", resp.StatusCode)
	}

	// Invite another admin; the link signs in a second browser, whose
	// session is listed and can be ended.
	_, body = b.post("/admins/invite", nil)
	im := regexp.MustCompile(`id="invite-link">([^<]+)<`).FindStringSubmatch(body)
	if im == nil {
		t.Fatal("no invite link")
	}
	other := signIn(t, d, strings.ReplaceAll(im[1], "&amp;", "&"))
	_, body = b.get("/admins")
	rows := regexp.MustCompile(`(?s)<tr id="session-([0-9a-f]+)">(.*?)</tr>`).FindAllStringSubmatch(body, -1)
	if len(rows) != 2 || strings.Count(body, "(this browser)") != 1 {
		t.Fatalf("sessions listed: %d, want 2, one of them this browser's", len(rows))
	}
	for _, row := range rows {
		if !strings.Contains(row[2], "(this browser)") {
			if code, body := b.post("/sessions/"+row[1]+"/end", nil); code != 200 || !strings.Contains(body, "Session ended") {
				t.Fatalf("end session: %d", code)
			}
		}
	}
	if code, _ := other.get("/"); code != 401 {
		t.Errorf("the ended session still signs in: %d", code)
	}
	if code, _ := b.get("/"); code != 200 {
		t.Errorf("ending the other session ended this one: %d", code)
	}
}

func TestZohoLinksInActivity(t *testing.T) {
	t.Parallel()
	d := startConsoleDemo(t, false)
	c, _ := d.Manager.Get(t.Context(), d.TenantID, "demo")
	if err := d.Store.AppendAudit(t.Context(), &store.AuditRecord{Time: time.Now(), TenantID: d.TenantID, ConnectionID: c.ID,
		Action: "create_ticket", Outcome: "ok", Detail: "ticket 1892000000042034 created"}); err != nil {
		t.Fatal(err)
	}
	b := signIn(t, d, d.LoginURL)
	_, body := b.get("/activity")
	want := `href="` + strings.TrimSuffix(d.EmulatorURL, "/") + `/support/ShowHomePage.do#Cases/dv/1892000000042034"`
	if !strings.Contains(body, want) {
		t.Errorf("activity lacks the link %s", want)
	}
}

// TestBrowserAdminConsole drives Chromium through what an admin does from
// the web page alone: connect (consent on the emulator's page), set
// policies, create a read-only key for one connection, watch an agent's
// call with it in the activity, and revoke it; then the pages at 390 px.
func TestBrowserAdminConsole(t *testing.T) {
	tab := newChromiumTab(t, 5*time.Minute) // a busy 2-core machine can take minutes
	d := startConsoleDemo(t, true)
	ctx, shot, steps, text := tab.ctx, tab.shot, tab.steps, tab.text
	steps("sign in and add a connection",
		chromedp.Navigate(d.LoginURL),
		chromedp.WaitVisible(chromedp.ID("add-form")),
		chromedp.SendKeys(chromedp.ID("name"), "support"),
		chromedp.SendKeys(chromedp.ID("client_id"), emulator.DemoClientID),
		chromedp.SendKeys(chromedp.ID("client_secret"), emulator.DemoClientSecret),
		chromedp.Click(chromedp.ID("add")),
		chromedp.WaitVisible(chromedp.ID("connect-support")))
	steps("connect through the consent page",
		chromedp.Click(chromedp.ID("connect-support")),
		chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("connected-org")),
		shot("1-connected"))
	steps("set policies",
		chromedp.Navigate(d.URL+"/connections/support"),
		chromedp.WaitVisible(chromedp.ID("policies-form")),
		chromedp.SetValue(chromedp.ID("policy-reply_to_ticket"), "deny"),
		chromedp.Click(chromedp.ID("save-policies")),
		chromedp.WaitVisible(chromedp.ID("notice")),
		shot("2-policies"))
	if got := text("#effective-reply_to_ticket"); got != "deny" {
		t.Fatalf("reply_to_ticket shows %q after saving deny", got)
	}
	steps("create a read-only key for the connection",
		chromedp.Navigate(d.URL+"/keys"),
		chromedp.WaitVisible(chromedp.ID("key-form")),
		chromedp.SendKeys(chromedp.ID("key-name"), "triage-bot"),
		chromedp.Click(chromedp.ID("key-read-only")),
		chromedp.SetValue(chromedp.ID("key-connection"), "support"),
		chromedp.SendKeys(chromedp.ID("key-expires"), "30d"),
		chromedp.Click(chromedp.ID("create-key")),
		chromedp.WaitVisible(chromedp.ID("new-key")),
		shot("3-key"))
	key := text("#new-key")
	var keyID string
	keys, _ := d.Server.APIKeys().List(t.Context(), d.TenantID)
	for _, k := range keys {
		if k.Name == "triage-bot" {
			keyID = k.ID
		}
	}
	if scope := text("#scope-" + keyID); !strings.Contains(scope, "read-only") || !strings.Contains(scope, "support") {
		t.Errorf("the key's scope shows %q", scope)
	}
	// The agent calls with the key; its write is refused.
	if resp, p := demotest.Do(t, "POST", d.URL+"/v1/connections/support/actions/list_tickets", key, `{"params":{"limit":1}}`); resp.StatusCode != 200 {
		t.Fatalf("agent read: %d %v", resp.StatusCode, p)
	}
	if resp, _ := demotest.Do(t, "POST", d.URL+"/v1/connections/demo/actions/list_tickets", key, `{"params":{"limit":1}}`); resp.StatusCode != 403 {
		t.Fatalf("agent read on another connection: %d, want 403", resp.StatusCode)
	}
	if resp, _ := demotest.Do(t, "POST", d.URL+"/v1/connections/support/actions/add_ticket_comment", key, `{"ticketId":"1","content":"x"}`); resp.StatusCode != 403 {
		t.Fatalf("agent write with the read-only key: %d, want 403", resp.StatusCode)
	}
	// The connection's health counts the agent's read too, and shows the
	// credits used of the organisation's daily limit.
	steps("see the connection's health",
		chromedp.Navigate(d.URL+"/connections/support"),
		chromedp.WaitVisible(chromedp.ID("health-calls")),
		shot("3b-health"))
	if calls := text("#health-calls"); !strings.HasPrefix(calls, "2 calls, 1 failed") || !strings.Contains(calls, "reads included") {
		t.Errorf("the health's last hour shows %q; want the read and the refused write: 2 calls, 1 failed", calls)
	}
	if credits := text("#health-credits"); !regexp.MustCompile(`^\d+ used of \d+ today \(edition ENTERPRISE, \d+ agents\)`).MatchString(credits) ||
		!strings.Contains(credits, "shared by every app") {
		t.Errorf("the health's credits show %q", credits)
	}
	steps("watch the activity",
		chromedp.Navigate(d.URL+"/activity"),
		chromedp.WaitVisible(chromedp.ID("activity")),
		chromedp.SetValue(chromedp.ID("f-connection"), "support"),
		chromedp.Click(chromedp.ID("filter")),
		// The filtered page, not the one the click leaves (a screenshot
		// taken while it navigates fails): its form says the filter.
		chromedp.WaitReady(chromedp.CSS(`#f-connection option[value="support"][selected]`)),
		chromedp.WaitVisible(chromedp.ID("activity")),
		shot("4-activity"))
	if row := text("#activity tbody tr:first-child"); !strings.Contains(row, "triage-bot") || !strings.Contains(row, "add_ticket_comment") || !strings.Contains(row, "forbidden") {
		t.Fatalf("the newest activity row is %q", row)
	}
	steps("revoke the key",
		chromedp.Navigate(d.URL+"/keys"),
		chromedp.WaitVisible(chromedp.ID("keys")),
		chromedp.Click(chromedp.ID("revoke-"+keyID)),
		chromedp.WaitVisible(chromedp.ID("notice")),
		shot("5-revoked"))
	if resp, _ := demotest.Do(t, "POST", d.URL+"/v1/connections/support/actions/list_tickets", key, `{"params":{"limit":1}}`); resp.StatusCode != 401 {
		t.Fatalf("revoked key: %d, want 401", resp.StatusCode)
	}

	// Invite another admin: the link signs in a second browser (plain
	// HTTP here), whose session this page lists and ends.
	steps("invite another admin",
		chromedp.Navigate(d.URL+"/admins"),
		chromedp.WaitVisible(chromedp.ID("invite")),
		chromedp.Click(chromedp.ID("invite")),
		chromedp.WaitVisible(chromedp.ID("invite-link")),
		shot("5b-invite"))
	other := signIn(t, d, text("#invite-link"))
	steps("end the invited admin's session",
		chromedp.Navigate(d.URL+"/admins"),
		chromedp.WaitVisible(chromedp.ID("sessions")))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions tbody tr").length`)); err != nil || n != 2 {
		t.Fatalf("sessions listed: %d (%v), want this browser's and the invited one", n, err)
	}
	steps("click End on the other session",
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#sessions tbody tr")].find(r => !r.textContent.includes("(this browser)")).querySelector("button").click()`),
		chromedp.WaitVisible(chromedp.ID("notice")),
		shot("5c-session-ended"))
	if code, _ := other.get("/"); code != 401 {
		t.Errorf("the ended session still signs in: %d", code)
	}

	// Reconnecting as a user of another organisation is refused: bind
	// "support" to the second org, which the consenting user cannot reach.
	c, err := d.Manager.Get(t.Context(), d.TenantID, "support")
	if err != nil {
		t.Fatal(err)
	}
	c.OrgID, c.OrgName = emulator.SecondOrgID, "Other Org"
	if err := d.Store.UpdateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	steps("reconnect to another organisation is refused",
		chromedp.Navigate(d.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("connect-support")),
		chromedp.Click(chromedp.ID("connect-support")),
		chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("error-title")),
		shot("6-other-org-refused"))
	if title, what := text("#error-title"), text("#error-what"); title != "Consent was for another organisation" || !strings.Contains(what, "Other Org") {
		t.Fatalf("refusal page: %q / %q", title, what)
	}
	if c, _ := d.Manager.Get(t.Context(), d.TenantID, "support"); c.OrgID != emulator.SecondOrgID {
		t.Fatalf("the refused reconnect rebound the connection to %s", c.OrgID)
	}
	steps("delete asks for the name",
		chromedp.Navigate(d.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("delete-open-support")),
		chromedp.Click(chromedp.ID("delete-open-support")),
		chromedp.WaitVisible(chromedp.ID("delete-name-support")),
		chromedp.SendKeys(chromedp.ID("delete-name-support"), "support"),
		shot("7-delete-confirm"),
		chromedp.Click(chromedp.ID("delete-support")),
		chromedp.WaitVisible(".notice"))
	if _, err := d.Manager.Get(t.Context(), d.TenantID, "support"); err == nil {
		t.Fatal("the connection survived a confirmed delete")
	}

	// At 390 px no page is wider than the screen.
	steps("narrow window", chromedp.EmulateViewport(390, 844))
	for _, p := range []string{"/", "/connections/demo", "/keys", "/activity", "/admins"} {
		steps("open "+p, chromedp.Navigate(d.URL+p), chromedp.WaitVisible("main"), shot("390"+strings.ReplaceAll(p, "/", "-")))
		width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if width > 390 {
			t.Errorf("%s is %d px wide at 390 px", p, width)
		}
	}
}

var healthCalls = regexp.MustCompile(`id="health-calls">(\d+) calls, (\d+) failed`)

// lastHourCalls reads the calls and errors of the last hour from a
// connection's page.
func lastHourCalls(t *testing.T, b *browser, conn string) (calls, errs int) {
	t.Helper()
	_, body := b.get("/connections/" + conn)
	m := healthCalls.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the page of %s shows no call counts:\n%s", conn, body)
	}
	calls, _ = strconv.Atoi(m[1])
	errs, _ = strconv.Atoi(m[2])
	return calls, errs
}
