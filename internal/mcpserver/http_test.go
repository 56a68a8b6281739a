package mcpserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn/internal/store"
)

// Test API keys: key → tenant. The handler under test trusts this mapping
// as it trusts the restapi middleware in production.
var testKeys = map[string]struct{ tenant, keyID string }{
	"key-a":  {"tenant-1", "ak-1"},
	"key-a2": {"tenant-1", "ak-2"},
	"key-b":  {"tenant-2", "bk-1"},
}

func testIdentity(r *http.Request) (string, string) {
	k, ok := testKeys[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		return "", ""
	}
	return k.tenant, k.keyID
}

// newHTTPServer serves HTTPHandler on loopback for two tenants: tenant-1
// owns "demo" and "other", tenant-2 owns "b-demo".
func newHTTPServer(t *testing.T) (*deskEnv, string) {
	t.Helper()
	env := newDeskEnv(t)
	conns := env.conns()
	conns.conns = append(conns.conns,
		&store.Connection{ID: "conn-2", TenantID: "tenant-1", Name: "other", Status: store.StatusActive},
		&store.Connection{ID: "conn-3", TenantID: "tenant-2", Name: "b-demo", Status: store.StatusActive})
	mux := http.NewServeMux()
	mux.Handle(HTTPPattern, HTTPHandler(realRegistry(), conns, &HTTPOptions{Identity: testIdentity}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return env, srv.URL
}

// bearer adds an Authorization header to every request.
type bearer struct {
	key  string
	base http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.base.RoundTrip(r)
}

func httpSession(t *testing.T, url, key string) (*mcp.ClientSession, error) {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpserver-http-test", Version: "v0"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{
		Endpoint:   url,
		HTTPClient: &http.Client{Transport: bearer{key: key, base: http.DefaultTransport}},
		MaxRetries: -1,
	}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

func TestHTTPCallsTools(t *testing.T) {
	t.Parallel()
	_, url := newHTTPServer(t)
	for _, path := range []string{"/mcp/demo", "/mcp/conn-1"} { // by name and by id
		cs, err := httpSession(t, url+path, "key-a")
		if err != nil {
			t.Fatalf("connect %s: %v", path, err)
		}
		tools, err := cs.ListTools(t.Context(), nil)
		if err != nil || len(tools.Tools) != len(realRegistry().List()) {
			t.Fatalf("ListTools on %s: %v (%d tools)", path, err, len(tools.Tools))
		}
		res := call(t, cs, "get_ticket", `{"ticketNumber":"101"}`)
		if out := mustSucceed(t, res); !strings.Contains(string(out), `"ticketNumber":"101"`) {
			t.Errorf("get_ticket over HTTP: %s", out)
		}
	}
}

// TestHTTPCallSeesConnectionChange: every HTTP request reads its
// connection (its tool call reuses that read), so a connection that needs
// reconnecting refuses the very next call of an open session.
func TestHTTPCallSeesConnectionChange(t *testing.T) {
	t.Parallel()
	env, url := newHTTPServer(t)
	cs, err := httpSession(t, url+"/mcp/demo", "key-a")
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, call(t, cs, "get_ticket", `{"ticketNumber":"101"}`))
	env.conn.Status = store.StatusNeedsReauth // no request is in flight
	res := call(t, cs, "get_ticket", `{"ticketNumber":"101"}`)
	if !res.IsError || !strings.Contains(text(t, res), "reconnected") {
		t.Fatalf("call after the connection needs reconnecting = %+v, want needs_reauth", res)
	}
}

func TestHTTPTenantIsolation(t *testing.T) {
	t.Parallel()
	_, url := newHTTPServer(t)
	tests := []struct {
		name, path, key string
		want            int
	}{
		{"other tenant's connection by name", "/mcp/demo", "key-b", http.StatusNotFound},
		{"other tenant's connection by id", "/mcp/conn-1", "key-b", http.StatusNotFound},
		{"missing connection", "/mcp/nope", "key-a", http.StatusNotFound},
		{"no key", "/mcp/demo", "", http.StatusUnauthorized},
		{"own connection", "/mcp/b-demo", "key-b", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := rawPost(t, url+tt.path, tt.key, "", initializeBody)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want != http.StatusNotFound {
				return
			}
			// Another tenant's connection answers exactly as one that
			// does not exist.
			name := strings.TrimPrefix(tt.path, "/mcp/")
			resp = rawPost(t, url+"/mcp/zz-missing", tt.key, "", initializeBody)
			missing, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := strings.ReplaceAll(string(missing), "zz-missing", name); string(body) != want {
				t.Errorf("404 differs from a missing connection's:\n got %s\nwant %s", body, want)
			}
		})
	}
	// The Go SDK client fails to connect, too.
	if _, err := httpSession(t, url+"/mcp/demo", "key-b"); err == nil {
		t.Error("tenant-2's key connected to tenant-1's connection")
	}
}

