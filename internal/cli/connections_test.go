package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/store"
)

// connectOK runs `connections connect NAME` through the emulator's consent
// and returns the command's result and the page the callback showed.
func (h *harness) connectOK(name string) (result, string) {
	h.t.Helper()
	r, authURL := h.startConnect(h.t.Context(), name)
	status, page := get(h.t, h.authorize(authURL, true).String())
	if status != http.StatusOK {
		h.t.Fatalf("callback page: %d %q", status, page)
	}
	res := r.wait(h.t, 30*time.Second)
	if res.code != 0 {
		h.t.Fatalf("connect exited %d: %s", res.code, res.stderr)
	}
	return res, page
}

// addConnected adds the connection name and connects it.
func (h *harness) addConnected(name string) {
	h.t.Helper()
	if res := h.run("connections", "add", name, "--client-id", hClientID); res.code != 0 {
		h.t.Fatalf("add: %s", res.stderr)
	}
	h.connectOK(name)
}

func TestConnectionsAddListShowDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})

	res := h.run("connections", "add", "support", "--client-id", hClientID)
	if res.code != 0 {
		t.Fatalf("add: exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"connection support added", "Register this redirect URL in the Zoho API console: " + h.base + "/oauth/callback", "deskconn connections connect support"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("add stdout %q lacks %q", res.stdout, want)
		}
	}

	// The secret from standard input (first line) wins over the environment.
	h.setenv("DESKCONN_CLIENT_SECRET", "")
	if res := h.runStdin(hSecret+"\nnext line\n", "connections", "add", "billing", "--client-id", hClientID, "--client-secret-stdin"); res.code != 0 {
		t.Fatalf("add --client-secret-stdin: exit %d: %s", res.code, res.stderr)
	}
	st := h.openStore()
	kr := h.keyring()
	c := h.conn(st, "default", "billing")
	if p, err := kr.Open(c.SealedClientSecret, sealAAD(c.ID, "client_secret")); err != nil || string(p) != hSecret {
		t.Fatalf("stdin secret stored as %q (%v)", p, err)
	}

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  []string
	}{
		{"duplicate name", hSecret + "\n", []string{"connections", "add", "support", "--client-id", hClientID, "--client-secret-stdin"},
			[]string{`conflict: a connection named "support" already exists`}},
		{"no secret", "", []string{"connections", "add", "other", "--client-id", hClientID},
			[]string{"/clientSecret", "client secret"}},
		{"no client id", hSecret + "\n", []string{"connections", "add", "other", "--client-secret-stdin"},
			[]string{"/clientId", "client id"}},
		{"bad name and scope", hSecret + "\n", []string{"connections", "add", "bad name!", "--client-id", hClientID, "--scopes", "Desk.tickets.ALL,Desk.basic.READ,bad*scope", "--client-secret-stdin"},
			[]string{"/name", "/scopes/2"}},
		{"empty stdin", "", []string{"connections", "add", "other", "--client-id", hClientID, "--client-secret-stdin"},
			[]string{"read the client secret from standard input"}},
		{"show unknown", "", []string{"connections", "show", "nope"}, []string{`not_found: no connection "nope"`}},
		{"delete unknown", "", []string{"connections", "delete", "nope"}, []string{`not_found: no connection "nope"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.runStdin(tc.stdin, tc.args...)
			if res.code == 0 {
				t.Fatalf("exit 0, want a failure; stdout %q", res.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr %q lacks %q", res.stderr, w)
				}
			}
		})
	}
	if n := len(listNames(t, h.run("connections", "list"))); n != 2 {
		t.Fatalf("after the failed adds: %d connections, want 2", n)
	}

	connected, page := h.connectOK("support")
	if !strings.Contains(page, "connection support is active") {
		t.Errorf("callback page %q", page)
	}
	for _, want := range []string{"Status:        active", "Region:        us (https://accounts.zoho.com)", "Organisation:  Zylker (" + emulator.DemoOrgID + ")", "<" + emulator.SingleOrgUser + ">"} {
		if !strings.Contains(connected.stdout, want) {
			t.Errorf("connect stdout %q lacks %q", connected.stdout, want)
		}
	}
	refresh, _ := h.tokens(kr, "support")

	rows := listNames(t, h.run("connections", "list"))
	if got := rows["support"]; got != "active us Zylker ("+emulator.DemoOrgID+") "+emulator.SingleOrgUser {
		t.Errorf("list row support = %q", got)
	}
	if got := rows["billing"]; got != "pending - - -" {
		t.Errorf("list row billing = %q", got)
	}

	show := h.run("connections", "show", "support")
	if show.code != 0 {
		t.Fatalf("show: exit %d: %s", show.code, show.stderr)
	}
	for _, want := range []string{"Name:          support", "Status:        active", "Client id:     " + hClientID, "Scopes:        Desk.", "Redirect URL:  " + h.base + "/oauth/callback",
		"Region:        us (https://accounts.zoho.com)", "Organisation:  Zylker (" + emulator.DemoOrgID + ")", "Zoho user:", emulator.SingleOrgUser} {
		if !strings.Contains(show.stdout, want) {
			t.Errorf("show stdout %q lacks %q", show.stdout, want)
		}
	}
	var js struct {
		Status, Location, OrgID, UserEmail, DeskBaseURL string
		Scopes                                          []string
	}
	if res := h.run("connections", "show", "support", "--json"); res.code != 0 || json.Unmarshal([]byte(res.stdout), &js) != nil {
		t.Fatalf("show --json: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}
	if js.Status != "active" || js.Location != "us" || js.OrgID != emulator.DemoOrgID || js.UserEmail != emulator.SingleOrgUser ||
		js.DeskBaseURL != "https://desk.zoho.com/api/v1" || len(js.Scopes) == 0 {
		t.Errorf("show --json = %+v", js)
	}

	// Delete revokes the refresh token at Zoho and removes the row.
	sealed := h.conn(st, "default", "support")
	if !dbFilesContain(t, h, sealed.SealedRefreshToken) {
		t.Fatal("the sealed refresh token is not in the database files: the erase check below would prove nothing")
	}
	if n := h.emu.RefreshTokenCount(hClientID, emulator.SingleOrgUser); n != 1 {
		t.Fatalf("emulator holds %d refresh tokens before delete, want 1", n)
	}
	if res := h.run("connections", "delete", "support"); res.code != 0 || !strings.Contains(res.stdout, "connection support deleted") {
		t.Fatalf("delete: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}
	if n := h.emu.RefreshTokenCount(hClientID, emulator.SingleOrgUser); n != 0 {
		t.Errorf("emulator holds %d refresh tokens after delete, want 0", n)
	}
	if e := refreshAtEmulator(t, h, refresh); e != "invalid_code" {
		t.Errorf("refresh with the deleted connection's token: error %q, want invalid_code", e)
	}
	tn, err := st.GetTenantByName(t.Context(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetConnectionByName(t.Context(), tn.ID, "support"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted connection still stored: %v", err)
	}
	if rows := listNames(t, h.run("connections", "list")); len(rows) != 1 || rows["billing"] == "" {
		t.Errorf("list after delete = %v", rows)
	}
	// The erased secrets are gone from the database files too, not only
	// from the rows a query sees.
	for col, v := range map[string][]byte{"client secret": sealed.SealedClientSecret, "refresh token": sealed.SealedRefreshToken, "access token": sealed.SealedAccessToken} {
		if dbFilesContain(t, h, v) {
			t.Errorf("the deleted connection's sealed %s is still in the database files", col)
		}
	}
}

// dbFilesContain reports whether the harness database or its WAL holds v.
func dbFilesContain(t *testing.T, h *harness, v []byte) bool {
	t.Helper()
	for _, f := range []string{"deskconn.db", "deskconn.db-wal"} {
		b, err := os.ReadFile(filepath.Join(h.dir, f))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if bytes.Contains(b, v) {
			return true
		}
	}
	return false
}

// refreshAtEmulator asks the emulator for an access token with refresh and
// returns the OAuth error ("" on success).
func refreshAtEmulator(t *testing.T, h *harness, refresh string) string {
	t.Helper()
	resp, err := h.emu.Client().PostForm("https://accounts.zoho.com/oauth/v2/token", url.Values{
		"grant_type": {"refresh_token"}, "client_id": {hClientID}, "client_secret": {hSecret}, "refresh_token": {refresh},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error       string `json:"error"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	h.addCanary(body.AccessToken)
	return body.Error
}

// listNames parses `connections list` output into name -> the other columns
// joined by single spaces.
func listNames(t *testing.T, res result) map[string]string {
	t.Helper()
	if res.code != 0 {
		t.Fatalf("list: exit %d: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("list has no header: %q", res.stdout)
	}
	rows := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		rows[f[0]] = strings.Join(f[1:], " ")
	}
	return rows
}

func TestConnectionsConnectRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		callback func(h *harness, authURL string) string // the URL the browser lands on
		want     string
	}{
		{"consent denied on the emulator page", func(h *harness, authURL string) string {
			loc := h.authorize(authURL, false)
			if loc.Query().Get("error") != "access_denied" {
				h.t.Fatalf("deny redirected to %s", loc.Redacted())
			}
			return loc.String()
		}, "access was denied on Zoho's consent page"},
		{"error=access_denied callback", func(h *harness, authURL string) string {
			u, _ := url.Parse(authURL)
			return h.base + "/oauth/callback?" + url.Values{"error": {"access_denied"}, "state": {u.Query().Get("state")}}.Encode()
		}, "access was denied on Zoho's consent page"},
		{"unknown state", func(h *harness, authURL string) string {
			return h.base + "/oauth/callback?state=forged&code=x&location=us&accounts-server=https%3A%2F%2Faccounts.zoho.com"
		}, "start again with Connect"},
		{"foreign accounts server", func(h *harness, authURL string) string {
			u, _ := url.Parse(authURL)
			return h.base + "/oauth/callback?" + url.Values{"state": {u.Query().Get("state")}, "code": {"x"}, "location": {"us"}, "accounts-server": {"https://accounts.evil.example"}}.Encode()
		}, "not a known Zoho data centre"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{consentPage: true})
			if res := h.run("connections", "add", "support", "--client-id", hClientID); res.code != 0 {
				t.Fatalf("add: %s", res.stderr)
			}
			r, authURL := h.startConnect(t.Context(), "support")
			status, page := get(t, tc.callback(h, authURL))
			if status != http.StatusBadRequest || !strings.Contains(page, tc.want) {
				t.Errorf("callback page: %d %q, want 400 with %q", status, page, tc.want)
			}
			res := r.wait(t, 30*time.Second)
			if res.code == 0 {
				t.Fatalf("connect exited 0 after a refused callback: %q", res.stdout)
			}
			for _, want := range []string{tc.want, "To try again, run: deskconn connections connect support"} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr %q lacks %q", res.stderr, want)
				}
			}
			if n := h.emu.Counters().CodeExchanges; n != 0 {
				t.Errorf("%d code exchanges, want 0", n)
			}
			if rows := listNames(t, h.run("connections", "list")); rows["support"] != "pending - - -" {
				t.Errorf("after a refused connect: %q, want pending and nothing else", rows["support"])
			}
		})
	}
}

