package mcpauth

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/egress/egresstest"
	"github.com/deskconn/deskconn/internal/store"
)

func TestMetadata(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := e.do(mustGet(e.url + "/.well-known/oauth-protected-resource/mcp/support"))
	var prm map[string]any
	if err := json.Unmarshal([]byte(r.body), &prm); err != nil || r.status != 200 {
		t.Fatalf("PRM = %d %s", r.status, r.body)
	}
	if prm["resource"] != e.url+"/mcp/support" || prm["authorization_servers"].([]any)[0] != e.url {
		t.Errorf("PRM = %v", prm)
	}
	r = e.do(mustGet(e.url + "/.well-known/oauth-authorization-server"))
	var asm map[string]any
	if err := json.Unmarshal([]byte(r.body), &asm); err != nil || r.status != 200 {
		t.Fatalf("AS metadata = %d %s", r.status, r.body)
	}
	if asm["issuer"] != e.url || asm["token_endpoint"] != e.url+"/oauth/token" || asm["client_id_metadata_document_supported"] != true {
		t.Errorf("AS metadata = %v", asm)
	}
	if m := asm["code_challenge_methods_supported"].([]any); len(m) != 1 || m[0] != "S256" {
		t.Errorf("code_challenge_methods_supported = %v, want [S256]", m)
	}
	if _, ok := asm["jwks_uri"]; ok {
		t.Errorf("AS metadata has jwks_uri: %v", asm["jwks_uri"])
	}
	req := mustGet(e.url + "/mcp/support")
	if got, want := e.srv.Challenge(req), `resource_metadata="`+e.url+`/.well-known/oauth-protected-resource/mcp/support"`; got != want {
		t.Errorf("Challenge = %s, want %s", got, want)
	}
	if got := e.srv.Challenge(mustGet(e.url + "/v1/connections")); got != "" {
		t.Errorf("Challenge(REST) = %q, want none", got)
	}
}

func mustGet(u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		panic(err)
	}
	return req
}

func TestFlowScopesAndResourceBinding(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	access, _ := e.tokens(url.Values{"access": {"read"}, "toolset": {"tickets"}})
	if !strings.HasPrefix(access, AccessPrefix) {
		t.Fatalf("access token %q lacks prefix %s", access[:6], AccessPrefix)
	}
	req := httptestRequest(t, "/mcp/support")
	id, err := e.srv.AuthenticateToken(t.Context(), access, req)
	if err != nil {
		t.Fatalf("AuthenticateToken(/mcp/support) = %v", err)
	}
	if id.TenantID != e.tenant.ID || id.Scope.ConnectionID != e.support.ID || !id.Scope.ReadOnly ||
		len(id.Scope.Toolsets) != 1 || id.Scope.Toolsets[0] != "tickets" {
		t.Errorf("identity = %+v", id)
	}
	// Another connection's endpoint, another spelling of it, and REST refuse it.
	for _, p := range []string{"/mcp/sales", "/mcp/" + e.support.ID, "/v1/connections", "/mcp/support/x"} {
		if err := e.authAt(access, p); deskconn.ErrorCode(err) != deskconn.CodeUnauthenticated {
			t.Errorf("AuthenticateToken(%s) = %v, want unauthenticated", p, err)
		}
	}
	// An access token expires.
	e.clock.Add(DefaultAccessTTL + time.Second)
	if err := e.authAt(access, "/mcp/support"); deskconn.ErrorCode(err) != deskconn.CodeUnauthenticated || !strings.Contains(err.Error(), "expired") {
		t.Errorf("AuthenticateToken(expired) = %v, want unauthenticated, expired", err)
	}
	// The grant is listed.
	gs, err := e.st.ListMCPGrants(t.Context(), e.tenant.ID)
	if err != nil || len(gs) != 1 || gs[0].ClientName != "Test Agent" || gs[0].Resource != e.url+"/mcp/support" {
		t.Errorf("ListMCPGrants = %v, %v", gs, err)
	}
}

