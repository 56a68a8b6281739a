package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/demo/demotest"
	"github.com/deskconn/deskconn/internal/store"
)

// TestReadOnlyKeyCannotWrite: a key made with `apikeys create --read-only
// --connection demo` reads over REST and MCP; a REST write is refused
// naming the read-only scope, and MCP offers it no write tool; `apikeys
// list` shows the scope.
func TestReadOnlyKeyCannotWrite(t *testing.T) {
	t.Parallel()
	cd := startServedDemo(t)
	code, stdout, stderr := cd.run(t, "", "apikeys", "create", "agent", "--tenant", "demo", "--read-only", "--connection", "demo", "--expires", "30d")
	key := strings.TrimSpace(stdout)
	if code != 0 || apikey.Check(key) != nil {
		t.Fatalf("create: exit %d: %q %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "read-only; connection demo") {
		t.Errorf("create does not say the scope: %s", stderr)
	}
	code, list, _ := cd.run(t, "", "apikeys", "list", "--tenant", "demo")
	if code != 0 || !strings.Contains(list, "read-only; connection demo") || !strings.Contains(list, "full") {
		t.Errorf("list does not show the scopes (the demo key is full):\n%s", list)
	}

	agents := `{"orgId":"2389290"}`
	update := `{"orgId":"2389290","ticketId":"1892000000042032","payload":{"priority":"Low"}}`
	base := cd.d.URL + "/v1/connections/demo/actions/"
	if status, body := demotest.Raw(t, "POST", base+"list_agents", key, agents); status != http.StatusOK {
		t.Errorf("REST read: %d %s", status, body)
	}
	if status, body := demotest.Raw(t, "POST", base+"update_ticket", key, update); status != http.StatusForbidden || !strings.Contains(body, "this API key is read-only") {
		t.Errorf("REST write: %d %s", status, body)
	}
	cs := mcpSession(t, cd, key)
	if isErr, text := mcpCall(t, cs, "list_agents", agents); isErr {
		t.Errorf("MCP read failed: %s", text)
	}
	// Over MCP a read-only key sees only read tools: the write tools are
	// not listed, and calling one is refused.
	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if tool.Annotations == nil || !tool.Annotations.ReadOnlyHint {
			t.Errorf("a read-only key is offered the write tool %s", tool.Name)
		}
	}
	for _, tool := range []struct{ name, args string }{
		{"update_ticket", update},
		{"add_ticket_comment", `{"orgId":"2389290","ticketId":"1892000000042032","content":"hi"}`},
	} {
		if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: tool.name, Arguments: json.RawMessage(tool.args)}); err == nil || !strings.Contains(err.Error(), "unknown tool") {
			t.Errorf("MCP %s with a read-only key: %v, want it refused as an unknown tool", tool.name, err)
		}
	}
	// The ticket was not changed.
	status, body := demotest.Raw(t, "POST", base+"get_ticket", key, `{"orgId":"2389290","ticketId":"1892000000042032"}`)
	if status != http.StatusOK || strings.Contains(body, `"priority":"Low"`) {
		t.Errorf("the ticket after refused writes: %d %s", status, body)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--actions", "get_tikcet"}, `--actions: no action "get_tikcet"`},
		{[]string{"--read-only", "--actions", "get_ticket,update_ticket"}, "update_ticket changes data"},
		{[]string{"--expires", "soon"}, `--expires "soon"`},
		{[]string{"--connection", "nope"}, `--connection: no connection "nope"`},
	} {
		code, _, stderr := cd.run(t, "", append([]string{"apikeys", "create", "bad", "--tenant", "demo"}, tc.args...)...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestConnectionKeyRefusedElsewhere: a key limited to one connection
// cannot open MCP or call actions on another.
func TestConnectionKeyRefusedElsewhere(t *testing.T) {
	t.Parallel()
	cd := startServedDemo(t)
	other := &store.Connection{TenantID: cd.d.TenantID, Name: "other", ClientID: "1000.OTHER", Status: store.StatusPending}
	if err := cd.d.Store.CreateConnection(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := cd.run(t, "", "apikeys", "create", "other-only", "--tenant", "demo", "--connection", "other")
	key := strings.TrimSpace(stdout)
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`
	status, body := demotest.Raw(t, "POST", cd.d.URL+"/mcp/demo", key, initialize)
	if status != http.StatusForbidden || !strings.Contains(body, `limited to connection \"other\"`) {
		t.Errorf("MCP on another connection: %d %s", status, body)
	}
	status, body = demotest.Raw(t, "POST", cd.d.URL+"/v1/connections/demo/actions/list_agents", key, `{"orgId":"2389290"}`)
	if status != http.StatusForbidden || !strings.Contains(body, `limited to connection \"other\"`) {
		t.Errorf("REST on another connection: %d %s", status, body)
	}
}
