package mcpauth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
)

const (
	testCSRF     = "csrf-token-of-the-session"
	testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-0123456789"
	cbURL        = "http://127.0.0.1:33333/callback"
)

// clock is a settable time source.
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
	t        *testing.T
	st       store.Store
	srv      *Server
	url      string
	clock    *clock
	tenant   *store.Tenant
	support  *store.Connection
	sales    *store.Connection
	http     *http.Client
	clientID string
}

// newEnv starts the authorization server on loopback with a SQLite store,
// a tenant with connections "support" and "sales", and a registered client
// whose redirect URI is cbURL. A request carrying the cookie
// "sess=<tenant id>" is signed in as that tenant.
func newEnv(t *testing.T, fetcher *egress.Fetcher) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "deskconn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, clock: &clock{t: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}}
	e.tenant = &store.Tenant{Name: "acme"}
	if err := st.CreateTenant(t.Context(), e.tenant); err != nil {
		t.Fatal(err)
	}
	for _, c := range []**store.Connection{&e.support, &e.sales} {
		name := "support"
		if c == &e.sales {
			name = "sales"
		}
		*c = &store.Connection{TenantID: e.tenant.ID, Name: name, ClientID: "1000.X", Status: store.StatusActive}
		if err := st.CreateConnection(t.Context(), *c); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewUnstartedServer(nil)
	e.url = "http://" + ts.Listener.Addr().String()
	e.srv, err = New(Options{
		Store: st, BaseURL: e.url, Toolsets: action.Toolsets, Now: e.clock.Now, Fetcher: fetcher,
		Sessions: SessionsFunc(func(r *http.Request) (Session, bool, error) {
			ck, err := r.Cookie("sess")
			if err != nil {
				return Session{}, false, nil
			}
			return Session{TenantID: ck.Value, CSRF: testCSRF}, true, nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, h := range e.srv.Routes() {
		mux.Handle(p, h)
	}
	ts.Config.Handler = mux
	ts.Start()
	t.Cleanup(ts.Close)
	e.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.clientID = e.register(`{"client_name":"Test Agent","redirect_uris":["`+cbURL+`"],"token_endpoint_auth_method":"none"}`, http.StatusCreated)["client_id"].(string)
	return e
}

type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (e *env) register(body string, want int) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth/register", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	r := e.do(req)
	if r.status != want {
		e.t.Fatalf("register %s = %d %s, want %d", body, r.status, r.body, want)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(r.body), &m)
	return m
}

func challengeOf(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// authParams returns a valid authorization request for the env's client
// and the support connection.
func (e *env) authParams() url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {e.clientID}, "redirect_uri": {cbURL}, "state": {"st-1"},
		"code_challenge": {challengeOf(testVerifier)}, "code_challenge_method": {"S256"}, "resource": {e.url + "/mcp/support"},
	}
}

// getAuthorize GETs the authorization endpoint, signed in when signedIn.
func (e *env) getAuthorize(q url.Values, signedIn bool) response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/oauth/authorize?"+q.Encode(), nil)
	if signedIn {
		req.AddCookie(&http.Cookie{Name: "sess", Value: e.tenant.ID})
	}
	return e.do(req)
}

// consent posts the consent form with q and extra fields (decision allow,
// access full by default).
func (e *env) consent(q url.Values, extra url.Values) response {
	e.t.Helper()
	form := url.Values{"csrf": {testCSRF}, "decision": {"allow"}, "access": {"full"}}
	for k, v := range q {
		form[k] = v
	}
	for k, v := range extra {
		form[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "sess", Value: e.tenant.ID})
	return e.do(req)
}

// redirectParams returns the query of a 303 to cbURL, failing otherwise.
func (e *env) redirectParams(r response) url.Values {
	e.t.Helper()
	if r.status != http.StatusSeeOther {
		e.t.Fatalf("status = %d (%s), want 303 to the client", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.String(), cbURL+"?") {
		e.t.Fatalf("Location = %q, want %s?…", r.header.Get("Location"), cbURL)
	}
	return u.Query()
}

// code runs the consent and returns the authorization code.
func (e *env) code(q url.Values, extra url.Values) string {
	e.t.Helper()
	p := e.redirectParams(e.consent(q, extra))
	if p.Get("code") == "" || p.Get("state") != "st-1" || p.Get("iss") != e.url {
		e.t.Fatalf("redirect params = %v, want code, state st-1, iss %s", p, e.url)
	}
	return p.Get("code")
}

// token posts to the token endpoint.
func (e *env) token(form url.Values) (map[string]any, response) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r := e.do(req)
	var m map[string]any
	_ = json.Unmarshal([]byte(r.body), &m)
	return m, r
}

func (e *env) exchange(code string) (map[string]any, response) {
	e.t.Helper()
	return e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cbURL},
		"code_verifier": {testVerifier}, "client_id": {e.clientID}, "resource": {e.url + "/mcp/support"}})
}

// tokens runs the whole flow and returns the access and refresh tokens.
func (e *env) tokens(extra url.Values) (access, refresh string) {
	e.t.Helper()
	m, r := e.exchange(e.code(e.authParams(), extra))
	if r.status != http.StatusOK {
		e.t.Fatalf("token = %d %s", r.status, r.body)
	}
	return m["access_token"].(string), m["refresh_token"].(string)
}

func wantOAuthError(t *testing.T, m map[string]any, r response, status int, code string) {
	t.Helper()
	if r.status != status || m["error"] != code {
		t.Errorf("response = %d %s, want %d error %q", r.status, r.body, status, code)
	}
}

// authAt authenticates an access token presented to path.
func (e *env) authAt(tok, path string) error {
	req := httptest.NewRequestWithContext(e.t.Context(), http.MethodPost, path, nil)
	_, err := e.srv.AuthenticateToken(e.t.Context(), tok, req)
	return err
}