func httptestRequest(t *testing.T, path string) *http.Request {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://x"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestTokenForAnotherResourceRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	code := e.code(e.authParams(), nil)
	m, r := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cbURL},
		"code_verifier": {testVerifier}, "client_id": {e.clientID}, "resource": {e.url + "/mcp/sales"}})
	wantOAuthError(t, m, r, 400, "invalid_target")
	// Without a resource, the person picks the connection; the token is
	// bound to it.
	q := e.authParams()
	q.Del("resource")
	code = e.code(q, url.Values{"connection": {e.sales.ID}})
	m, r = e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cbURL},
		"code_verifier": {testVerifier}, "client_id": {e.clientID}})
	if r.status != 200 {
		t.Fatalf("token = %d %s", r.status, r.body)
	}
	if err := e.authAt(m["access_token"].(string), "/mcp/sales"); err != nil {
		t.Errorf("AuthenticateToken(/mcp/sales) = %v", err)
	}
	if err := e.authAt(m["access_token"].(string), "/mcp/support"); err == nil {
		t.Errorf("a token for sales was accepted on support")
	}
	// A resource on another server is refused at the authorization endpoint.
	q = e.authParams()
	q.Set("resource", "https://elsewhere.example/mcp/support")
	if p := e.redirectParams(e.getAuthorize(q, true)); p.Get("error") != "invalid_target" {
		t.Errorf("authorize with a foreign resource: %v, want invalid_target", p)
	}
	// A resource naming a connection the person does not have.
	q.Set("resource", e.url+"/mcp/nope")
	if p := e.redirectParams(e.getAuthorize(q, true)); p.Get("error") != "invalid_target" {
		t.Errorf("authorize with an unknown connection: %v, want invalid_target", p)
	}
}

func TestPKCERequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for name, edit := range map[string]func(url.Values){
		"plain":         func(q url.Values) { q.Set("code_challenge_method", "plain"); q.Set("code_challenge", testVerifier) },
		"no method":     func(q url.Values) { q.Del("code_challenge_method") },
		"no challenge":  func(q url.Values) { q.Del("code_challenge") },
		"bad challenge": func(q url.Values) { q.Set("code_challenge", "short") },
	} {
		q := e.authParams()
		edit(q)
		for _, r := range []response{e.getAuthorize(q, true), e.consent(q, nil)} {
			p := e.redirectParams(r)
			if p.Get("error") != "invalid_request" || p.Get("code") != "" || p.Get("state") != "st-1" {
				t.Errorf("%s: redirect %v, want error invalid_request and no code", name, p)
			}
		}
	}
	// A wrong verifier, or none, is refused at the token endpoint.
	code := e.code(e.authParams(), nil)
	m, r := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cbURL},
		"code_verifier": {strings.Repeat("x", 43)}, "client_id": {e.clientID}})
	wantOAuthError(t, m, r, 400, "invalid_grant")
	m, r = e.token(url.Values{"grant_type": {"authorization_code"}, "code": {e.code(e.authParams(), nil)}, "redirect_uri": {cbURL}, "client_id": {e.clientID}})
	wantOAuthError(t, m, r, 400, "invalid_request")
}

func TestRedirectURIComparedExactly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, ru := range []string{cbURL + "/", cbURL + "?x=1", strings.ToUpper(cbURL), "http://127.0.0.1:33334/callback", ""} {
		q := e.authParams()
		q.Set("redirect_uri", ru)
		for _, r := range []response{e.getAuthorize(q, true), e.consent(q, nil)} {
			if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
				t.Errorf("redirect_uri %q: %d Location %q, want 400 and no redirect", ru, r.status, r.header.Get("Location"))
			}
		}
	}
	// The token request must repeat the exact redirect URI.
	code := e.code(e.authParams(), nil)
	m, r := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cbURL + "/"},
		"code_verifier": {testVerifier}, "client_id": {e.clientID}})
	wantOAuthError(t, m, r, 400, "invalid_grant")
}

func TestReplayedCodeRevokesItsTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	code := e.code(e.authParams(), nil)
	m, r := e.exchange(code)
	if r.status != 200 {
		t.Fatalf("first exchange = %d %s", r.status, r.body)
	}
	access, refresh := m["access_token"].(string), m["refresh_token"].(string)
	if err := e.authAt(access, "/mcp/support"); err != nil {
		t.Fatalf("AuthenticateToken = %v", err)
	}
	m, r = e.exchange(code)
	wantOAuthError(t, m, r, 400, "invalid_grant")
	if err := e.authAt(access, "/mcp/support"); deskconn.ErrorCode(err) != deskconn.CodeUnauthenticated {
		t.Errorf("access token after a replayed code = %v, want refused", err)
	}
	m, r = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {e.clientID}})
	wantOAuthError(t, m, r, 400, "invalid_grant")
}

func TestExpiredCodeRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	code := e.code(e.authParams(), nil)
	e.clock.Add(DefaultCodeTTL)
	m, r := e.exchange(code)
	wantOAuthError(t, m, r, 400, "invalid_grant")
	if !strings.Contains(r.body, "expired") {
		t.Errorf("body = %s, want it to say expired", r.body)
	}
}

func TestCodeOfAnotherClientRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	other := e.register(`{"client_name":"Other","redirect_uris":["`+cbURL+`"]}`, 201)["client_id"].(string)
	code := e.code(e.authParams(), nil)
	m, r := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cbURL},
		"code_verifier": {testVerifier}, "client_id": {other}})
	wantOAuthError(t, m, r, 400, "invalid_grant")
	m, r = e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cbURL}, "code_verifier": {testVerifier}})
	wantOAuthError(t, m, r, 401, "invalid_client")
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	access, refresh := e.tokens(nil)
	m, r := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {e.clientID}, "resource": {e.url + "/mcp/support"}})
	if r.status != 200 {
		t.Fatalf("refresh = %d %s", r.status, r.body)
	}
	access2, refresh2 := m["access_token"].(string), m["refresh_token"].(string)
	if refresh2 == refresh || access2 == access {
		t.Fatalf("refresh did not rotate the tokens")
	}
	if err := e.authAt(access2, "/mcp/support"); err != nil {
		t.Fatalf("new access token = %v", err)
	}
	// Reusing the old refresh token revokes the family.
	m, r = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {e.clientID}})
	wantOAuthError(t, m, r, 400, "invalid_grant")
	for _, tok := range []string{access, access2} {
		if err := e.authAt(tok, "/mcp/support"); deskconn.ErrorCode(err) != deskconn.CodeUnauthenticated {
			t.Errorf("access token after refresh reuse = %v, want refused", err)
		}
	}
	m, r = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh2}, "client_id": {e.clientID}})
	wantOAuthError(t, m, r, 400, "invalid_grant")
}

func TestExpiredRefreshTokenRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, refresh := e.tokens(nil)
	e.clock.Add(DefaultRefreshTTL)
	m, r := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {e.clientID}})
	wantOAuthError(t, m, r, 400, "invalid_grant")
}

func TestRevocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	access, refresh := e.tokens(nil)
	post := func(form url.Values) response {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth/revoke", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return e.do(req)
	}
	if r := post(url.Values{"token": {"dkat_unknown"}, "client_id": {e.clientID}}); r.status != 200 {
		t.Errorf("revoke(unknown) = %d, want 200", r.status)
	}
	if r := post(url.Values{"token": {access}, "client_id": {"someone-else"}}); r.status != 401 {
		t.Errorf("revoke(other client) = %d, want 401", r.status)
	}
	if err := e.authAt(access, "/mcp/support"); err != nil {
		t.Fatalf("access token before revocation = %v", err)
	}
	if r := post(url.Values{"token": {access}, "client_id": {e.clientID}, "token_type_hint": {"access_token"}}); r.status != 200 {
		t.Fatalf("revoke = %d %s", r.status, r.body)
	}
	if err := e.authAt(access, "/mcp/support"); deskconn.ErrorCode(err) != deskconn.CodeUnauthenticated || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("access token after revocation = %v, want refused as revoked", err)
	}
	m, r := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {e.clientID}})
	wantOAuthError(t, m, r, 400, "invalid_grant")
}

func TestConsentPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	q := e.authParams()
	r := e.getAuthorize(q, false)
	if r.status != 200 || !strings.Contains(r.body, "Sign in to deskconn first") || !strings.Contains(r.body, "Test Agent") {
		t.Errorf("signed out: %d %s", r.status, r.body)
	}
	r = e.getAuthorize(q, true)
	for _, want := range []string{"Test Agent", "127.0.0.1:33333", testCSRF, `id="fixed-connection">support`, "registered itself", `value="tickets"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	q.Del("resource")
	r = e.getAuthorize(q, true)
	if !strings.Contains(r.body, `<option value="`+e.sales.ID+`">sales`) {
		t.Errorf("consent without resource does not offer the connections: %s", r.body)
	}
	// CSRF: a wrong or missing token is refused, and no code is issued.
	for _, csrf := range []string{"", "forged"} {
		r = e.consent(e.authParams(), url.Values{"csrf": {csrf}})
		if r.status != http.StatusForbidden || r.header.Get("Location") != "" {
			t.Errorf("consent with csrf %q = %d, want 403 without redirect", csrf, r.status)
		}
	}
	// Deny.
	if p := e.redirectParams(e.consent(e.authParams(), url.Values{"decision": {"deny"}})); p.Get("error") != "access_denied" || p.Get("code") != "" {
		t.Errorf("deny: %v", p)
	}
	// Another tenant's connection cannot be picked.
	other := &store.Tenant{Name: "other"}
	if err := e.st.CreateTenant(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	oc := &store.Connection{TenantID: other.ID, Name: "theirs", ClientID: "1000.Y", Status: store.StatusActive}
	if err := e.st.CreateConnection(t.Context(), oc); err != nil {
		t.Fatal(err)
	}
	r = e.consent(q, url.Values{"connection": {oc.ID}})
	if r.status != http.StatusBadRequest {
		t.Errorf("consent for another tenant's connection = %d, want 400", r.status)
	}
	r = e.consent(q, url.Values{"connection": {e.sales.ID}, "toolset": {"nope"}})
	if r.status != http.StatusBadRequest {
		t.Errorf("consent with an unknown toolset = %d, want 400", r.status)
	}
}

func TestRegistrationRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for body, code := range map[string]string{
		`{"redirect_uris":["http://agent.example/cb"]}`:                             "invalid_redirect_uri",
		`{"redirect_uris":[]}`:                                                      "invalid_redirect_uri",
		`{"redirect_uris":["https://a.example/cb#frag"]}`:                           "invalid_redirect_uri",
		`{"redirect_uris":["javascript:alert(1)"]}`:                                 "invalid_redirect_uri",
		`{"redirect_uris":["https://a.example/cb"],"grant_types":["implicit"]}`:     "invalid_client_metadata",
		`{"redirect_uris":["https://a.example/cb"],"client_id":"mine"}`:             "invalid_client_metadata",
		`{"redirect_uris":"https://a.example/cb"}`:                                  "invalid_client_metadata",
		`{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":1}`: "invalid_client_metadata",
	} {
		m := e.register(body, http.StatusBadRequest)
		if m["error"] != code {
			t.Errorf("register %s: error %v, want %s", body, m["error"], code)
		}
	}
	m := e.register(`{"client_name":"  Evil\u202eAgent\n","redirect_uris":["https://a.example/cb","http://localhost:1/cb"]}`, http.StatusCreated)
	if m["client_name"] != "EvilAgent" || m["token_endpoint_auth_method"] != "none" || m["client_secret"] != nil {
		t.Errorf("registration response = %v", m)
	}
}

