package cli

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/demo/demotest"
	"github.com/deskconn/deskconn/internal/store"
)

var (
	serveURLRE   = regexp.MustCompile(`deskconn is serving on (http://\S+)`)
	loginLinkRE  = regexp.MustCompile(`one-time login link, tenant "([^"]+)"\):\n\s+(http://\S+)`)
	demoURLRE    = regexp.MustCompile(`deskconn demo is running on (http://\S+) \(Zoho Desk emulator at (http://\S+)\)`)
	demoLoginRE  = regexp.MustCompile(`Connect page \(one-time login link\):\n\s+(http://\S+)`)
	demoKeyRE    = regexp.MustCompile(`API key for tenant "demo" \(shown once\):\n\s+(\S+)`)
	demoCurlRE   = regexp.MustCompile(`curl -s -H "Authorization: Bearer (\S+)" (http://\S+)\n`)
	demoRunRE    = regexp.MustCompile(`deskconn run list_tickets (--data-dir \S+ --db \S+ --tenant \S+) --input - <<< '(.+)'\n`)
	pressCtrlCRE = regexp.MustCompile(`Press Ctrl-C to stop\.`)
)

func TestServe(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.setenv("DESKCONN_BASE_URL", "") // the base URL follows the listener
	acmeKey, acmeID := h.createKey("robot", "--tenant", "acme")
	defKey, _ := h.createKey("other")
	if res := h.run("connections", "add", "support", "--client-id", hClientID, "--tenant", "acme"); res.code != 0 {
		t.Fatalf("add: %s", res.stderr)
	}

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	srv := h.start(ctx, "", "serve", "--addr", "127.0.0.1:0", "--tenant", "acme")
	base := srv.waitFor(t, serveURLRE)[1]
	login := srv.waitFor(t, loginLinkRE)
	if login[1] != "acme" || !strings.HasPrefix(login[2], base+"/") {
		t.Fatalf("login link %q for tenant %q, want one on %s for acme", login[2], login[1], base)
	}
	if !strings.Contains(srv.stdout.String(), "Register this redirect URL in the Zoho API console: "+base+"/oauth/callback") {
		t.Errorf("stdout %q lacks the redirect URL on %s", srv.stdout.String(), base)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		if status, body := demotest.Raw(t, "GET", base+path, "", ""); status != http.StatusOK || !strings.Contains(body, `"ok"`) {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}

	// The login link signs a person in once, with an HttpOnly cookie.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(login[2])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite == http.SameSiteNoneMode {
		t.Fatalf("login link: %d, cookies %v", resp.StatusCode, cookies)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/", nil)
	req.AddCookie(cookies[0])
	page, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(body), "support") {
		t.Errorf("connect page with the session: %d, lists support: %t", page.StatusCode, strings.Contains(string(body), "support"))
	}
	if resp, err := noRedirect.Get(login[2]); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("login link used twice: %v %v", resp.StatusCode, err)
	}

	// The connection endpoints, API-key authenticated and tenant-bound.
	if status, _ := demotest.Raw(t, "GET", base+"/v1/connections", "", ""); status != http.StatusUnauthorized {
		t.Errorf("no key: %d, want 401", status)
	}
	status, list := demotest.Raw(t, "GET", base+"/v1/connections", acmeKey, "")
	if status != http.StatusOK || !strings.Contains(list, `"support"`) {
		t.Errorf("acme key: %d %s", status, list)
	}
	if status, list := demotest.Raw(t, "GET", base+"/v1/connections", defKey, ""); status != http.StatusOK || strings.Contains(list, "support") {
		t.Errorf("default tenant's key lists: %d %s", status, list)
	}
	if status, _ := demotest.Raw(t, "GET", base+"/v1/connections/support", defKey, ""); status != http.StatusNotFound {
		t.Errorf("default tenant's key gets acme's connection: %d, want 404", status)
	}
	// Revoked from the CLI while the server runs: refused at once.
	if res := h.run("apikeys", "revoke", acmeID, "--tenant", "acme"); res.code != 0 {
		t.Fatalf("revoke: %s", res.stderr)
	}
	if status, _ := demotest.Raw(t, "GET", base+"/v1/connections", acmeKey, ""); status != http.StatusUnauthorized {
		t.Errorf("revoked key: %d, want 401", status)
	}

	// Graceful shutdown on cancel.
	stop()
	res := srv.wait(t, 15*time.Second)
	if res.code != 0 {
		t.Fatalf("serve exited %d after cancel: %s", res.code, res.stderr)
	}
	u, _ := url.Parse(base)
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after shutdown", u.Host)
	}
}

func TestServeBusyAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	res := h.run("serve", "--addr", ln.Addr().String())
	if res.code == 0 || !strings.Contains(res.stderr, "listen") {
		t.Fatalf("serve on a busy address: exit %d: %s", res.code, res.stderr)
	}
}

func TestServeDemo(t *testing.T) {
	t.Parallel()
	envKey, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		envKey      string
		autoConsent bool
	}{
		{"DESKCONN_API_KEY honoured", envKey.Reveal(), false},
		{"generated key and auto consent", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			h.setenv("DESKCONN_API_KEY", tc.envKey)
			ctx, stop := context.WithCancel(t.Context())
			defer stop()
			args := []string{"serve", "--demo", "--addr", "127.0.0.1:0"}
			if tc.autoConsent {
				args = append(args, "--auto-consent")
			}
			srv := h.start(ctx, "", args...)
			srv.waitFor(t, pressCtrlCRE)
			out := srv.stdout.String()
			base := demoURLRE.FindStringSubmatch(out)
			login := demoLoginRE.FindStringSubmatch(out)
			key := demoKeyRE.FindStringSubmatch(out)
			curl := demoCurlRE.FindStringSubmatch(out)
			if base == nil || login == nil || key == nil || curl == nil {
				t.Fatalf("demo output lacks the URL, login link, key or curl example:\n%s", out)
			}
			if err := apikey.Check(key[1]); err != nil || curl[1] != key[1] {
				t.Fatalf("demo key %q, curl key %q", key[1], curl[1])
			}
			if tc.envKey != "" && key[1] != tc.envKey {
				t.Errorf("demo printed another key than DESKCONN_API_KEY")
			}
			if !strings.HasPrefix(login[1], base[1]+"/") || curl[2] != base[1]+"/v1/connections/demo" {
				t.Errorf("login link %q and curl URL %q not on %s", login[1], curl[2], base[1])
			}

			// The emulator's client, to add a second connection.
			if !strings.Contains(out, "Client id:     "+emulator.DemoClientID) || !strings.Contains(out, "Client secret: "+emulator.DemoClientSecret) {
				t.Errorf("demo output lacks the emulator's client id and secret:\n%s", out)
			}
			// Connect on the page: the emulator's consent page, unless
			// --auto-consent.
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar}
			page := getBody(t, browser, login[1])
			csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
			if csrf == nil {
				t.Fatalf("connect page has no CSRF token")
			}
			resp, err := browser.PostForm(base[1]+"/connections/demo/connect", url.Values{"csrf": {csrf[1]}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if consent := strings.Contains(string(b), `id="approve"`); consent == tc.autoConsent {
				t.Errorf("--auto-consent %v: consent page shown = %v", tc.autoConsent, consent)
			}

			// The curl example, as printed.
			status, body := demotest.Raw(t, "GET", curl[2], curl[1], "")
			var conn struct{ Name, Status string }
			if status != http.StatusOK || json.Unmarshal([]byte(body), &conn) != nil || conn.Name != "demo" || conn.Status != "active" {
				t.Fatalf("curl example: %d %s", status, body)
			}
			if status, _ := demotest.Raw(t, "GET", curl[2], "", ""); status != http.StatusUnauthorized {
				t.Errorf("without the key: %d, want 401", status)
			}
			// An action through the demo connection, when actions are mounted.
			status, body = demotest.Raw(t, "POST", base[1]+"/v1/connections/demo/actions/get_ticket", key[1], `{"orgId":"2389290","ticketId":"1892000000042032"}`)
			if status != http.StatusOK || !strings.Contains(body, "1892000000042032") {
				t.Errorf("get_ticket through the demo: %d %s", status, body)
			}
			// The CLI example, as printed, points at the demo's data: its
			// flags find the demo connection. (Running the action itself
			// needs the demo's own emulator, which this harness's Zoho
			// client does not reach; the flags are what the example adds.)
			run := demoRunRE.FindStringSubmatch(out)
			if run == nil {
				t.Fatalf("demo output lacks the deskconn run example:\n%s", out)
			}
			if want := "--data-dir " + h.dir + " --db " + filepath.Join(h.dir, "demo.db") + " --tenant demo"; run[1] != want {
				t.Errorf("deskconn run example flags %q, want %q", run[1], want)
			}
			if res := h.run(append([]string{"connections", "list"}, strings.Fields(run[1])...)...); res.code != 0 || !strings.Contains(res.stdout, "demo") {
				t.Errorf("connections list with the example's flags: exit %d: %s %s", res.code, res.stdout, res.stderr)
			}
			if !json.Valid([]byte(run[2])) {
				t.Errorf("the example's input %q is not JSON", run[2])
			}

			stop()
			res := srv.wait(t, 15*time.Second)
			if res.code != 0 || !strings.Contains(res.stdout, "shutting down") {
				t.Fatalf("demo after cancel: exit %d: %q %s", res.code, res.stdout, res.stderr)
			}
		})
	}
}

