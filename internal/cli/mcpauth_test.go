package cli

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn/internal/demo/demotest"
)

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestServeMCPSignIn signs an MCP client in on `serve --demo` by OAuth, in
// process: the 401 names the resource metadata, dynamic registration, the
// console's session and CSRF on the consent page, a read-only grant, the
// token accepted only on its MCP endpoint (API keys still work there), the
// grant listed and revoked through /v1/mcp-grants.
func TestServeMCPSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	srv := h.start(ctx, "", "serve", "--demo", "--addr", "127.0.0.1:0")
	srv.waitFor(t, pressCtrlCRE)
	out := srv.stdout.String()
	base, login, key := demoURLRE.FindStringSubmatch(out)[1], demoLoginRE.FindStringSubmatch(out)[1], demoKeyRE.FindStringSubmatch(out)[1]
	endpoint := base + "/mcp/demo"

	// Unauthenticated: 401 naming the protected resource metadata.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(`{}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	prmURL := base + "/.well-known/oauth-protected-resource/mcp/demo"
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `resource_metadata="`+prmURL+`"`) {
		t.Fatalf("unauthenticated MCP: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	status, body := demotest.Raw(t, "GET", prmURL, "", "")
	if status != 200 || !strings.Contains(body, `"resource":"`+endpoint+`"`) {
		t.Fatalf("PRM: %d %s", status, body)
	}
	// REST without a key keeps its plain challenge.
	if status, _ := demotest.Raw(t, "GET", base+"/v1/connections", "", ""); status != 401 {
		t.Errorf("REST without a key: %d", status)
	}

	cb := "http://127.0.0.1:9/cb"
	status, body = demotest.Raw(t, "POST", base+"/oauth/register", "", `{"client_name":"Go test","redirect_uris":["`+cb+`"]}`)
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if status != 201 || json.Unmarshal([]byte(body), &reg) != nil || reg.ClientID == "" {
		t.Fatalf("register: %d %s", status, body)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp, b.String()
	}
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {cb}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {endpoint}}
	if _, page := get(base + "/oauth/authorize?" + q.Encode()); !strings.Contains(page, "Sign in to deskconn first") {
		t.Fatalf("signed-out consent page: %s", page)
	}
	if resp, _ := get(login); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login link: %d", resp.StatusCode)
	}
	_, page := get(base + "/oauth/authorize?" + q.Encode())
	m := csrfRE.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "Go test") {
		t.Fatalf("consent page: %s", page)
	}
	form := url.Values{"csrf": {m[1]}, "decision": {"allow"}, "access": {"read"}}
	for k, v := range q {
		form[k] = v
	}
	preq, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/oauth/authorize", strings.NewReader(form.Encode()))
	preq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	presp, err := browser.Do(preq)
	if err != nil {
		t.Fatal(err)
	}
	presp.Body.Close()
	loc, _ := url.Parse(presp.Header.Get("Location"))
	if presp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("consent: %d %q", presp.StatusCode, presp.Header.Get("Location"))
	}
	tresp, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {cb}, "code_verifier": {verifier}, "client_id": {reg.ClientID}, "resource": {endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(tresp.Body).Decode(&tok)
	tresp.Body.Close()
	if err != nil || tresp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", tresp.StatusCode, err)
	}

	// The token lists only read tools on its endpoint.
	session := func(token string) (*mcp.ClientSession, error) {
		c := mcp.NewClient(&mcp.Implementation{Name: "cli-test", Version: "0"}, nil)
		return c.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: endpoint,
			HTTPClient: &http.Client{Transport: bearer{token, http.DefaultTransport}}}, nil)
	}
	cs, err := session(tok.AccessToken)
	if err != nil {
		t.Fatalf("MCP with the access token: %v", err)
	}
	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tools.Tools {
		if tl.Annotations == nil || !tl.Annotations.ReadOnlyHint {
			t.Errorf("a read-only grant lists %s", tl.Name)
		}
	}
	if len(tools.Tools) == 0 {
		t.Error("no tools listed")
	}
	cs.Close()
	// Not on REST.
	if status, _ := demotest.Raw(t, "GET", base+"/v1/connections", tok.AccessToken, ""); status != 401 {
		t.Errorf("access token on REST: %d, want 401", status)
	}
	// API keys still work on MCP.
	if cs, err := session(key); err != nil {
		t.Errorf("MCP with the API key: %v", err)
	} else {
		cs.Close()
	}
	// The grant is listed beside API keys, and revoking it refuses the token.
	status, body = demotest.Raw(t, "GET", base+"/v1/mcp-grants", key, "")
	var grants struct {
		Grants []struct {
			ID         string `json:"id"`
			ClientName string `json:"clientName"`
			ReadOnly   bool   `json:"readOnly"`
		} `json:"grants"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &grants) != nil || len(grants.Grants) != 1 || grants.Grants[0].ClientName != "Go test" || !grants.Grants[0].ReadOnly {
		t.Fatalf("GET /v1/mcp-grants: %d %s", status, body)
	}
	if status, body := demotest.Raw(t, "DELETE", base+"/v1/mcp-grants/"+grants.Grants[0].ID, key, ""); status != 204 {
		t.Fatalf("DELETE grant: %d %s", status, body)
	}
	if _, err := session(tok.AccessToken); err == nil {
		t.Error("MCP with a revoked grant's token connected")
	}
	stop()
	srv.wait(t, 15*time.Second)
}