func TestClientIDMetadataDocument(t *testing.T) {
	t.Parallel()
	inet := egresstest.New(t)
	var fetches atomic.Int32
	docs := map[string]string{
		"/client.json":    `{"client_id":"https://agent.example/client.json","client_name":"Hosted Agent","redirect_uris":["` + cbURL + `"]}`,
		"/mismatch.json":  `{"client_id":"https://agent.example/other.json","redirect_uris":["` + cbURL + `"]}`,
		"/big.json":       `{"client_id":"https://agent.example/big.json","redirect_uris":["` + cbURL + `"],"x":"` + strings.Repeat("a", MaxMetadataDocumentBytes) + `"}`,
		"/badredirs.json": `{"client_id":"https://agent.example/badredirs.json","redirect_uris":["http://agent.example/cb"]}`,
	}
	inet.Handle("agent.example", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(doc))
	}))
	inet.Resolve("private.example", "10.0.0.5")
	e := newEnv(t, egress.New(inet.Config(egress.Config{MaxBytes: MaxMetadataDocumentBytes})))
	q := e.authParams()
	q.Set("client_id", "https://agent.example/client.json")
	r := e.getAuthorize(q, true)
	if r.status != 200 || !strings.Contains(r.body, "Hosted Agent") || !strings.Contains(r.body, "from its metadata document") {
		t.Fatalf("consent for a CIMD client = %d %s", r.status, r.body)
	}
	code := e.code(q, nil)
	m, tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cbURL},
		"code_verifier": {testVerifier}, "client_id": {"https://agent.example/client.json"}})
	if tr.status != 200 || m["access_token"] == nil {
		t.Fatalf("token for a CIMD client = %d %s", tr.status, tr.body)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("the document was fetched %d times, want 1 (cached)", n)
	}
	e.clock.Add(MetadataDocumentTTL)
	e.getAuthorize(q, true)
	if n := fetches.Load(); n != 2 {
		t.Errorf("after the cache expired: %d fetches, want 2", n)
	}
	// A redirect URI not in the document.
	q.Set("redirect_uri", "http://127.0.0.1:1/other")
	if r := e.getAuthorize(q, true); r.status != 400 || r.header.Get("Location") != "" {
		t.Errorf("CIMD client with an unlisted redirect = %d", r.status)
	}
	q.Set("redirect_uri", cbURL)
	for _, id := range []string{"https://agent.example/mismatch.json", "https://agent.example/big.json", "https://agent.example/missing.json",
		"https://agent.example/badredirs.json", "https://private.example/client.json", "https://127.0.0.1/client.json"} {
		q.Set("client_id", id)
		if r := e.getAuthorize(q, true); r.status != 400 || r.header.Get("Location") != "" || !strings.Contains(r.body, "not known") {
			t.Errorf("client_id %s = %d (Location %q), want the unknown-client page", id, r.status, r.header.Get("Location"))
		}
	}
	for _, d := range inet.Dials() {
		if strings.HasPrefix(d, "10.") || strings.HasPrefix(d, "127.") {
			t.Errorf("dialled a refused address %s", d)
		}
	}
}

func TestParseResource(t *testing.T) {
	t.Parallel()
	base := "https://dc.example"
	for res, want := range map[string]string{
		"https://dc.example/mcp/support": "support",
		"HTTPS://DC.EXAMPLE/mcp/conn_1":  "conn_1",
	} {
		seg, canon, err := ParseResource(base, res)
		if err != nil || seg != want || canon != "https://dc.example/mcp/"+want {
			t.Errorf("ParseResource(%s) = %q, %q, %v", res, seg, canon, err)
		}
	}
	for _, res := range []string{"", "https://dc.example/mcp/", "https://dc.example/mcp/a/b", "https://dc.example/mcp/a?x=1",
		"https://dc.example/mcp/a#f", "http://dc.example/mcp/a", "https://other.example/mcp/a", "https://u@dc.example/mcp/a",
		"https://dc.example/mcp/..", "https://dc.example/mcp/a%2Fb", "/mcp/a"} {
		if _, _, err := ParseResource(base, res); err == nil {
			t.Errorf("ParseResource(%q) accepted", res)
		}
	}
}

func TestCodeOfRevokedGrantRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	code := e.code(e.authParams(), nil)
	if gs, _ := e.st.ListMCPGrants(t.Context(), e.tenant.ID); len(gs) != 0 {
		t.Errorf("a grant holding only a code is listed: %v", gs)
	}
	ct, err := e.st.GetMCPToken(t.Context(), hashToken(code))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.RevokeMCPGrant(t.Context(), e.tenant.ID, ct.GrantID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	m, r := e.exchange(code)
	wantOAuthError(t, m, r, 400, "invalid_grant")
	if !strings.Contains(r.body, "revoked") {
		t.Errorf("body = %s, want it to say revoked", r.body)
	}
}

func TestRegistrationRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil) // registered one client
	body := `{"client_name":"Spam","redirect_uris":["https://a.example/cb"]}`
	for range RegistrationBurst - 1 {
		e.register(body, http.StatusCreated)
	}
	if m := e.register(body, http.StatusTooManyRequests); m["error"] != "temporarily_unavailable" {
		t.Errorf("over the burst: %v", m)
	}
	e.clock.Add(RegistrationInterval)
	e.register(body, http.StatusCreated)
}
