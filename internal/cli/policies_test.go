package cli

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/demo/demotest"
	"github.com/deskconn/deskconn/internal/seal"
)

// startServedDemo is startCLIDemo with every route serve mounts (actions
// and MCP over HTTP), for tests that check the CLI's changes reach REST
// and MCP.
func startServedDemo(t *testing.T) *cliDemo {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	secret := base64.StdEncoding.EncodeToString(raw)
	kr, err := seal.ParseKeyring(secret)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d, err := demo.Start(t.Context(), demo.Options{DataDir: dir, Addr: "127.0.0.1:0", Keyring: kr, Mount: mountRoutes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return &cliDemo{d: d, dir: dir, secret: secret}
}

// bearerTransport adds an API key to every request.
type bearerTransport struct{ key string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}

// mcpSession opens an MCP session over HTTP on the demo connection with key.
func mcpSession(t *testing.T, cd *cliDemo, key string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "cli-test", Version: "v0"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{
		Endpoint:   cd.d.URL + "/mcp/" + cd.d.Connection,
		HTTPClient: &http.Client{Transport: bearerTransport{key: key}},
		MaxRetries: -1,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// mcpCall calls a tool and returns whether it failed and its text.
func mcpCall(t *testing.T, cs *mcp.ClientSession, name, args string) (isError bool, text string) {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: json.RawMessage(args)})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return res.IsError, b.String()
}

func TestPoliciesCommand(t *testing.T) {
	t.Parallel()
	cd := startServedDemo(t)
	key := cd.d.APIKey.Reveal()
	agents := `{"orgId":"2389290"}`
	restStatus := func(action, body string) (int, string) {
		return demotest.Raw(t, "POST", cd.d.URL+"/v1/connections/demo/actions/"+action, key, body)
	}

	code, out, stderr := cd.run(t, "", "policies", "list", "demo", "--tenant", "demo")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"list_agents", "reply_to_ticket", "move_tickets_to_trash"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %s:\n%s", want, out)
		}
	}
	code, out, _ = cd.run(t, "", "policies", "list", "demo", "--tenant", "demo", "--json")
	var listed struct {
		Connection string
		Policies   []struct {
			Action, Kind, Policy, Default string
			Set                           bool
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || listed.Connection != "demo" {
		t.Fatalf("list --json: exit %d: %s", code, out)
	}
	defaults := map[string]string{}
	for _, p := range listed.Policies {
		defaults[p.Action] = p.Kind + "/" + p.Policy
	}
	for name, want := range map[string]string{
		"list_agents": "read/allow", "create_ticket": "write/allow",
		"reply_to_ticket": "destructive/confirm", "move_tickets_to_trash": "destructive/confirm",
	} {
		if defaults[name] != want {
			t.Errorf("%s = %s, want %s", name, defaults[name], want)
		}
	}

	// Deny a read: refused over REST, MCP and the CLI's own run.
	if code, out, stderr := cd.run(t, "", "policies", "set", "demo", "list_agents", "deny", "--tenant", "demo"); code != 0 || !strings.Contains(out, "list_agents on connection demo: deny") {
		t.Fatalf("set: exit %d: %s %s", code, out, stderr)
	}
	if status, body := restStatus("list_agents", agents); status != http.StatusForbidden || !strings.Contains(body, "policy is deny") {
		t.Errorf("REST after deny: %d %s", status, body)
	}
	cs := mcpSession(t, cd, key)
	if isErr, text := mcpCall(t, cs, "list_agents", agents); !isErr || !strings.Contains(text, "policy is deny") {
		t.Errorf("MCP after deny: error %v: %s", isErr, text)
	}
	if code, _, stderr := cd.run(t, agents, "run", "list_agents", "--tenant", "demo", "--input", "-"); code != 5 || !strings.Contains(stderr, "deny") {
		t.Errorf("run after deny: exit %d: %s", code, stderr)
	}

	// Back to the default.
	if code, out, _ := cd.run(t, "", "policies", "set", "demo", "list_agents", "default", "--tenant", "demo"); code != 0 || !strings.Contains(out, "allow (the default)") {
		t.Fatalf("set default: exit %d: %s", code, out)
	}
	if status, body := restStatus("list_agents", agents); status != http.StatusOK {
		t.Errorf("REST after reset: %d %s", status, body)
	}

	// The read-only preset refuses writes, even dry runs, and keeps reads.
	if code, _, stderr := cd.run(t, "", "policies", "preset", "demo", "read-only", "--tenant", "demo"); code != 0 {
		t.Fatalf("preset: exit %d: %s", code, stderr)
	}
	update := `{"orgId":"2389290","ticketId":"1892000000042032","payload":{"priority":"Low"},"dryRun":true}`
	if status, body := restStatus("update_ticket", update); status != http.StatusForbidden {
		t.Errorf("REST write under read-only: %d %s", status, body)
	}
	if isErr, text := mcpCall(t, cs, "update_ticket", update); !isErr || !strings.Contains(text, "deny") {
		t.Errorf("MCP write under read-only: error %v: %s", isErr, text)
	}
	if status, body := restStatus("list_agents", agents); status != http.StatusOK {
		t.Errorf("REST read under read-only: %d %s", status, body)
	}

	// Mistakes name the argument to change.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"set", "demo", "list_agnets", "deny"}, `ACTION "list_agnets"`},
		{[]string{"set", "demo", "list_agents", "block"}, `POLICY "block": use allow, deny, confirm or default`},
		{[]string{"preset", "demo", "everything"}, `unknown preset "everything"`},
		{[]string{"set", "demo", "list_agents", "confirm"}, "list_agents only reads, so there is nothing to confirm"},
		{[]string{"set", "nope", "list_agents", "deny"}, `no connection "nope"`},
	} {
		code, _, stderr := cd.run(t, "", append(append([]string{"policies"}, tc.args...), "--tenant", "demo")...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
}
