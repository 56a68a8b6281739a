package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestMCPToolsetsAndReadOnly runs `deskconn mcp` over stdio with
// --toolsets and --read-only and checks tools/list and that a write is not
// callable; an unknown toolset is refused before serving.
func TestMCPToolsetsAndReadOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.addConnected("support")

	res := h.run("mcp", "--connection", "support", "--toolsets", "tickets,ticket")
	if res.code == 0 || !strings.Contains(res.stderr, "--toolsets") || !strings.Contains(res.stderr, `unknown toolset "ticket": choose among tickets, conversations`) {
		t.Fatalf("mcp --toolsets tickets,ticket: exit %d, stderr %q", res.code, res.stderr)
	}

	// Stdin stays open until every reply is read: the server ends at EOF.
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		args := []string{"mcp", "--connection", "support", "--toolsets", "tickets, conversations", "--read-only", "--data-dir", h.dir}
		done <- Run(h.ctx(t.Context()), args, inR, outW, io.Discard, h.getenv)
		outW.Close()
	}()
	replies := map[float64]json.RawMessage{}
	sc := bufio.NewScanner(outR)
	sc.Buffer(nil, 1<<20)
	for i, req := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"cli-test","version":"0"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"update_ticket","arguments":{"ticketNumber":"101","payload":{"status":"Closed"}}}}`,
	} {
		if _, err := io.WriteString(inW, req+"\n"); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			continue // a notification has no reply
		}
		if !sc.Scan() {
			t.Fatalf("no reply to %s: %v", req, sc.Err())
		}
		var m struct {
			ID     float64         `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line %q: %v", sc.Text(), err)
		}
		if m.Error != nil {
			replies[m.ID] = m.Error
		} else {
			replies[m.ID] = m.Result
		}
	}
	inW.Close()
	go io.Copy(io.Discard, outR) // drain stdout until the server exits
	if code := <-done; code != 0 {
		t.Errorf("mcp exited %d at end of input", code)
	}
	var list struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(replies[2], &list); err != nil {
		t.Fatalf("tools/list reply %s: %v", replies[2], err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	for _, want := range []string{"list_tickets", "get_ticket", "search_tickets", "list_ticket_conversations"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %s: %q", want, names)
		}
	}
	for _, not := range []string{"update_ticket", "create_ticket", "reply_to_ticket", "search_contacts", "list_departments"} {
		if slices.Contains(names, not) {
			t.Errorf("tools/list has %s: %q", not, names)
		}
	}
	if !strings.Contains(string(replies[3]), "update_ticket") || !strings.Contains(string(replies[3]), `"code"`) {
		t.Errorf("tools/call update_ticket in read-only mode: %s, want a JSON-RPC error", replies[3])
	}
}