// TestHTTPSessionBoundToKeyAndConnection checks a session id cannot be
// reused with another API key of the same tenant, nor under another
// connection's path.
func TestHTTPSessionBoundToKeyAndConnection(t *testing.T) {
	t.Parallel()
	_, url := newHTTPServer(t)
	resp := rawPost(t, url+"/mcp/demo", "key-a", "", initializeBody)
	resp.Body.Close()
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || sid == "" {
		t.Fatalf("initialize: status %d, session %q", resp.StatusCode, sid)
	}
	tests := []struct {
		name, path, key string
		want            int
	}{
		{"same key and connection", "/mcp/demo", "key-a", http.StatusOK},
		{"another key of the tenant", "/mcp/demo", "key-a2", http.StatusForbidden},
		{"another connection of the tenant", "/mcp/other", "key-a", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := rawPost(t, url+tt.path, tt.key, sid, `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
		})
	}
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`

// rawPost posts body to the MCP endpoint at url as a client that speaks
// JSON-RPC itself, with key (if any) and session (if any).
func rawPost(t testing.TB, url, key, session, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// postMCP posts body to the MCP endpoint with key and extra headers.
func postMCP(t *testing.T, url, key string, body io.Reader, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestHTTPOrigin checks the DNS-rebinding protection: a browser Origin
// other than the allowed ones is refused with 403; the allowed origin (in
// any spelling of it) and requests without Origin pass.
func TestHTTPOrigin(t *testing.T) {
	t.Parallel()
	env := newDeskEnv(t)
	mux := http.NewServeMux()
	mux.Handle(HTTPPattern, HTTPHandler(realRegistry(), env.conns(), &HTTPOptions{Identity: testIdentity,
		AllowedOrigins: []string{"https://deskconn.example/"}}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		origin string
		status int
	}{
		{"", http.StatusOK},
		{"https://deskconn.example", http.StatusOK},
		{"HTTPS://DeskConn.Example:443", http.StatusOK},
		{"https://evil.example", http.StatusForbidden},
		{"http://deskconn.example", http.StatusForbidden},
		{"https://deskconn.example:8443", http.StatusForbidden},
		{"null", http.StatusForbidden},
		{srv.URL, http.StatusForbidden}, // the listener is not the public base URL
	} {
		h := map[string]string{}
		if tc.origin != "" {
			h["Origin"] = tc.origin
		}
		if resp := postMCP(t, srv.URL+"/mcp/demo", "key-a", strings.NewReader(initializeBody), h); resp.StatusCode != tc.status {
			t.Errorf("Origin %q: %d, want %d", tc.origin, resp.StatusCode, tc.status)
		}
	}
}

// TestHTTPBodyLimit checks that MCP over HTTP takes a message as large as a
// 20 MiB attachment in base64 needs, and refuses a larger one with 413.
func TestHTTPBodyLimit(t *testing.T) {
	t.Parallel()
	_, base := newHTTPServer(t)
	if MaxMessageBytes < 27_962_028+512 {
		t.Fatalf("MaxMessageBytes = %d: smaller than 20 MiB in base64 plus an envelope", MaxMessageBytes)
	}
	body := func(n int64) io.Reader {
		head := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"`
		tail := `"}}`
		return io.MultiReader(strings.NewReader(head), io.LimitReader(repeatA{}, n-int64(len(head)+len(tail))), strings.NewReader(tail))
	}
	// 27 MiB: over the SDK's default 4 MiB, within the limit; the SDK then
	// answers for the message itself (no session yet), never 413.
	if resp := postMCP(t, base+"/mcp/demo", "key-a", body(27<<20), nil); resp.StatusCode == http.StatusRequestEntityTooLarge {
		t.Errorf("27 MiB message: 413, want it read")
	}
	if resp := postMCP(t, base+"/mcp/demo", "key-a", body(MaxMessageBytes+1), nil); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("message over MaxMessageBytes: %d, want 413", resp.StatusCode)
	}
}

// repeatA reads as an endless run of 'a'.
type repeatA struct{}

func (repeatA) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}
