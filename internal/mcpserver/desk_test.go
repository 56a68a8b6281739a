package mcpserver

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestToolsMatchRegistry checks tools/list is the registry: one tool per
// action, nothing else, each with the action's name, description, the lean
// view of its input schema, no output schema, and its hints.
func TestToolsMatchRegistry(t *testing.T) {
	t.Parallel()
	reg := realRegistry()
	cs := connect(t, New(reg, errResolver(errBoom), nil))
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	byName := map[string]*mcp.Tool{}
	for _, tool := range res.Tools {
		got = append(got, tool.Name)
		byName[tool.Name] = tool
	}
	for _, a := range reg.List() {
		want = append(want, a.Name())
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("tool names differ from the registry (-registry +tools):\n%s", diff)
	}
	for _, a := range reg.List() {
		tool := byName[a.Name()]
		if tool.Description != a.Description() {
			t.Errorf("%s: description = %q, want %q", a.Name(), tool.Description, a.Description())
		}
		if diff := cmp.Diff(asAny(t, leanInputSchema(a)), asAny(t, mustJSON(t, tool.InputSchema))); diff != "" {
			t.Errorf("%s: input schema differs from the lean view of the registry's:\n%s", a.Name(), diff)
		}
		if tool.OutputSchema != nil {
			t.Errorf("%s: tools/list carries an output schema", a.Name())
		}
		h := a.Hints()
		an := tool.Annotations
		destructive := an.DestructiveHint == nil || *an.DestructiveHint // MCP's default: true
		openWorld := an.OpenWorldHint == nil || *an.OpenWorldHint       // MCP's default: true
		if an.ReadOnlyHint != h.ReadOnly || an.IdempotentHint != h.Idempotent || (!h.ReadOnly && destructive != h.Destructive) || openWorld != h.OpenWorld {
			t.Errorf("%s: annotations %+v do not match hints %+v", a.Name(), an, h)
		}
	}
}

// TestToolsGolden pins tools/list (names, descriptions, schemas,
// annotations) so that any change to a tool shows as a diff in review.
// Regenerate with go test ./internal/mcpserver -update.
func TestToolsGolden(t *testing.T) {
	t.Parallel()
	cs := connect(t, New(realRegistry(), errResolver(errBoom), nil))
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(res.Tools, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "tools.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/mcpserver -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("tools/list differs from %s (-want +got); if intended, run go test ./internal/mcpserver -update:\n%s", path, diff)
	}
}

