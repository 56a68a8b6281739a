package restapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/demo/demotest"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store/storetest"
)

func TestConnectionsAPI(t *testing.T) {
	t.Parallel()
	d, logs := demotest.Start(t)
	key := d.APIKey.Reveal()

	resp, p := demotest.Do(t, "GET", d.URL+"/v1/connections", "", "")
	if resp.StatusCode != 401 || p["code"] != "unauthenticated" || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("no key: %d %v", resp.StatusCode, p)
	}
	resp, p = demotest.Do(t, "GET", d.URL+"/v1/connections", "dk_"+strings.Repeat("a", 43), "")
	if resp.StatusCode != 401 {
		t.Fatalf("unknown key: %d %v", resp.StatusCode, p)
	}
	resp, p = demotest.Do(t, "GET", d.URL+"/v1/connections/demo", key, "")
	if resp.StatusCode != 200 || p["status"] != "active" || p["orgName"] != "Zylker" {
		t.Fatalf("get demo: %d %v", resp.StatusCode, p)
	}
	resp, p = demotest.Do(t, "POST", d.URL+"/v1/connections", key, `{"name":"second","clientId":"1000.X","clientSecret":"s3cret-canary-value"}`)
	if resp.StatusCode != 201 || p["status"] != "pending" || p["redirectUrl"] != d.URL+"/oauth/callback" {
		t.Fatalf("create: %d %v", resp.StatusCode, p)
	}
	resp, p = demotest.Do(t, "POST", d.URL+"/v1/connections", key, `{"name":"bad name","clientId":"","clientSecret":"","extra":1}`)
	if resp.StatusCode != 400 || p["code"] != "invalid" {
		t.Fatalf("unknown field: %d %v", resp.StatusCode, p)
	}
	resp, p = demotest.Do(t, "POST", d.URL+"/v1/connections", key, `{"name":"bad name","clientId":"","clientSecret":""}`)
	if resp.StatusCode != 400 || len(p["errors"].([]any)) != 3 {
		t.Fatalf("invalid fields: %d %v", resp.StatusCode, p)
	}
	resp, _ = demotest.Do(t, "POST", d.URL+"/v1/connections", key, `{"name":"`+strings.Repeat("x", 70<<10)+`"}`)
	if resp.StatusCode != 400 {
		t.Fatalf("oversized body: %d", resp.StatusCode)
	}
	resp, p = demotest.Do(t, "POST", d.URL+"/v1/connections/second/connect", key, "")
	if resp.StatusCode != 200 || !strings.Contains(p["authorizeUrl"].(string), "state=") {
		t.Fatalf("connect: %d %v", resp.StatusCode, p)
	}
	// The body is optional; {"rebind": true} asks for a rebinding
	// reconnect, also when sent chunked (no Content-Length).
	for _, body := range []string{`{"rebind": true}`, `{}`} {
		if resp, p = demotest.Do(t, "POST", d.URL+"/v1/connections/second/connect", key, body); resp.StatusCode != 200 || p["authorizeUrl"] == nil {
			t.Fatalf("connect %s: %d %v", body, resp.StatusCode, p)
		}
	}
	if resp, p = demotest.Do(t, "POST", d.URL+"/v1/connections/second/connect", key, `{"rebind": "yes"}`); resp.StatusCode != 400 {
		t.Fatalf("connect with a non-boolean rebind: %d %v", resp.StatusCode, p)
	}
	for _, body := range []string{"", `{"rebind": true}`} {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", d.URL+"/v1/connections/second/connect", io.NopCloser(strings.NewReader(body)))
		req.ContentLength = -1 // chunked
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("chunked connect %q: %d", body, res.StatusCode)
		}
	}
	resp, p = demotest.Do(t, "GET", d.URL+"/v1/connections", key, "")
	if resp.StatusCode != 200 || len(p["connections"].([]any)) != 2 {
		t.Fatalf("list: %d %v", resp.StatusCode, p)
	}

	// Another tenant's key sees nothing of this tenant: 404, as for a
	// connection that does not exist.
	other, err := connection.EnsureTenant(t.Context(), d.Store, "other")
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _, err := apikey.New(d.Store).Create(t.Context(), other.ID, "k")
	if err != nil {
		t.Fatal(err)
	}
	for _, probe := range []struct{ method, path string }{
		{"GET", "/v1/connections/demo"}, {"DELETE", "/v1/connections/demo"}, {"POST", "/v1/connections/demo/connect"},
		{"GET", "/v1/connections/nonexistent"},
	} {
		resp, p := demotest.Do(t, probe.method, d.URL+probe.path, otherKey.Reveal(), "")
		if resp.StatusCode != 404 || p["code"] != "not_found" {
			t.Errorf("%s %s with another tenant's key: %d %v", probe.method, probe.path, resp.StatusCode, p)
		}
	}
	resp, p = demotest.Do(t, "GET", d.URL+"/v1/connections", otherKey.Reveal(), "")
	if resp.StatusCode != 200 || len(p["connections"].([]any)) != 0 {
		t.Fatalf("other tenant list: %v", p)
	}

	resp, _ = demotest.Do(t, "DELETE", d.URL+"/v1/connections/second", key, "")
	if resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	resp, p = demotest.Do(t, "GET", d.URL+"/readyz", "", "")
	if resp.StatusCode != 200 || p["connections"].(float64) != 1 || p["needsReauth"].(float64) != 0 {
		t.Fatalf("readyz: %d %v", resp.StatusCode, p)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatal("no request id")
	}

	// Canary: no secret in the database or the logs.
	raw := demotest.Dump(t, d)
	secrets := []string{key, otherKey.Reveal(), "s3cret-canary-value", "demo-client-secret-0000000000000000000000"}
	storetest.AssertNoPlaintext(t, raw, secrets...)
	storetest.AssertNoPlaintext(t, []byte(logs.String()), secrets...)
	if !strings.Contains(logs.String(), `"route":"GET /v1/connections/{connection}"`) {
		t.Fatal("the log capture misses requests: the canary would prove nothing")
	}
	// The access log names who called (tenant and API key id, never the key).
	if !regexp.MustCompile(`"tenant":"` + regexp.QuoteMeta(d.TenantID) + `","api_key":"[^"]+"`).MatchString(logs.String()) {
		t.Errorf("the access log of authenticated requests lacks the tenant and API key id")
	}
}