func TestConnectionsConnectNoCallback(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	if res := h.run("connections", "add", "support", "--client-id", hClientID); res.code != 0 {
		t.Fatalf("add: %s", res.stderr)
	}
	res := h.run("connections", "connect", "support", "--wait", "300ms")
	if res.code == 0 || !strings.Contains(res.stderr, "no callback arrived") {
		t.Fatalf("exit %d, stderr %q: want a failure saying no callback arrived", res.code, res.stderr)
	}
	if !authURLRE.MatchString(res.stdout) {
		t.Errorf("no authorize URL printed: %q", res.stdout)
	}
	if res := h.run("connections", "connect", "nope"); res.code == 0 || !strings.Contains(res.stderr, `no connection "nope"`) {
		t.Errorf("connect unknown: exit %d, stderr %q", res.code, res.stderr)
	}
}

// TestConnectionsChooseOrg: Zoho binds a token to the org chosen on the
// consent page; when accessibleOrganizations fails, deskconn falls back to
// every organisation of the user and the person picks one with
// `connections org` (never the first by default).
func TestConnectionsChooseOrg(t *testing.T) {
	t.Parallel()
	// A member of two orgs, who chose the second one at consent.
	h := newHarness(t, harnessOptions{user: emulator.DemoUser, consentOrg: emulator.SecondOrgID})
	if res := h.run("connections", "add", "support", "--client-id", hClientID); res.code != 0 {
		t.Fatalf("add: %s", res.stderr)
	}
	// A 403 (not retried) on accessibleOrganizations until the connect ends.
	h.emu.SetFaults(emulator.Fault{Kind: emulator.FaultStatus, PathPrefix: "/api/v1/accessibleOrganizations", Status: http.StatusForbidden, ErrorCode: "FORBIDDEN"})
	res, _ := h.connectOK("support")
	h.emu.SetFaults()
	for _, want := range []string{"Status:        choose_org", "deskconn connections org support " + emulator.DemoOrgID, "deskconn connections org support " + emulator.SecondOrgID} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("connect stdout %q lacks %q", res.stdout, want)
		}
	}
	if strings.Contains(res.stdout, "Organisation:") {
		t.Errorf("an organisation was chosen without the person: %q", res.stdout)
	}
	if got := listNames(t, h.run("connections", "list"))["support"]; got != "choose_org us - -" {
		t.Errorf("list row before the choice = %q", got)
	}
	h.tokens(h.keyring(), "support")

	for _, bad := range []string{"999", emulator.DemoOrgID} { // not offered; offered but not the token's org
		if res := h.run("connections", "org", "support", bad); res.code == 0 {
			t.Errorf("org %s: exit 0: %q", bad, res.stdout)
		}
	}
	org := h.run("connections", "org", "support", emulator.SecondOrgID)
	if org.code != 0 {
		t.Fatalf("org: exit %d: %s", org.code, org.stderr)
	}
	if !strings.Contains(org.stdout, "Status:        active") || !strings.Contains(org.stdout, "("+emulator.SecondOrgID+")") || strings.Contains(org.stdout, "Choice:") {
		t.Errorf("org stdout %q", org.stdout)
	}
	if got := listNames(t, h.run("connections", "list"))["support"]; !strings.HasPrefix(got, "active us") || !strings.Contains(got, emulator.SecondOrgID) {
		t.Errorf("list row = %q", got)
	}
}

