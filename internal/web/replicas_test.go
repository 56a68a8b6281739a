package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/demo/demotest"
	"github.com/deskconn/deskconn/internal/store/storetest"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestWebSessionsAcrossReplicas proves that login links and sessions live
// in the shared store: a link made by one replica works on another, and a
// session cookie set by one is accepted (page and CSRF-checked forms) by
// the other, until it is signed out or expires.
func TestWebSessionsAcrossReplicas(t *testing.T) {
	t.Parallel()
	d, _ := demotest.Start(t) // replica A
	var clock atomic.Pointer[time.Time]
	start := time.Now()
	clock.Store(&start)
	b, bURL := startReplica(t, d, &clock) // replica B

	// Both replicas listen on 127.0.0.1, so one cookie jar (cookies ignore
	// the port) plays one browser talking to either replica.
	newBrowser := func() (*http.Client, *cookiejar.Jar) {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, jar
	}
	send := func(c *http.Client, method, u string, form url.Values) (int, string) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == "POST" {
			resp, err = c.PostForm(u, form)
		} else {
			resp, err = c.Get(u)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	onReplica := func(link, base string) string {
		u, err := url.Parse(link)
		if err != nil || u.Path != "/login" {
			t.Fatalf("login link %q", link)
		}
		return base + "/login?" + u.RawQuery
	}
	sessionCookie := func(jar *cookiejar.Jar) string {
		u, _ := url.Parse(d.URL)
		for _, c := range jar.Cookies(u) {
			if c.Name == "deskconn_session" {
				return c.Value
			}
		}
		return ""
	}

	// A link printed by A signs in on B, once.
	linkA, err := d.Console.CreateLoginURL(t.Context(), d.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	browser1, jar1 := newBrowser()
	if code, body := send(browser1, "GET", onReplica(linkA, bURL), nil); code != http.StatusSeeOther {
		t.Fatalf("link of A opened on B: %d %s", code, body)
	}
	cookieB := sessionCookie(jar1)
	if cookieB == "" {
		t.Fatal("B set no session cookie")
	}
	other, _ := newBrowser()
	if code, _ := send(other, "GET", linkA, nil); code != http.StatusUnauthorized {
		t.Fatalf("link of A replayed on A after B consumed it: %d", code)
	}
	// ...and the session B made is good on A.
	if code, body := send(browser1, "GET", d.URL+"/", nil); code != 200 || !strings.Contains(body, "Zylker") {
		t.Fatalf("session of B on A's page: %d", code)
	}

	// A session cookie set by A is accepted by B: the page loads and a
	// CSRF-protected form succeeds.
	linkA2 := d.Console.LoginURL(d.TenantID)
	browser2, jar2 := newBrowser()
	if code, _ := send(browser2, "GET", linkA2, nil); code != http.StatusSeeOther {
		t.Fatalf("link of A on A: %d", code)
	}
	cookieA := sessionCookie(jar2)
	code, page := send(browser2, "GET", bURL+"/", nil)
	if code != 200 || !strings.Contains(page, "Zylker") {
		t.Fatalf("session of A on B's page: %d", code)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("B's page has no CSRF field")
	}
	form := url.Values{"csrf": {m[1]}, "name": {"replica-b"}, "client_id": {"1000.B"}, "client_secret": {"replica-secret-canary"}}
	if code, body := send(browser2, "POST", bURL+"/connections", form); code != http.StatusSeeOther {
		t.Fatalf("CSRF-checked form of A's session posted to B: %d %s", code, body)
	}
	if _, err := d.Manager.Get(t.Context(), d.TenantID, "replica-b"); err != nil {
		t.Fatalf("the form posted to B created no connection: %v", err)
	}
	form.Set("csrf", "not-"+m[1])
	if code, _ := send(browser2, "POST", bURL+"/connections", form); code != http.StatusForbidden {
		t.Fatalf("a wrong CSRF token on B: %d, want 403", code)
	}

	// Neither a login token nor a session id is stored in the clear.
	tokA := func(link string) string { u, _ := url.Parse(link); return u.Query().Get("token") }
	storetest.AssertNoPlaintext(t, demotest.Dump(t, d), tokA(linkA), tokA(linkA2), cookieA, cookieB)

	// Signing out on B ends A's session everywhere.
	if code, _ := send(browser2, "POST", bURL+"/logout", url.Values{"csrf": {m[1]}}); code != http.StatusSeeOther {
		t.Fatalf("sign out on B: %d", code)
	}
	replay, replayJar := newBrowser()
	u, _ := url.Parse(d.URL)
	replayJar.SetCookies(u, []*http.Cookie{{Name: "deskconn_session", Value: cookieA}})
	for _, base := range []string{d.URL, bURL} {
		if code, _ := send(replay, "GET", base+"/", nil); code != http.StatusUnauthorized {
			t.Errorf("signed-out session on %s: %d, want 401", base, code)
		}
	}

	// Sessions expire after SessionTTL (12 hours by default), on B's clock;
	// links after LoginTTL (24 hours).
	if code, _ := send(browser1, "GET", bURL+"/", nil); code != 200 {
		t.Fatalf("live session on B: %d", code)
	}
	linkB := b.LoginURL(d.TenantID)
	later := start.Add(12*time.Hour + time.Second)
	clock.Store(&later)
	if code, _ := send(browser1, "GET", bURL+"/", nil); code != http.StatusUnauthorized {
		t.Errorf("session on B past its lifetime: %d, want 401", code)
	}
	if code, _ := send(other, "GET", linkB, nil); code != http.StatusSeeOther {
		t.Errorf("a 12-hour-old login link: %d, want it to work", code)
	}
	linkB2 := b.LoginURL(d.TenantID)
	muchLater := later.Add(24*time.Hour + time.Second)
	clock.Store(&muchLater)
	if code, _ := send(other, "GET", linkB2, nil); code != http.StatusUnauthorized {
		t.Errorf("a login link past its lifetime: %d, want 401", code)
	}
}
