package deskactions

import (
	"slices"
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
)

func TestAllNames(t *testing.T) {
	want := []string{
		"create_ticket", "list_tickets", "get_ticket", "update_ticket", "move_tickets_to_trash",
		"create_ticket_attachment", "list_ticket_attachments", "add_agent", "list_agents", "deactivate_agent",
		"find_agent_by_email", "list_organizations", "list_departments", "list_teams", "list_products",
		"list_roles", "list_profiles", "search_tickets", "search_contacts", "list_events",
		// Working a ticket (issue 11).
		"list_ticket_conversations", "get_ticket_thread", "list_support_addresses", "reply_to_ticket",
		"draft_ticket_reply", "update_ticket_draft", "add_ticket_comment", "list_ticket_comments",
		"update_ticket_comment", "delete_ticket_comment", "list_ticket_tags", "add_ticket_tags",
		"remove_ticket_tags", "add_ticket_time_entry", "list_ticket_time_entries", "get_ticket_history",
		"create_contact", "get_contact", "update_contact", "list_contacts", "move_contacts_to_trash", "list_contact_tickets",
		"create_account", "get_account", "update_account", "list_accounts", "search_accounts", "list_account_contacts",
		"search_articles", "get_article", "list_article_categories",
	}
	var got []string
	for _, a := range All(Deps{}) {
		got = append(got, a.Name())
		if len(a.Description()) < 80 {
			t.Errorf("%s: description too short for a model: %q", a.Name(), a.Description())
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("actions = %v\nwant %v", got, want)
	}
}

// TestSpecSamples runs every sample input of the connector spec, unchanged,
// through the registry against the emulator, and checks that the output
// carries what the spec's "Response" section promises.
func TestSpecSamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file, action string
		check        func(t *testing.T, out map[string]any)
	}{
		{"create_ticket.json", "create_ticket", func(t *testing.T, out map[string]any) {
			for _, k := range []string{"id", "ticketNumber", "webUrl", "createdTime"} {
				if str(out, k) == "" {
					t.Errorf("output lacks %s: %v", k, out)
				}
			}
			if got := str(out, "ticket", "subject"); got != "Unable to access account" {
				t.Errorf("ticket.subject = %q", got)
			}
			if got := str(out, "ticket", "priority"); got != "High" {
				t.Errorf("ticket.priority = %q", got)
			}
		}},
		{"list_tickets.json", "list_tickets", func(t *testing.T, out map[string]any) {
			data, _ := out["data"].([]any)
			if len(data) == 0 || len(data) > 50 {
				t.Fatalf("got %d rows, want 1..50", len(data))
			}
			if out["hasMore"] == nil || out["from"] != float64(0) || out["limit"] != float64(50) {
				t.Errorf("paging fields: from=%v limit=%v hasMore=%v", out["from"], out["limit"], out["hasMore"])
			}
			var prev string
			for i, r := range data {
				row := r.(map[string]any)
				for _, k := range []string{"id", "ticketNumber", "subject", "status", "createdTime", "departmentId"} {
					if str(row, k) == "" {
						t.Errorf("row %d lacks %s: %v", i, k, row)
					}
				}
				if row["status"] != "Open" {
					t.Errorf("row %d status = %v, want Open", i, row["status"])
				}
				if _, ok := row["contact"]; !ok {
					t.Errorf("row %d lacks the included contact", i)
				}
				if ct := str(row, "createdTime"); prev != "" && ct > prev {
					t.Errorf("rows not newest first: %s after %s", ct, prev)
				}
				prev = str(row, "createdTime")
			}
		}},
		{"get_ticket.json", "get_ticket", func(t *testing.T, out map[string]any) {
			if str(out, "id") != "1892000000042032" || str(out, "ticketNumber") == "" || str(out, "subject") == "" {
				t.Errorf("ticket id/number/subject missing: %v", out)
			}
			for _, k := range []string{"contact", "assignee", "department"} {
				if _, ok := out["ticket"].(map[string]any)[k]; !ok {
					t.Errorf("ticket lacks included %s", k)
				}
			}
			for _, k := range []string{"description", "status", "createdTime", "modifiedTime"} {
				if _, ok := out["ticket"].(map[string]any)[k]; !ok {
					t.Errorf("ticket lacks %s", k)
				}
			}
			if str(out, "descriptionText") == "" || strings.Contains(str(out, "descriptionText"), "<") {
				t.Errorf("descriptionText = %q, want plain text", str(out, "descriptionText"))
			}
		}},
		{"update_ticket.status.json", "update_ticket", func(t *testing.T, out map[string]any) {
			if str(out, "ticket", "status") != "In Progress" || str(out, "webUrl") == "" || str(out, "modifiedTime") == "" {
				t.Errorf("update output: %v", out)
			}
			if out["closureNotificationEnabled"] != true {
				t.Errorf("closureNotificationEnabled = %v", out["closureNotificationEnabled"])
			}
		}},
		{"update_ticket.assignment.json", "update_ticket", func(t *testing.T, out map[string]any) {
			if str(out, "ticket", "assigneeId") != "1892000000006907" || str(out, "ticket", "priority") != "High" {
				t.Errorf("update output: %v", out["ticket"])
			}
		}},
		{"update_ticket.resolution.json", "update_ticket", func(t *testing.T, out map[string]any) {
			if str(out, "ticket", "status") != "Closed" || !strings.Contains(str(out, "ticket", "resolution"), "resetting") {
				t.Errorf("update output: %v", out["ticket"])
			}
		}},
		{"move_tickets_to_trash.json", "move_tickets_to_trash", func(t *testing.T, out map[string]any) {
			if out["success"] != true || len(out["moved"].([]any)) != 3 || str(out, "movedAt") == "" {
				t.Errorf("trash output: %v", out)
			}
		}},
		{"list_ticket_attachments.json", "list_ticket_attachments", func(t *testing.T, out map[string]any) {
			if _, ok := out["data"].([]any); !ok || out["limit"] != float64(20) {
				t.Errorf("attachments output: %v", out)
			}
		}},
		{"add_agent.deobfuscated.json", "add_agent", func(t *testing.T, out map[string]any) {
			if str(out, "id") == "" || str(out, "emailId") == "" || str(out, "name") != "John Smith" || str(out, "status") == "" {
				t.Errorf("agent output: %v", out)
			}
			if len(out["associatedDepartmentIds"].([]any)) != 2 || str(out, "rolePermissionType") != "AgentPublic" {
				t.Errorf("agent departments/role: %v", out)
			}
		}},
		{"list_agents.json", "list_agents", func(t *testing.T, out map[string]any) {
			data, _ := out["data"].([]any)
			if len(data) == 0 {
				t.Fatal("no agents")
			}
			for i, r := range data {
				row := r.(map[string]any)
				if row["status"] != "ACTIVE" || str(row, "emailId") == "" || str(row, "id") == "" {
					t.Errorf("row %d: %v", i, row)
				}
			}
		}},
		{"deactivate_agent.json", "deactivate_agent", func(t *testing.T, out map[string]any) {
			if out["deactivated"] != true || str(out, "id") != "1892000000006907" || str(out, "status") != "DISABLED" || str(out, "deactivatedAt") == "" {
				t.Errorf("deactivate output: %v", out)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, Deps{}, emulator.Options{})
			out := env.mustInvoke(t, tc.action, specSample(t, tc.file))
			tc.check(t, out)
		})
	}
}

// TestSpecAddAgentSample covers the spec's add_agent sample, whose emailId is
// the literal text "[email protected]" (the page it was copied from hid
// the address). deskconn accepts it unchanged: it passes local validation and
// dry-runs to the exact request. Zoho Desk (and the emulator, faithfully)
// rejects that text as an email address, and the rejection comes back as a
// field error on the input's own pointer. The same sample with a real address
// (testdata/spec/add_agent.deobfuscated.json) succeeds in TestSpecSamples.
func TestSpecAddAgentSample(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	sample := specSample(t, "add_agent.json")
	dry := env.mustInvoke(t, "add_agent", strings.Replace(sample, "{", `{"dryRun": true,`, 1))
	reqs := dry["requests"].([]any)
	body := reqs[0].(map[string]any)["body"].(map[string]any)
	if body["emailId"] != "[email protected]" || body["rolePermissionType"] != "AgentPublic" {
		t.Fatalf("dry-run body = %v", body)
	}
	_, err := env.invoke(t, "add_agent", sample)
	de := domainErr(t, err, deskconn.CodeInvalid)
	if got := pointers(de); !slices.Equal(got, []string{"/payload/emailId"}) {
		t.Fatalf("pointers = %v, want [/payload/emailId]", got)
	}
}