// TestConnectionsConnectThroughServer: when `deskconn serve` holds the base
// URL's address, connect leaves the callback to it and waits for the store.
func TestConnectionsConnectThroughServer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	if res := h.run("connections", "add", "support", "--client-id", hClientID); res.code != 0 {
		t.Fatalf("add: %s", res.stderr)
	}
	u, _ := url.Parse(h.base)
	ctx, stop := context.WithCancel(t.Context())
	srv := h.start(ctx, "", "serve", "--addr", u.Host)
	srv.waitFor(t, serveURLRE)
	defer func() {
		stop()
		srv.wait(t, 15*time.Second)
	}()

	r, authURL := h.startConnect(t.Context(), "support")
	status, page := get(t, h.authorize(authURL, true).String())
	if status != http.StatusOK {
		t.Fatalf("server's callback page: %d %q", status, page)
	}
	res := r.wait(t, 30*time.Second)
	if res.code != 0 || !strings.Contains(res.stdout, "Status:        active") {
		t.Fatalf("connect: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}
}

// TestConnectionsAddScopeTypo: the CLI refuses a scope that is not a Zoho
// Desk scope name, naming the closest valid one.
func TestConnectionsAddScopeTypo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	res := h.runStdin(hSecret+"\n", "connections", "add", "typo", "--client-id", hClientID, "--client-secret-stdin", "--scopes", "Desk.tickets.ALL,Desk.tikets.READ")
	if res.code == 0 || !strings.Contains(res.stderr, "did you mean Desk.tickets.READ?") {
		t.Fatalf("add with a scope typo: exit %d: %s", res.code, res.stderr)
	}
}

