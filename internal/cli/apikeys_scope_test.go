package cli

import (
	"net/http"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/store"
)

// TestReadOnlyKeyCannotWrite: a key made with `apikeys create --read-only
// --connection demo` reads over REST and MCP, and every write is refused
// naming the read-only scope; `apikeys list` shows the scope.
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
	if status, body := call(t, "POST", base+"list_agents", key, agents); status != http.StatusOK {
		t.Errorf("REST read: %d %s", status, body)
	}
	if status, body := call(t, "POST", base+"update_ticket", key, update); status != http.StatusForbidden || !strings.Contains(body, "this API key is read-only") {
		t.Errorf("REST write: %d %s", status, body)
	}
	cs := mcpSession(t, cd, key)
	if isErr, text := mcpCall(t, cs, "list_agents", agents); isErr {
		t.Errorf("MCP read failed: %s", text)
	}
	for _, tool := range []struct{ name, args string }{
		{"update_ticket", update},
		{"add_ticket_comment", `{"orgId":"2389290","ticketId":"1892000000042032","content":"hi"}`},
	} {
		if isErr, text := mcpCall(t, cs, tool.name, tool.args); !isErr || !strings.Contains(text, "this API key is read-only") {
			t.Errorf("MCP %s: error %v: %s", tool.name, isErr, text)
		}
	}
	// The ticket was not changed.
	status, body := call(t, "POST", base+"get_ticket", key, `{"orgId":"2389290","ticketId":"1892000000042032"}`)
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
	status, body := call(t, "POST", cd.d.URL+"/mcp/demo", key, initialize)
	if status != http.StatusForbidden || !strings.Contains(body, `limited to connection \"other\"`) {
		t.Errorf("MCP on another connection: %d %s", status, body)
	}
	status, body = call(t, "POST", cd.d.URL+"/v1/connections/demo/actions/list_agents", key, `{"orgId":"2389290"}`)
	if status != http.StatusForbidden || !strings.Contains(body, `limited to connection \"other\"`) {
		t.Errorf("REST on another connection: %d %s", status, body)
	}
}