// validCalls holds one valid input per tool, run in this order against a
// fresh emulator. Every registry action must have one.
var validCalls = []struct{ tool, args string }{
	{"list_organizations", `{}`},
	{"list_departments", `{}`},
	{"list_teams", `{"orgId":"2389290"}`},
	{"list_products", `{}`},
	{"list_roles", `{}`},
	{"list_profiles", `{}`},
	{"search_contacts", `{"params":{"email":"carol@zylker-customer.com"}}`},
	{"search_tickets", `{"params":{"subject":"Unable to access account"}}`},
	{"find_agent_by_email", `{"email":"jane@zylker.com"}`},
	{"list_tickets", `{"params":{"limit":3}}`},
	{"get_ticket", `{"ticketId":"1892000000042032"}`},
	{"create_ticket", `{"payload":{"subject":"Printer on fire","departmentId":"1892000000006907","contactId":"1892000000042032","priority":"High"}}`},
	{"update_ticket", `{"ticketNumber":"101","payload":{"status":"Closed"}}`},
	{"create_ticket_attachment", `{"ticketId":"1892000000042033","fileName":"note.txt","fileData":"aGVsbG8gd29ybGQ="}`},
	{"list_ticket_attachments", `{"ticketId":"1892000000042033"}`},
	{"list_ticket_conversations", `{"ticketId":"1892000000042032","limit":3}`},
	{"get_ticket_thread", `{"ticketId":"1892000000042032","threadId":"1892000000090001"}`},
	{"list_support_addresses", `{}`},
	{"reply_to_ticket", `{"ticketId":"1892000000042032","content":"It is fixed.","confirm":true}`},
	{"draft_ticket_reply", `{"ticketId":"1892000000042032","content":"Draft for review"}`},
	{"update_ticket_draft", `{"ticketId":"1892000000042032","draftId":"1892000000090005","content":"Revised draft"}`},
	{"add_ticket_comment", `{"ticketId":"1892000000042032","content":"Checked the logs","mentions":["jane@zylker.com"]}`},
	{"list_ticket_comments", `{"ticketId":"1892000000042032"}`},
	{"update_ticket_comment", `{"ticketId":"1892000000042032","commentId":"1892000000092002","content":"Fix ships Friday","isPublic":true}`},
	{"delete_ticket_comment", `{"ticketId":"1892000000042032","commentId":"1892000000092002","confirm":true}`},
	{"list_ticket_tags", `{"ticketId":"1892000000042032"}`},
	{"add_ticket_tags", `{"ticketId":"1892000000042032","tags":["vip"]}`},
	{"remove_ticket_tags", `{"ticketId":"1892000000042032","tags":["vip"]}`},
	{"add_ticket_time_entry", `{"ticketId":"1892000000042032","duration":"25m","billable":true}`},
	{"list_ticket_time_entries", `{"ticketId":"1892000000042032"}`},
	{"get_ticket_history", `{"ticketId":"1892000000042032","limit":5}`},
	{"move_tickets_to_trash", `{"payload":{"ticketIds":["1892000000042034"]},"confirm":true}`},
	{"list_agents", `{"params":{"limit":5}}`},
	{"add_agent", `{"payload":{"emailId":"new.agent@zylker.com","lastName":"Agent","associatedDepartmentIds":["1892000000006907"],"rolePermissionType":"AgentPublic"}}`},
	{"deactivate_agent", `{"agentEmail":"jade.tywin@zylker.com","confirm":true}`},
	{"list_accounts", `{"params":{"limit":3}}`},
	{"search_accounts", `{"params":{"accountName":"Zylker*"}}`},
	{"create_account", `{"payload":{"accountName":"Wayne Enterprises","website":"https://wayne.example"}}`},
	{"get_account", `{"accountName":"Wayne Enterprises"}`},
	{"update_account", `{"accountName":"Wayne Enterprises","payload":{"phone":"+1 555 0007"}}`},
	{"create_contact", `{"payload":{"lastName":"Pennyworth","firstName":"Alfred","email":"alfred@wayne.example","accountName":"Wayne Enterprises"}}`},
	{"get_contact", `{"email":"alfred@wayne.example"}`},
	{"update_contact", `{"email":"alfred@wayne.example","payload":{"title":"Butler"}}`},
	{"list_account_contacts", `{"accountName":"Wayne Enterprises"}`},
	{"list_contacts", `{"params":{"limit":5,"sortBy":"-createdTime"}}`},
	{"list_contact_tickets", `{"email":"carol@zylker-customer.com","params":{"limit":3}}`},
	{"move_contacts_to_trash", `{"payload":{"emails":["alfred@wayne.example"]},"confirm":true}`},
	{"list_article_categories", `{}`},
	{"search_articles", `{"text":"printer wi-fi"}`},
	{"get_article", `{"articleId":"1892000000071003"}`},
	{"list_events", `{"after":0,"waitSeconds":0}`},
}

// TestEveryToolCallable calls every tool with a valid input against the
// emulator and checks the structured content against the action's output
// schema, and that the text carries the same JSON.
func TestEveryToolCallable(t *testing.T) {
	t.Parallel()
	env := newDeskEnv(t)
	reg := realRegistry()
	cs := connect(t, New(reg, ConnectionResolver(env.conns(), "tenant-1", "demo"), nil))
	seen := map[string]bool{}
	for _, c := range validCalls {
		seen[c.tool] = true
		res := call(t, cs, c.tool, c.args)
		out := mustSucceed(t, res)
		if err := reg.Lookup(c.tool).ValidateOutput(out); err != nil {
			t.Errorf("%s: structured content does not match the output schema: %v", c.tool, err)
		}
		if !strings.HasSuffix(text(t, res), string(out)) && !jsonEqual(t, lastLine(text(t, res)), out) {
			t.Errorf("%s: text does not end with the structured JSON:\n%s", c.tool, text(t, res))
		}
	}
	for _, a := range reg.List() {
		if !seen[a.Name()] {
			t.Errorf("tool %s has no entry in validCalls", a.Name())
		}
	}
}

func asAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return cmp.Equal(va, vb)
}

func lastLine(s string) []byte {
	return []byte(s[strings.LastIndexByte(s, '\n')+1:])
}

// TestDeskErrors checks the error results a model meets most, against the
// emulator with the real actions.
func TestDeskErrors(t *testing.T) {
	t.Parallel()
	env := newDeskEnv(t)
	cs := connect(t, New(realRegistry(), ConnectionResolver(env.conns(), "tenant-1", "demo"), nil))

	t.Run("validation lists every problem", func(t *testing.T) {
		body, txt := errorOf(t, call(t, cs, "create_ticket", `{"payload":{"priority":7,"contactId":"1892000000042032"}}`))
		if body.Code != deskconn.CodeInvalid {
			t.Fatalf("code = %s, want invalid: %s", body.Code, txt)
		}
		for _, p := range []string{"/payload/subject", "/payload/departmentId", "/payload/priority"} {
			if !slices.Contains(pointersOf(body), p) || !strings.Contains(txt, "- "+p) {
				t.Errorf("problem %s missing: %v\n%s", p, pointersOf(body), txt)
			}
		}
		if !strings.Contains(txt, "list_departments") {
			t.Errorf("text does not say where department ids come from:\n%s", txt)
		}
	})
	t.Run("destructive needs confirm", func(t *testing.T) {
		body, txt := errorOf(t, call(t, cs, "move_tickets_to_trash", `{"payload":{"ticketIds":["1892000000042035"]}}`))
		if body.Code != deskconn.CodeForbidden || !strings.Contains(txt, `"confirm": true`) || !strings.Contains(txt, "Nothing was changed.") {
			t.Errorf("confirm: %s\n%s", body.Code, txt)
		}
	})
	t.Run("not found", func(t *testing.T) {
		body, txt := errorOf(t, call(t, cs, "get_ticket", `{"ticketId":"1892000009999999"}`))
		if body.Code != deskconn.CodeNotFound {
			t.Errorf("code = %s, want not_found:\n%s", body.Code, txt)
		}
	})
	t.Run("ambiguous subject lists candidates", func(t *testing.T) {
		body, txt := errorOf(t, call(t, cs, "get_ticket", `{"ticketSubject":"Cannot log in to the portal"}`))
		if body.Code != deskconn.CodeAmbiguous || len(body.Candidates) != 2 {
			t.Fatalf("code %s with %d candidates, want ambiguous with 2:\n%s", body.Code, len(body.Candidates), txt)
		}
		for _, c := range body.Candidates {
			if !strings.Contains(txt, "- id "+c.ID+":") {
				t.Errorf("text does not list candidate %s:\n%s", c.ID, txt)
			}
		}
	})
	t.Run("dry run sends nothing", func(t *testing.T) {
		res := call(t, cs, "create_ticket", `{"payload":{"subject":"s","departmentId":"1892000000006907","contactId":"1892000000042032"},"dryRun":true}`)
		out := mustSucceed(t, res)
		if !bytes.Contains(out, []byte(`"dryRun":true`)) || !strings.HasPrefix(text(t, res), "Dry run of create_ticket") {
			t.Errorf("dry run result: %s", text(t, res))
		}
	})
	if w := env.writes(); len(w) != 0 {
		t.Errorf("error cases wrote to Zoho Desk: %v", w)
	}
}

// TestReauthIsToolError checks a dead connection reaches the model as a tool
// error that says to reconnect.
func TestReauthIsToolError(t *testing.T) {
	t.Parallel()
	env := newDeskEnv(t)
	env.conn.Status = store.StatusNeedsReauth
	cs := connect(t, New(realRegistry(), ConnectionResolver(env.conns(), "tenant-1", "demo"), nil))
	body, txt := errorOf(t, call(t, cs, "list_tickets", `{}`))
	if body.Code != deskconn.CodeNeedsReauth || !strings.Contains(txt, "reconnected") {
		t.Errorf("needs_reauth: %s\n%s", body.Code, txt)
	}
}