// TestConnectionsShowHealth: show prints the health (token and next
// refresh, credits used of the edition's daily limit, the last hour's
// calls with reads), and --json has it under "health" as REST does.
func TestConnectionsShowHealth(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.addConnected("support")
	if res := h.run("run", "list_tickets", "--connection", "support"); res.code != 0 {
		t.Fatalf("run list_tickets: %d %s", res.code, res.stderr)
	}
	if res := h.runStdin(`{"ticketId":"1"}`, "run", "get_ticket", "--connection", "support", "--input", "-"); res.code == 0 {
		t.Fatalf("get_ticket of no such ticket succeeded: %s", res.stdout)
	}
	show := h.run("connections", "show", "support")
	if show.code != 0 {
		t.Fatalf("show: exit %d: %s", show.code, show.stderr)
	}
	for _, re := range []string{
		`Token: +valid; refreshed on the first call after it expires`,
		`Next refresh: +on the first call after 20\d\d-`,
		`Zoho credits: +\d+ used of \d+ today \(edition ENTERPRISE, \d+ agents\)\. Credits are the organisation's, shared by every app`,
		`Last hour: +2 calls, 1 failed \(every action call, reads included`,
	} {
		if !regexp.MustCompile(re).MatchString(show.stdout) {
			t.Errorf("show stdout lacks %s:\n%s", re, show.stdout)
		}
	}
	var js struct {
		Health struct {
			Token   string
			Credits struct {
				Edition                             string
				DailyLimit, Used, Remaining, Agents int
			}
			LastHour struct{ Calls, Errors int }
		}
	}
	if res := h.run("connections", "show", "support", "--json"); res.code != 0 || json.Unmarshal([]byte(res.stdout), &js) != nil {
		t.Fatalf("show --json: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}
	hl := js.Health
	if hl.Token != "valid" || hl.Credits.Edition != "ENTERPRISE" || hl.Credits.DailyLimit == 0 || hl.Credits.Used != hl.Credits.DailyLimit-hl.Credits.Remaining ||
		hl.Credits.Used < 1 || hl.LastHour.Calls != 2 || hl.LastHour.Errors != 1 {
		t.Errorf("show --json health = %+v", hl)
	}
}

// TestConnectionsConnectRebind: a reconnect whose consent is for another
// organisation than the bound one is refused and changes nothing;
// --rebind allows it, and the audit log records it.
func TestConnectionsConnectRebind(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.addConnected("support")
	st := h.openStore()
	c := h.conn(st, "default", "support")
	// Bound to the second organisation, which the consenting user (of the
	// demo organisation only) cannot reach.
	c.OrgID, c.OrgName = emulator.SecondOrgID, "Other Org"
	if err := st.UpdateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	r, authURL := h.startConnect(t.Context(), "support")
	if status, page := get(t, h.authorize(authURL, true).String()); status != http.StatusBadRequest || !strings.Contains(page, "Other Org") {
		t.Errorf("callback of a consent for another org: %d %q, want 400 naming the bound org", status, page)
	}
	if res := r.wait(t, 30*time.Second); res.code == 0 || !strings.Contains(res.stderr, "Other Org") || !strings.Contains(res.stderr, "deskconn connections connect support --rebind") {
		t.Fatalf("connect exited %d after a refused rebind: %q %q", res.code, res.stdout, res.stderr)
	}
	if c := h.conn(st, "default", "support"); c.OrgID != emulator.SecondOrgID {
		t.Fatalf("the refused reconnect rebound the connection to %s", c.OrgID)
	}
	r, authURL = h.startConnect(t.Context(), "support", "--rebind")
	if status, page := get(t, h.authorize(authURL, true).String()); status != http.StatusOK {
		t.Fatalf("callback of --rebind: %d %q", status, page)
	}
	if res := r.wait(t, 30*time.Second); res.code != 0 || !strings.Contains(res.stdout, "Zylker ("+emulator.DemoOrgID+")") {
		t.Fatalf("connect --rebind: exit %d: %q %q", res.code, res.stdout, res.stderr)
	}
	if c := h.conn(st, "default", "support"); c.OrgID != emulator.DemoOrgID {
		t.Fatalf("--rebind left the org %s", c.OrgID)
	}
	recs, err := st.ListAudit(t.Context(), store.AuditFilter{TenantID: c.TenantID, Action: "connection.rebind"})
	if err != nil || len(recs) != 1 || !strings.Contains(recs[0].Detail, "Other Org") {
		t.Fatalf("audit of the rebinding: %+v, %v", recs, err)
	}
}