func getBody(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestListenBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ addr, bound, want string }{
		{"127.0.0.1:0", "127.0.0.1:41234", "http://127.0.0.1:41234"},
		{"localhost:8080", "127.0.0.1:8080", "http://localhost:8080"},
		{":8080", "[::]:8080", "http://localhost:8080"},
		{"[::1]:0", "[::1]:5555", "http://[::1]:5555"},
	} {
		bound, err := net.ResolveTCPAddr("tcp", tc.bound)
		if err != nil {
			t.Fatal(err)
		}
		if got := listenBaseURL(tc.addr, bound); got != tc.want {
			t.Errorf("listenBaseURL(%q, %s) = %q, want %q", tc.addr, tc.bound, got, tc.want)
		}
	}
}

// TestServePurges checks that serve purges at start: an expired login link
// and audit records past --audit-retention are gone once it serves, newer
// ones are kept.
func TestServePurges(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	st := h.openStore()
	ctx := t.Context()
	tn, err := connection.EnsureTenant(ctx, st, "default")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	expired := sha256.Sum256([]byte("expired login link"))
	if err := st.CreateLoginLink(ctx, &store.LoginLink{Hash: expired[:], TenantID: tn.ID, ExpiresAt: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for _, age := range []time.Duration{31 * 24 * time.Hour, time.Hour} {
		if err := st.AppendAudit(ctx, &store.AuditRecord{Time: now.Add(-age), TenantID: tn.ID, ConnectionID: "c",
			Action: "create_ticket", Outcome: "ok", Detail: age.String()}); err != nil {
			t.Fatal(err)
		}
	}

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	srv := h.start(sctx, "", "serve", "--addr", "127.0.0.1:0", "--audit-retention", "30d", "--purge-interval", "1h")
	srv.waitFor(t, serveURLRE)
	stop()
	if res := srv.wait(t, 15*time.Second); res.code != 0 {
		t.Fatalf("serve exited %d: %s", res.code, res.stderr)
	}

	if _, err := st.ConsumeLoginLink(ctx, expired[:], now.Add(-time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired login link after serve started: %v, want it purged", err)
	}
	recs, err := st.ListAudit(ctx, store.AuditFilter{TenantID: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Detail != time.Hour.String() {
		t.Errorf("audit after serve started: %+v, want only the 1h-old record", recs)
	}
}

func TestServeJanitorFlags(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	for _, tc := range []struct{ args, want []string }{
		{[]string{"--audit-retention", "ninety days"}, []string{"--audit-retention", "DESKCONN_AUDIT_RETENTION", "90d"}},
		{[]string{"--audit-retention", "-5d"}, []string{"--audit-retention"}},
		{[]string{"--purge-interval", "0"}, []string{"--purge-interval", "DESKCONN_PURGE_INTERVAL", "10m"}},
		{[]string{"--purge-interval", "soon"}, []string{"--purge-interval"}},
	} {
		res := h.run(append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...)...)
		if res.code == 0 {
			t.Errorf("serve %v: exit 0, want an error", tc.args)
		}
		for _, w := range tc.want {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("serve %v: stderr %q lacks %q", tc.args, res.stderr, w)
			}
		}
	}
}

func TestParseDays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"0", 0, true},
		{"0d", 0, true},
		{"36h", 36 * time.Hour, true},
		{"10m", 10 * time.Minute, true},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"99999999d", 0, false},
		{"", 0, false},
	} {
		got, err := parseDays(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseDays(%q) = %v, %v; want %v (ok %t)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestConnectionsShowServerRedirectURL checks that `connections show`
// without --base-url or DESKCONN_BASE_URL prints the redirect URL of the
// server that runs on the database (the one its connect page shows), not
// the built-in default; --base-url still wins.
func TestConnectionsShowServerRedirectURL(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.setenv("DESKCONN_BASE_URL", "")
	if res := h.run("connections", "add", "support", "--client-id", hClientID); res.code != 0 {
		t.Fatalf("add: %s", res.stderr)
	}
	if res := h.run("connections", "show", "support"); !strings.Contains(res.stdout, "http://127.0.0.1:8080/oauth/callback") {
		t.Errorf("show before any serve: %q, want the default redirect URL", res.stdout)
	}

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	srv := h.start(ctx, "", "serve", "--addr", "127.0.0.1:0", "--base-url", "https://desk.example.com")
	srv.waitFor(t, serveURLRE)
	page := "https://desk.example.com/oauth/callback"
	if !strings.Contains(srv.stdout.String(), "Register this redirect URL in the Zoho API console: "+page) {
		t.Fatalf("serve printed %q", srv.stdout.String())
	}
	stop()
	if res := srv.wait(t, 15*time.Second); res.code != 0 {
		t.Fatalf("serve exited %d: %s", res.code, res.stderr)
	}

	res := h.run("connections", "show", "support")
	if res.code != 0 || !regexp.MustCompile(`Redirect URL:\s+`+regexp.QuoteMeta(page)+`\n`).MatchString(res.stdout) {
		t.Errorf("show after serve: %d %q, want redirect URL %s", res.code, res.stdout, page)
	}
	res = h.run("connections", "show", "support", "--json")
	var v map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &v); err != nil || v["redirectUrl"] != page {
		t.Errorf("show --json after serve: %v %v", v["redirectUrl"], err)
	}
	if res := h.run("connections", "show", "support", "--base-url", "https://other.example"); !strings.Contains(res.stdout, "https://other.example/oauth/callback") {
		t.Errorf("show --base-url: %q", res.stdout)
	}
}

// TestServeLimits: serve's per-key limits come from flags and the
// environment; a bad value names its variable.
func TestServeLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.setenv("DESKCONN_BASE_URL", "")
	h.setenv("DESKCONN_KEY_RATE", "fast")
	if res := h.run("serve", "--addr", "127.0.0.1:0"); res.code == 0 || !strings.Contains(res.stderr, "DESKCONN_KEY_RATE") {
		t.Fatalf("serve with DESKCONN_KEY_RATE=fast: exit %d: %s", res.code, res.stderr)
	}
	h.setenv("DESKCONN_KEY_RATE", "")
	h.setenv("DESKCONN_KEY_BURST", "1")
	key, _ := h.createKey("robot")
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	// One request per 1000 s after a burst of 1: the second is refused
	// however slow the machine.
	srv := h.start(ctx, "", "serve", "--addr", "127.0.0.1:0", "--key-rate", "0.001")
	base := srv.waitFor(t, serveURLRE)[1]
	if status, body := demotest.Raw(t, "GET", base+"/v1/actions", key, ""); status != http.StatusOK {
		t.Fatalf("first request: %d %s", status, body)
	}
	status, body := demotest.Raw(t, "GET", base+"/v1/actions", key, "")
	if status != http.StatusTooManyRequests || !strings.Contains(body, `"rate_limited"`) {
		t.Errorf("second request: %d %s, want 429 rate_limited", status, body)
	}
	stop()
	srv.wait(t, time.Minute)
}
