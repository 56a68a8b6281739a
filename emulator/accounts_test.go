package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
)

var tokenShape = regexp.MustCompile(`^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$`)

func (e *env) authURL(extra string) string {
	q := url.Values{"client_id": {emulator.DemoClientID}, "response_type": {"code"}, "redirect_uri": {emulator.DemoRedirectURI},
		"scope": {"Desk.tickets.ALL,Desk.basic.READ"}, "access_type": {"offline"}, "state": {"xyz"}}
	return e.srv.URL + "/oauth/v2/auth?" + q.Encode() + extra
}

func (e *env) get(u string) result {
	e.t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.send(req)
}

func (e *env) postForm(path string, form url.Values) result {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.send(req)
}

// consent approves the consent page for orgID and returns the callback query.
func (e *env) consent(orgID string, approve bool, extra string) url.Values {
	e.t.Helper()
	page := e.get(e.authURL(extra))
	if page.status != 200 || !strings.Contains(string(page.body), `name="approve"`) {
		e.t.Fatalf("consent page: %d %s", page.status, page.body)
	}
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(string(page.body), -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	form.Set("orgId", orgID)
	if approve {
		form.Set("approve", "1")
	} else {
		form.Set("deny", "1")
	}
	r := e.postForm("/oauth/v2/auth/consent", form)
	if r.status != http.StatusFound {
		e.t.Fatalf("consent POST: %d %s", r.status, r.body)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), emulator.DemoRedirectURI) {
		e.t.Fatalf("redirected to %s", loc)
	}
	return loc.Query()
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'").Replace(s)
}

func (e *env) exchange(code string) map[string]any {
	e.t.Helper()
	r := e.postForm("/oauth/v2/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {emulator.DemoClientID},
		"client_secret": {emulator.DemoClientSecret}, "code": {code}, "redirect_uri": {emulator.DemoRedirectURI}})
	if r.status != 200 {
		e.t.Fatalf("token: %d", r.status)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) refresh(rt string) map[string]any {
	e.t.Helper()
	// Parameters in the query string, as the Accounts docs show them.
	q := url.Values{"grant_type": {"refresh_token"}, "client_id": {emulator.DemoClientID}, "client_secret": {emulator.DemoClientSecret}, "refresh_token": {rt}}
	req, err := http.NewRequest("POST", e.srv.URL+"/oauth/v2/token?"+q.Encode(), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.send(req)
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func TestConsentFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	cb := e.consent(emulator.SecondOrgID, true, "")
	if cb.Get("state") != "xyz" || cb.Get("location") != "us" || cb.Get("accounts-server") != e.srv.URL || !tokenShape.MatchString(cb.Get("code")) {
		t.Fatalf("callback = %v", cb)
	}
	tok := e.exchange(cb.Get("code"))
	if !tokenShape.MatchString(tok["access_token"].(string)) || tok["refresh_token"] == nil || tok["expires_in"] != 3600.0 ||
		tok["token_type"] != "Bearer" || tok["api_domain"] != "https://www.zohoapis.com" {
		t.Fatalf("token response = %v", tok)
	}
	// Single use.
	if again := e.exchange(cb.Get("code")); again["error"] != "invalid_code" {
		t.Fatalf("second exchange = %v", again)
	}
	// Bound to the chosen org.
	e.token = tok["access_token"].(string)
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil, "orgId", emulator.SecondOrgID), 200, "")
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 403, "OAUTH_ORG_MISMATCH")
	// Refresh: no refresh_token in the answer.
	ref := e.refresh(tok["refresh_token"].(string))
	if ref["access_token"] == nil || ref["refresh_token"] != nil {
		t.Fatalf("refresh = %v", ref)
	}
	// Second consent without prompt=consent: no new refresh token.
	if tok2 := e.exchange(e.consent(emulator.DemoOrgID, true, "").Get("code")); tok2["refresh_token"] != nil {
		t.Fatal("refresh token issued without prompt=consent on re-consent")
	}
	if tok3 := e.exchange(e.consent(emulator.DemoOrgID, true, "&prompt=consent").Get("code")); tok3["refresh_token"] == nil {
		t.Fatal("prompt=consent did not issue a refresh token")
	}
}

func TestConsentDenyAndBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	cb := e.consent(emulator.DemoOrgID, false, "")
	if cb.Get("error") != "access_denied" || cb.Get("state") != "xyz" || cb.Get("code") != "" {
		t.Fatalf("deny callback = %v", cb)
	}
	// An unregistered redirect URI is never redirected to.
	r := e.get(strings.Replace(e.authURL(""), url.QueryEscape(emulator.DemoRedirectURI), url.QueryEscape("http://evil.example/cb"), 1))
	if r.status != 400 || r.header.Get("Location") != "" {
		t.Fatalf("bad redirect_uri: %d %v", r.status, r.header)
	}
	// Single-org user gets no org picker.
	page := e.get(e.authURL("&login_hint=" + url.QueryEscape(emulator.SingleOrgUser)))
	if strings.Contains(string(page.body), "org-picker") {
		t.Fatal("org picker shown for a single-org user")
	}
	if !strings.Contains(string(e.get(e.authURL("")).body), `id="org-picker"`) {
		t.Fatal("org picker missing for a two-org user")
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	code := e.consent(emulator.DemoOrgID, true, "").Get("code")
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"unknown client", url.Values{"grant_type": {"authorization_code"}, "client_id": {"nope"}, "client_secret": {"x"}, "code": {code}}, "invalid_client"},
		{"bad secret", url.Values{"grant_type": {"authorization_code"}, "client_id": {emulator.DemoClientID}, "client_secret": {"x"}, "code": {code}}, "invalid_client_secret"},
		{"bad code", url.Values{"grant_type": {"authorization_code"}, "client_id": {emulator.DemoClientID}, "client_secret": {emulator.DemoClientSecret}, "code": {"1000.x.y"}, "redirect_uri": {emulator.DemoRedirectURI}}, "invalid_code"},
		{"bad redirect", url.Values{"grant_type": {"authorization_code"}, "client_id": {emulator.DemoClientID}, "client_secret": {emulator.DemoClientSecret}, "code": {code}, "redirect_uri": {"http://other/cb"}}, "invalid_redirect_uri"},
		{"bad refresh", url.Values{"grant_type": {"refresh_token"}, "client_id": {emulator.DemoClientID}, "client_secret": {emulator.DemoClientSecret}, "refresh_token": {"1000.a.b"}}, "invalid_code"},
	}
	for _, tc := range tests {
		r := e.postForm("/oauth/v2/token", tc.form)
		var m map[string]any
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatal(err)
		}
		if r.status != 200 || m["error"] != tc.want {
			t.Errorf("%s: %d %v, want 200 %s", tc.name, r.status, m, tc.want)
		}
	}
	// Code expiry after 2 minutes.
	code2 := e.consent(emulator.DemoOrgID, true, "").Get("code")
	e.clk.Add(2*time.Minute + time.Second)
	if m := e.exchange(code2); m["error"] != "invalid_code" {
		t.Fatalf("expired code = %v", m)
	}
}

func TestRefreshThrottleAndEviction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	rt, _, err := e.emu.MintToken(emulator.DemoClientID, emulator.SingleOrgUser, emulator.DemoOrgID, []string{"Desk.basic.READ"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if m := e.refresh(rt); m["access_token"] == nil {
			t.Fatalf("refresh %d = %v", i, m)
		}
	}
	if m := e.refresh(rt); m["error"] != "Access Denied" {
		t.Fatalf("11th refresh = %v", m)
	}
	if n := e.emu.Counters().TokenRequests[rt]; n != 11 {
		t.Fatalf("TokenRequests = %d", n)
	}
	e.clk.Add(10 * time.Minute)
	if m := e.refresh(rt); m["access_token"] == nil {
		t.Fatalf("after window = %v", m)
	}
	// 20 refresh tokens per user and client: the 21st evicts the oldest.
	oldest, oldAccess, _ := e.emu.MintToken(emulator.DemoClientID, "jade.tywin@zylker.com", emulator.DemoOrgID, []string{"Desk.basic.READ"})
	for range 19 {
		if _, _, err := e.emu.MintToken(emulator.DemoClientID, "jade.tywin@zylker.com", emulator.DemoOrgID, []string{"Desk.basic.READ"}); err != nil {
			t.Fatal(err)
		}
	}
	e.token = oldAccess
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 200, "")
	if _, _, err := e.emu.MintToken(emulator.DemoClientID, "jade.tywin@zylker.com", emulator.DemoOrgID, []string{"Desk.basic.READ"}); err != nil {
		t.Fatal(err)
	}
	if n := e.emu.RefreshTokenCount(emulator.DemoClientID, "jade.tywin@zylker.com"); n != 20 {
		t.Fatalf("refresh tokens = %d", n)
	}
	if m := e.refresh(oldest); m["error"] != "invalid_code" {
		t.Fatalf("evicted refresh token still works: %v", m)
	}
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 401, "INVALID_OAUTH")
}

func TestRevokeForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	rt, at, _ := e.emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.basic.READ"})
	r := e.postForm("/oauth/v2/token/revoke?token="+url.QueryEscape(rt), nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"success"`) {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	e.token = at
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 401, "INVALID_OAUTH")
	if r := e.postForm("/oauth/v2/token/revoke?token="+url.QueryEscape(rt), nil); r.status != 400 {
		t.Fatalf("revoking twice: %d", r.status)
	}
	_, at2, _ := e.emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.basic.READ"})
	req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/v2/revoke/token?token_type=access_token&token="+url.QueryEscape(at2), nil)
	req.SetBasicAuth(emulator.DemoClientID, emulator.DemoClientSecret)
	if r := e.send(req); r.status != 200 {
		t.Fatalf("basic revoke: %d %s", r.status, r.body)
	}
	e.token = at2
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 401, "INVALID_OAUTH")
	req, _ = http.NewRequest("POST", e.srv.URL+"/oauth/v2/revoke/token?token="+url.QueryEscape(at2), nil)
	req.SetBasicAuth(emulator.DemoClientID, "wrong")
	if r := e.send(req); r.status != 401 {
		t.Fatalf("bad basic auth: %d", r.status)
	}
}

func TestServerInfoAndAutoConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{AutoConsent: true, AutoConsentOrgID: emulator.SecondOrgID})
	var info struct {
		Result    string
		Locations map[string]string
	}
	if err := json.Unmarshal(e.get(e.srv.URL+"/oauth/serverinfo").body, &info); err != nil {
		t.Fatal(err)
	}
	if info.Result != "success" || info.Locations["us"] != e.srv.URL {
		t.Fatalf("serverinfo = %+v", info)
	}
	r := e.get(e.authURL(""))
	if r.status != http.StatusFound {
		t.Fatalf("auto consent: %d", r.status)
	}
	loc, _ := url.Parse(r.header.Get("Location"))
	tok := e.exchange(loc.Query().Get("code"))
	e.token = tok["access_token"].(string)
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil, "orgId", emulator.SecondOrgID), 200, "")
	// No secret in the request log.
	for _, rec := range e.emu.Requests() {
		if strings.Contains(rec.Query, emulator.DemoClientSecret) || strings.Contains(rec.Query, loc.Query().Get("code")) {
			t.Fatalf("secret logged: %+v", rec)
		}
	}
}

// TestAdminCountersHideTokens checks that GET /__emulator/counters counts
// token requests by a short fingerprint of the refresh token, never the
// token itself, and that the request log shows no token either.
func TestAdminCountersHideTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	rt, _, err := e.emu.MintToken(emulator.DemoClientID, emulator.SingleOrgUser, emulator.DemoOrgID, []string{"Desk.basic.READ"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if m := e.refresh(rt); m["access_token"] == nil {
			t.Fatalf("refresh = %v", m)
		}
	}
	for _, path := range []string{"/__emulator/counters", "/__emulator/requests"} {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.Contains(string(body), rt) {
			t.Errorf("GET %s: %d, shows the refresh token: %t", path, resp.StatusCode, strings.Contains(string(body), rt))
		}
		if path != "/__emulator/counters" {
			continue
		}
		var c emulator.Counters
		if err := json.Unmarshal(body, &c); err != nil {
			t.Fatal(err)
		}
		fp := emulator.TokenFingerprint(rt)
		if c.TokenRequests[fp] != 2 || len(fp) > 24 || strings.Contains(rt, strings.TrimPrefix(fp, "sha256:")) {
			t.Errorf("counters by fingerprint %q = %v, want 2 requests", fp, c.TokenRequests)
		}
	}
}

// TestRequestLogKeepsTheNewest: a full request log drops its oldest
// records and still lists the rest oldest first, also after Reset.
func TestRequestLogKeepsTheNewest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{MaxRequestLog: 3})
	paths := func() []string {
		var out []string
		for _, rec := range e.emu.Requests() {
			out = append(out, rec.Path)
		}
		return out
	}
	for i := range 7 {
		e.get(e.srv.URL + "/probe/" + strconv.Itoa(i))
	}
	if got, want := paths(), []string{"/probe/4", "/probe/5", "/probe/6"}; !slices.Equal(got, want) {
		t.Errorf("log after 7 requests = %v, want %v", got, want)
	}
	e.emu.Reset()
	for i := range 2 {
		e.get(e.srv.URL + "/again/" + strconv.Itoa(i))
	}
	if got, want := paths(), []string{"/again/0", "/again/1"}; !slices.Equal(got, want) {
		t.Errorf("log after Reset and 2 requests = %v, want %v", got, want)
	}
}
