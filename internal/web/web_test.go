package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/demo/demotest"
)

func TestWebLoginCSRFAndCallbackErrors(t *testing.T) {
	t.Parallel()
	d, _ := demotest.Start(t)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(c *http.Client, u string) (int, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(browser, d.URL+"/"); code != 401 || !strings.Contains(body, "login link") {
		t.Fatalf("page without a session: %d", code)
	}
	login := d.LoginURL
	code, body := get(browser, login)
	if code != 200 || !strings.Contains(body, "Zylker") || !strings.Contains(body, d.URL+"/oauth/callback") {
		t.Fatalf("after login: %d %s", code, body)
	}
	u, _ := url.Parse(d.URL)
	var sess *http.Cookie
	for _, c := range jar.Cookies(u) {
		if c.Name == "deskconn_session" {
			sess = c
		}
	}
	if sess == nil {
		t.Fatal("no session cookie")
	}
	// The login link works once.
	jar2, _ := cookiejar.New(nil)
	if code, _ := get(&http.Client{Jar: jar2}, login); code != 401 {
		t.Fatalf("second use of the login link: %d", code)
	}
	// A form without the CSRF token is refused.
	resp, err := browser.PostForm(d.URL+"/connections", url.Values{"name": {"x"}, "client_id": {"a"}, "client_secret": {"b"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("form without csrf: %d", resp.StatusCode)
	}
	if cs, _ := d.Manager.List(t.Context(), d.TenantID); len(cs) != 1 {
		t.Fatal("a form without CSRF token created a connection")
	}
	// Callback errors end on a page that says what happened and what to do.
	for _, tc := range []struct {
		query, want string
		status      int
	}{
		{"state=unknown&code=x", "already used", 400},
		{"", "already used", 400},
	} {
		code, body := get(browser, d.URL+"/oauth/callback?"+tc.query)
		if code != tc.status || !strings.Contains(body, tc.want) || !strings.Contains(body, "What to do") {
			t.Errorf("callback %q: %d %s", tc.query, code, body)
		}
	}
	// Denied consent on a real state.
	authURL, err := d.Manager.AuthorizeURL(t.Context(), d.TenantID, "demo", "/")
	if err != nil {
		t.Fatal(err)
	}
	au, _ := url.Parse(authURL)
	code, body = get(browser, d.URL+"/oauth/callback?error=access_denied&state="+url.QueryEscape(au.Query().Get("state")))
	if code != 403 || !strings.Contains(body, "Access was denied") {
		t.Fatalf("denied: %d %s", code, body)
	}
	if c, _ := d.Manager.Get(t.Context(), d.TenantID, "demo"); c.Status != "active" {
		t.Fatalf("a denied reconnect changed the connection to %s", c.Status)
	}
}

// TestWebNoticesFromFixedSet checks that ?notice= only picks one of the
// page's own notices: text of the caller's choosing never reaches the
// signed-in page.
func TestWebNoticesFromFixedSet(t *testing.T) {
	t.Parallel()
	d, _ := demotest.Start(t)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(u string) string {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
		}
		return string(b)
	}
	get(d.LoginURL)
	for _, tc := range []struct{ notice, want, absent string }{
		{"added", "Connection added", ""},
		{"deleted", "refresh token revoked", ""},
		{"Your account is suspended: call +1 555 0100", "", "suspended"},
		{"Connection x added: register the redirect URL, then click Connect.", "", "Connection x added"},
		{"toString", "", `class="notice"`},
	} {
		body := get(d.URL + "/?notice=" + url.QueryEscape(tc.notice))
		if tc.want != "" && !strings.Contains(body, tc.want) {
			t.Errorf("notice %q: page lacks %q", tc.notice, tc.want)
		}
		if tc.want == "" && strings.Contains(body, `class="notice"`) {
			t.Errorf("notice %q: the page shows a notice", tc.notice)
		}
		if tc.absent != "" && strings.Contains(body, tc.absent) {
			t.Errorf("notice %q: the page shows %q", tc.notice, tc.absent)
		}
	}
}

// TestStatic checks that /static/ serves its files but never a directory
// listing.
func TestStatic(t *testing.T) {
	t.Parallel()
	d, _ := demotest.Start(t)
	base := d.URL
	for _, tc := range []struct {
		path   string
		status int
	}{{"/static/style.css", 200}, {"/static/", 404}, {"/static", 404}, {"/static/nope.css", 404}, {"/static//", 404}} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || strings.Contains(string(body), `<a href="style.css">`) {
			t.Errorf("GET %s: %d, want %d; body %.80q", tc.path, resp.StatusCode, tc.status, body)
		}
	}
}
