package mcpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

func TestParseToolsets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"tickets", []string{"tickets"}, ""},
		{" tickets , conversations,,tickets ", []string{"tickets", "conversations"}, ""},
		{"tickets,ticket", nil, `unknown toolset "ticket": choose among tickets, conversations, customers, knowledge, agents, events, lookups`},
		{"Tickets", nil, `unknown toolset "Tickets"`},
	}
	for _, tt := range tests {
		got, err := ParseToolsets(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || deskconn.ErrorCode(err) != deskconn.CodeInvalid {
				t.Errorf("ParseToolsets(%q) error = %v, want invalid containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseToolsets(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestEveryActionHasAToolset checks that every deskconn action is in a
// toolset, so that toolset filters can reach it.
func TestEveryActionHasAToolset(t *testing.T) {
	t.Parallel()
	for _, a := range realRegistry().List() {
		if !slices.Contains(action.Toolsets, a.Toolset()) {
			t.Errorf("%s: toolset %q is not one of %q", a.Name(), a.Toolset(), action.Toolsets)
		}
	}
}

// wantTools is the registry's actions that opts serve, sorted.
func wantTools(opts Options) []string {
	var out []string
	for _, a := range realRegistry().List() {
		if (len(opts.Toolsets) == 0 || slices.Contains(opts.Toolsets, a.Toolset())) && (!opts.ReadOnly || a.Hints().ReadOnly) {
			out = append(out, a.Name())
		}
	}
	slices.Sort(out)
	return out
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tool := range res.Tools {
		out = append(out, tool.Name)
	}
	slices.Sort(out)
	return out
}

// TestToolsetsAndReadOnly checks over an in-memory session what New serves
// for each view, and that a write outside a read-only view cannot be
// called.
func TestToolsetsAndReadOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		has  []string // among the tools
		not  []string // not among the tools
	}{
		{"all", Options{}, []string{"create_ticket", "search_articles", "list_agents"}, nil},
		{"tickets and conversations", Options{Toolsets: []string{"tickets", "conversations"}},
			[]string{"create_ticket", "list_tickets", "reply_to_ticket", "list_ticket_conversations"}, []string{"search_contacts", "list_departments", "list_agents"}},
		{"read-only", Options{ReadOnly: true}, []string{"list_tickets", "get_ticket", "search_contacts", "list_departments"},
			[]string{"create_ticket", "update_ticket", "reply_to_ticket", "move_tickets_to_trash", "add_agent"}},
		{"lookups read-only", Options{Toolsets: []string{"lookups"}, ReadOnly: true}, []string{"list_departments", "list_organizations"}, []string{"list_tickets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newDeskEnv(t)
			opts := tt.opts
			cs := connect(t, New(realRegistry(), ConnectionResolver(env.conns(), "tenant-1", "demo"), &opts))
			got := toolNames(t, cs)
			if diff := cmp.Diff(wantTools(tt.opts), got); diff != "" {
				t.Errorf("tools (-want +got):\n%s", diff)
			}
			for _, name := range tt.has {
				if !slices.Contains(got, name) {
					t.Errorf("%s is not served", name)
				}
			}
			for _, name := range tt.not {
				if slices.Contains(got, name) {
					t.Errorf("%s is served", name)
				}
			}
			if tt.opts.ReadOnly {
				res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "update_ticket", Arguments: json.RawMessage(`{"ticketNumber":"101","payload":{"status":"Closed"}}`)})
				if err == nil {
					t.Fatalf("update_ticket in read-only mode = %+v, want a protocol error (unknown tool)", res)
				}
				if w := env.writes(); len(w) != 0 {
					t.Errorf("read-only mode wrote to Zoho: %q", w)
				}
			}
		})
	}
}

func TestNewPanicsOnUnknownToolset(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"ticket"`) {
			t.Errorf("recover() = %v, want a panic naming the toolset", r)
		}
	}()
	New(realRegistry(), errResolver(errBoom), &Options{Toolsets: []string{"ticket"}})
}

// TestHTTPToolsetsAndReadOnly checks the query of /mcp/{connection} chooses
// the tools, refuses bad values with a 400 naming them, and binds a session
// to the tools it was opened with.
func TestHTTPToolsetsAndReadOnly(t *testing.T) {
	t.Parallel()
	env, url := newHTTPServer(t)
	for _, tt := range []struct {
		query string
		opts  Options
	}{
		{"?toolsets=tickets,conversations&readonly=true", Options{Toolsets: []string{"tickets", "conversations"}, ReadOnly: true}},
		{"?toolsets=customers", Options{Toolsets: []string{"customers"}}},
		{"?readonly=1", Options{ReadOnly: true}},
		{"?readonly=false", Options{}},
		{"", Options{}},
	} {
		cs, err := httpSession(t, url+"/mcp/demo"+tt.query, "key-a")
		if err != nil {
			t.Fatalf("connect %s: %v", tt.query, err)
		}
		if diff := cmp.Diff(wantTools(tt.opts), toolNames(t, cs)); diff != "" {
			t.Errorf("tools of %q (-want +got):\n%s", tt.query, diff)
		}
		if tt.opts.ReadOnly {
			if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "update_ticket", Arguments: json.RawMessage(`{"ticketNumber":"101","payload":{"status":"Closed"}}`)}); err == nil {
				t.Errorf("update_ticket over %q succeeded, want a protocol error", tt.query)
			}
		}
	}
	if w := env.writes(); len(w) != 0 {
		t.Errorf("read-only sessions wrote to Zoho: %q", w)
	}

	for _, tt := range []struct{ query, want string }{
		{"?toolsets=tickets,bogus", `unknown toolset \"bogus\"`},
		{"?readonly=maybe", `readonly=\"maybe\" is not a boolean`},
	} {
		resp := rawPost(t, url+"/mcp/demo"+tt.query, "key-a", "", initializeBody)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte(tt.want)) {
			t.Errorf("%s: %d %s, want 400 containing %s", tt.query, resp.StatusCode, body, tt.want)
		}
	}

	// A session opened read-only stays read-only: the same session id
	// without the query is refused.
	resp := rawPost(t, url+"/mcp/demo?readonly=true", "key-a", "", initializeBody)
	resp.Body.Close()
	session := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || session == "" {
		t.Fatalf("initialize: %d, session %q", resp.StatusCode, session)
	}
	resp = rawPost(t, url+"/mcp/demo", "key-a", session, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("read-only session used without readonly: %d, want 403", resp.StatusCode)
	}
}