func TestStatusOf(t *testing.T) {
	for code, want := range map[string]int{"invalid": 400, "not_found": 404, "unauthenticated": 401, "needs_reauth": 424, "rate_limited": 429, "unavailable": 503, "internal": 500, "conflict": 409, "forbidden": 403, "outcome_unknown": 409} {
		if got := restapi.StatusOf(deskconn.Code(code)); got != want {
			t.Errorf("StatusOf(%s) = %d, want %d", code, got, want)
		}
	}
}

// TestMethodNotAllowed checks that a GET on a POST-only endpoint answers
// 405 with Allow (not 404) and that unknown paths stay 404.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	d, _ := demotest.Start(t)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv, err := restapi.New(restapi.Options{Manager: d.Manager, APIKeys: apikey.New(d.Store), BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount("POST /v1/connections/{connection}/actions/{action}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		restapi.WriteJSON(w, 200, map[string]string{"ok": "yes"})
	}))
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	key := d.APIKey.Reveal()
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/v1/connections/demo/actions/get_ticket", 405, "POST"},
		{"PUT", "/v1/connections/demo/actions/get_ticket", 405, "POST"},
		{"POST", "/v1/connections/demo/actions/get_ticket", 200, ""},
		{"GET", "/v1/connections/demo/connect", 405, "POST"},
		{"PUT", "/v1/connections/demo", 405, "GET, DELETE"},
		{"GET", "/v1/nothing/here", 404, ""},
	} {
		resp, p := demotest.Do(t, tc.method, base+tc.path, key, "")
		if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d Allow %q (%v)", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), tc.status, tc.allow, p)
		}
		if tc.status == 405 && (resp.Header.Get("Content-Type") != "application/problem+json" || p["status"] != float64(405)) {
			t.Errorf("%s %s: 405 body %v (%s)", tc.method, tc.path, p, resp.Header.Get("Content-Type"))
		}
	}
}

// TestCreateConnectionScopeTypo: POST /v1/connections refuses a scope
// that is not a Zoho Desk scope name, naming the closest valid one.
func TestCreateConnectionScopeTypo(t *testing.T) {
	t.Parallel()
	d, _ := demotest.Start(t)
	resp, p := demotest.Do(t, "POST", d.URL+"/v1/connections", d.APIKey.Reveal(), `{"name":"typo","clientId":"1000.X","clientSecret":"s","scopes":["Desk.tickets.ALL","Desk.tikets.READ"]}`)
	errs, _ := p["errors"].([]any)
	if resp.StatusCode != 400 || len(errs) != 1 {
		t.Fatalf("scope typo: %d %v", resp.StatusCode, p)
	}
	e := errs[0].(map[string]any)
	if e["pointer"] != "/scopes/1" || !strings.Contains(e["message"].(string), "did you mean Desk.tickets.READ?") {
		t.Errorf("scope typo problem = %v", e)
	}
}
