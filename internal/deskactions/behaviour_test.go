package deskactions

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
)

func TestTicketSelectors(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	byID := env.mustInvoke(t, "get_ticket", `{"ticketId":"1892000000042032","orgId":"2389290"}`)
	number := str(byID, "ticketNumber")

	t.Run("by number", func(t *testing.T) {
		out := env.mustInvoke(t, "get_ticket", `{"orgId":"2389290","ticketNumber":"`+number+`"}`)
		if str(out, "id") != "1892000000042032" {
			t.Fatalf("id = %q", str(out, "id"))
		}
	})
	t.Run("by subject, other case", func(t *testing.T) {
		out := env.mustInvoke(t, "get_ticket", `{"orgId":"2389290","ticketSubject":"unable to ACCESS account"}`)
		if str(out, "id") != "1892000000042032" {
			t.Fatalf("id = %q", str(out, "id"))
		}
	})
	t.Run("ambiguous subject", func(t *testing.T) {
		_, err := env.invoke(t, "get_ticket", `{"orgId":"2389290","ticketSubject":"Cannot log in to the portal"}`)
		de := domainErr(t, err, deskconn.CodeAmbiguous)
		if len(de.Candidates) != 2 {
			t.Fatalf("candidates = %v", de.Candidates)
		}
		for _, c := range de.Candidates {
			if c.ID == "" || !strings.Contains(c.Label, "Cannot log in to the portal") || !strings.HasPrefix(c.Details, "status: ") {
				t.Errorf("candidate %+v lacks id, number/subject or status", c)
			}
		}
		if got := pointers(de); !slices.Equal(got, []string{"/ticketSubject"}) {
			t.Errorf("pointers = %v", got)
		}
	})
	t.Run("ambiguous subject is never updated", func(t *testing.T) {
		_, err := env.invoke(t, "update_ticket", `{"orgId":"2389290","ticketSubject":"Cannot log in to the portal","payload":{"status":"Closed"}}`)
		domainErr(t, err, deskconn.CodeAmbiguous)
	})
	t.Run("unknown subject", func(t *testing.T) {
		_, err := env.invoke(t, "get_ticket", `{"orgId":"2389290","ticketSubject":"No ticket is called this"}`)
		de := domainErr(t, err, deskconn.CodeNotFound)
		if got := pointers(de); !slices.Equal(got, []string{"/ticketSubject"}) {
			t.Errorf("pointers = %v", got)
		}
	})
	t.Run("unknown number", func(t *testing.T) {
		_, err := env.invoke(t, "get_ticket", `{"orgId":"2389290","ticketNumber":"99999999"}`)
		domainErr(t, err, deskconn.CodeNotFound)
	})
	t.Run("unknown id", func(t *testing.T) {
		_, err := env.invoke(t, "get_ticket", `{"orgId":"2389290","ticketId":"1892000000999999"}`)
		de := domainErr(t, err, deskconn.CodeNotFound)
		if got := pointers(de); !slices.Equal(got, []string{"/ticketId"}) {
			t.Errorf("pointers = %v", got)
		}
	})
	if w := env.writes(); len(w) != 0 {
		t.Fatalf("selector failures wrote to Zoho: %v", w)
	}
}

func TestDryRunsSendNothing(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	b64 := base64.StdEncoding.EncodeToString([]byte("hello, world"))
	cases := []struct {
		action, input string
		want          []string // METHOD path of each planned request
	}{
		{"create_ticket", `{"dryRun":true,"orgId":"2389290","payload":{"subject":"s","departmentId":"1892000000006907","contactId":"1892000000042032",
			"uploads":["1892000000077001",{"fileName":"a.txt","fileData":"` + b64 + `"}]}}`, []string{"POST /uploads", "POST /tickets"}},
		{"update_ticket", `{"dryRun":true,"orgId":"2389290","ticketId":"1892000000042032","payload":{"assigneeId":null,"status":"Closed"},"params":{"disableClosureNotification":true}}`, []string{"PATCH /tickets/1892000000042032"}},
		{"move_tickets_to_trash", `{"dryRun":true,"orgId":"2389290","payload":{"ticketIds":["1892000000042032"],"ticketSubjects":["Unable to access account"]}}`, []string{"POST /tickets/moveToTrash"}},
		{"create_ticket_attachment", `{"dryRun":true,"orgId":"2389290","ticketId":"1892000000042032","fileName":"a.txt","fileData":"` + b64 + `"}`, []string{"POST /tickets/1892000000042032/attachments"}},
		{"add_agent", `{"dryRun":true,"orgId":"2389290","payload":{"emailId":"new@zylker.com","lastName":"New","associatedDepartmentIds":"1892000000006907","rolePermissionType":"Light"}}`, []string{"POST /agents"}},
		{"deactivate_agent", `{"dryRun":true,"orgId":"2389290","agentEmail":"jade.tywin@zylker.com"}`, []string{"POST /agents/1892000000006907/deactivate"}},
	}
	for _, tc := range cases {
		out := env.mustInvoke(t, tc.action, tc.input)
		var got []string
		for _, r := range out["requests"].([]any) {
			m := r.(map[string]any)
			got = append(got, m["method"].(string)+" "+m["path"].(string))
			if h, _ := m["header"].(map[string]any); h["orgId"] != "2389290" {
				t.Errorf("%s: planned request lacks the orgId header: %v", tc.action, m)
			}
			if strings.Contains(string(mustJSON(t, m)), b64) {
				t.Errorf("%s: the plan echoes the file's content", tc.action)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: planned %v, want %v", tc.action, got, tc.want)
		}
		if tc.action == "update_ticket" {
			body := out["requests"].([]any)[0].(map[string]any)["body"].(map[string]any)
			if v, ok := body["assigneeId"]; !ok || v != nil || body["status"] != "Closed" || len(body) != 2 {
				t.Errorf("update body = %v, want exactly assigneeId: null and status", body)
			}
		}
	}
	if w := env.writes(); len(w) != 0 {
		t.Fatalf("dry runs wrote to Zoho: %v", w)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUpdateNullClearsAssignee(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	before := env.mustInvoke(t, "get_ticket", `{"orgId":"2389290","ticketId":"1892000000042032"}`)
	if str(before, "ticket", "assigneeId") == "" {
		t.Fatal("seed ticket has no assignee")
	}
	out := env.mustInvoke(t, "update_ticket", `{"orgId":"2389290","ticketId":"1892000000042032","payload":{"assigneeId":null}}`)
	if v := out["ticket"].(map[string]any)["assigneeId"]; v != nil && v != "" {
		t.Fatalf("assigneeId = %v after clearing", v)
	}
	if !slices.Equal(toStrings(out["updatedFields"]), []string{"assigneeId"}) {
		t.Fatalf("updatedFields = %v", out["updatedFields"])
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestTrashPartialFailureAndBatches(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	env.mustInvoke(t, "move_tickets_to_trash", `{"orgId":"2389290","payload":{"ticketIds":["1892000000042032"]}}`)

	// 60 ids: one already trashed, one unknown; two batches (50 + 10).
	var ids []string
	for i := range 60 {
		ids = append(ids, itoa(1892000000042032+i))
	}
	ids[59] = "1892000000999999"
	before := len(env.writes())
	out := env.mustInvoke(t, "move_tickets_to_trash", `{"orgId":"2389290","payload":{"ticketIds":`+string(mustJSON(t, ids))+`}}`)
	if out["success"] != false {
		t.Fatalf("success = %v", out["success"])
	}
	moved := toStrings(out["moved"])
	if len(moved) != 58 || slices.Contains(moved, "1892000000042032") || slices.Contains(moved, "1892000000999999") {
		t.Fatalf("moved %d: %v", len(moved), moved)
	}
	var failed []string
	for _, f := range out["failed"].([]any) {
		m := f.(map[string]any)
		failed = append(failed, m["ticketId"].(string))
		if m["code"] != "invalid" || m["message"] == "" {
			t.Errorf("failure %v lacks code or reason", m)
		}
	}
	slices.Sort(failed)
	if !slices.Equal(failed, []string{"1892000000042032", "1892000000999999"}) {
		t.Fatalf("failed = %v", failed)
	}
	// Each batch is rejected once, then its good ids are resent together:
	// 4 calls, not one per id.
	if calls := env.writes()[before:]; len(calls) != 4 {
		t.Fatalf("calls = %v", calls)
	}
	// A trashed ticket is gone from Desk's API.
	_, err := env.invoke(t, "get_ticket", `{"orgId":"2389290","ticketId":"1892000000042040"}`)
	domainErr(t, err, deskconn.CodeNotFound)
}

func TestTrashBySelectorsResolvesFirst(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	_, err := env.invoke(t, "move_tickets_to_trash", `{"orgId":"2389290","payload":{"ticketIds":["1892000000042033"],"ticketSubjects":["Unable to access account","Cannot log in to the portal"]}}`)
	de := domainErr(t, err, deskconn.CodeAmbiguous)
	if got := pointers(de); !slices.Equal(got, []string{"/payload/ticketSubjects/1"}) {
		t.Fatalf("pointers = %v", got)
	}
	if w := env.writes(); len(w) != 0 {
		t.Fatalf("an ambiguous selector still trashed: %v", w)
	}
	out := env.mustInvoke(t, "move_tickets_to_trash", `{"orgId":"2389290","payload":{"ticketIds":["1892000000042033"],"ticketSubjects":["Unable to access account"]}}`)
	if got := toStrings(out["moved"]); !slices.Equal(got, []string{"1892000000042033", "1892000000042032"}) {
		t.Fatalf("moved = %v", got)
	}
}

func TestDeactivateAgent(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	t.Run("own user refused", func(t *testing.T) {
		for _, in := range []string{`{"orgId":"2389290","agentId":"` + emulator.AdminAgentID + `"}`, `{"orgId":"2389290","agentEmail":"ADMIN@zylker.com"}`} {
			_, err := env.invoke(t, "deactivate_agent", in)
			domainErr(t, err, deskconn.CodeForbidden)
		}
		if w := env.writes(); len(w) != 0 {
			t.Fatalf("wrote: %v", w)
		}
	})
	t.Run("unknown email", func(t *testing.T) {
		_, err := env.invoke(t, "deactivate_agent", `{"orgId":"2389290","agentEmail":"nobody@zylker.com"}`)
		domainErr(t, err, deskconn.CodeNotFound)
	})
	t.Run("by email", func(t *testing.T) {
		out := env.mustInvoke(t, "deactivate_agent", `{"orgId":"2389290","agentEmail":"lucas.carol@zylker.com"}`)
		if str(out, "id") != "1892000000006911" || str(out, "status") != "DISABLED" || str(out, "deactivatedAt") != "2026-11-25T12:00:00Z" {
			t.Fatalf("output = %v", out)
		}
		found := env.mustInvoke(t, "find_agent_by_email", `{"orgId":"2389290","email":"lucas.carol@zylker.com"}`)
		if str(found, "status") != "DISABLED" {
			t.Fatalf("agent after deactivation: %v", found)
		}
		before := len(env.writes())
		again := env.mustInvoke(t, "deactivate_agent", `{"orgId":"2389290","agentId":"1892000000006911"}`)
		if again["alreadyDeactivated"] != true || str(again, "status") != "DISABLED" || len(env.writes()) != before {
			t.Fatalf("second deactivation: %v (writes %v)", again, env.writes()[before:])
		}
	})
}

func TestConfirmPolicyDescribesTheCall(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	env.target.Conn.Policies = nil // destructive actions default to confirm
	_, err := env.invoke(t, "move_tickets_to_trash", specSample(t, "move_tickets_to_trash.json"))
	de := deskconn.AsError(err)
	if de == nil || !strings.Contains(de.Message, "move 3 ticket(s) (ids 1892000000042032, 1892000000042033, 1892000000042034)") {
		t.Fatalf("error = %v", err)
	}
	_, err = env.invoke(t, "deactivate_agent", specSample(t, "deactivate_agent.json"))
	if de := deskconn.AsError(err); de == nil || !strings.Contains(de.Message, "deactivate the agent 1892000000006907") {
		t.Fatalf("error = %v", err)
	}
	if w := env.writes(); len(w) != 0 {
		t.Fatalf("unconfirmed destructive calls wrote: %v", w)
	}
	out := env.mustInvoke(t, "move_tickets_to_trash", strings.Replace(specSample(t, "move_tickets_to_trash.json"), "{", `{"confirm":true,`, 1))
	if out["success"] != true {
		t.Fatalf("confirmed trash: %v", out)
	}
}

func TestCreateTicketWithUploadsAndNewContact(t *testing.T) {
	t.Parallel()
	files := fileServer(t, map[string][]byte{"/files/shot.png": pngBytes}, 0)
	env := newTestEnv(t, Deps{Files: files}, emulator.Options{})
	b64 := base64.StdEncoding.EncodeToString([]byte("log line 1\nlog line 2\n"))
	out := env.mustInvoke(t, "create_ticket", `{"orgId":"2389290","payload":{"subject":"Printer on fire","departmentId":"1892000000006907",
		"contact":{"lastName":"Carol","email":"new.customer@example.org"},"assigneeId":"1892000000006907","teamId":"1892000000007001",
		"secondaryContacts":"1892000000043001","entitySkills":[],"cf":{"cf_modelname":"F3"},"dueDate":"2026-12-31T17:00:00.000Z",
		"uploads":[{"fileName":"shot.png","fileData":"https://example.com/files/shot.png"},{"fileName":"log.txt","fileData":"`+b64+`"}]}}`)
	if len(toStrings(out["uploadIds"])) != 2 || str(out, "assigneeId") != "1892000000006907" {
		t.Fatalf("output = %v", out)
	}
	tk := out["ticket"].(map[string]any)
	if str(tk, "contactId") == "" || str(tk, "teamId") != "1892000000007001" || str(tk, "subject") != "Printer on fire" {
		t.Fatalf("ticket = %v", tk)
	}
	calls := env.writes()
	if !slices.Equal(calls, []string{"POST /uploads", "POST /uploads", "POST /tickets"}) {
		t.Fatalf("calls = %v", calls)
	}
}

func TestZohoFieldErrorsPointIntoInput(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	_, err := env.invoke(t, "create_ticket", `{"orgId":"2389290","payload":{"subject":"s","departmentId":"1892000000000001","contactId":"1892000000042032"}}`)
	de := domainErr(t, err, deskconn.CodeInvalid)
	if got := pointers(de); !slices.Equal(got, []string{"/payload/departmentId"}) {
		t.Fatalf("pointers = %v (%v)", got, de)
	}
}

func TestListTicketsAllAndCompact(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	page := env.mustInvoke(t, "list_tickets", `{"orgId":"2389290","params":{"limit":10,"from":5}}`)
	if page["hasMore"] != true || page["nextFrom"] != float64(15) || len(page["data"].([]any)) != 10 {
		t.Fatalf("page = %v %v %v", page["hasMore"], page["nextFrom"], len(page["data"].([]any)))
	}
	row := page["data"].([]any)[0].(map[string]any)
	if _, ok := row["threadCount"]; ok {
		t.Errorf("compact row keeps threadCount: %v", row)
	}
	full := env.mustInvoke(t, "list_tickets", `{"orgId":"2389290","params":{"limit":1},"view":"full"}`)
	if _, ok := full["data"].([]any)[0].(map[string]any)["threadCount"]; !ok {
		t.Errorf("full row lacks threadCount")
	}
	all := env.mustInvoke(t, "list_tickets", `{"orgId":"2389290","all":true,"params":{"status":"Open,Closed"}}`)
	n := len(all["data"].([]any))
	if n < 100 || all["hasMore"] != false || all["truncated"] == true || all["count"] != float64(n) {
		t.Fatalf("all: %d rows, hasMore=%v truncated=%v count=%v", n, all["hasMore"], all["truncated"], all["count"])
	}
	for _, r := range all["data"].([]any) {
		if s := r.(map[string]any)["status"]; s != "Open" && s != "Closed" {
			t.Fatalf("status filter not applied: %v", s)
		}
	}
	unassigned := env.mustInvoke(t, "list_tickets", `{"orgId":"2389290","params":{"assignee":"Unassigned","limit":100}}`)
	for _, r := range unassigned["data"].([]any) {
		if a := r.(map[string]any)["assigneeId"]; a != nil && a != "" {
			t.Fatalf("Unassigned filter returned assignee %v", a)
		}
	}
}

func TestListAllTruncates(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{ExtraTickets: 4900})
	all := env.mustInvoke(t, "list_tickets", `{"orgId":"2389290","all":true}`)
	if len(all["data"].([]any)) != maxListAll || all["truncated"] != true || all["hasMore"] != true || all["nextFrom"] != float64(maxListAll) {
		t.Fatalf("rows=%d truncated=%v hasMore=%v nextFrom=%v", len(all["data"].([]any)), all["truncated"], all["hasMore"], all["nextFrom"])
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	cases := []struct{ action, input, wantID string }{
		{"list_organizations", `{}`, "2389290"},
		{"list_departments", `{"orgId":"2389290"}`, "1892000000006907"},
		{"list_teams", `{"orgId":"2389290"}`, "1892000000007001"},
		{"list_products", `{"orgId":"2389290","params":{"sortBy":"productName"}}`, "1892000000008001"},
		{"list_roles", `{"orgId":"2389290"}`, "1892000000003001"},
		{"list_profiles", `{"orgId":"2389290"}`, "1892000000004002"},
		{"search_contacts", `{"orgId":"2389290","params":{"email":"carol@zylker-customer.com"}}`, "1892000000042032"},
		{"search_tickets", `{"orgId":"2389290","params":{"subject":"Unable to access account"}}`, "1892000000042032"},
	}
	for _, tc := range cases {
		out := env.mustInvoke(t, tc.action, tc.input)
		if !slices.ContainsFunc(out["data"].([]any), func(v any) bool { return v.(map[string]any)["id"] == tc.wantID }) {
			t.Errorf("%s: %s not in %v", tc.action, tc.wantID, out["data"])
		}
	}
	a := env.mustInvoke(t, "find_agent_by_email", `{"orgId":"2389290","email":"Jade.Tywin@zylker.com"}`)
	if str(a, "id") != emulator.DemoAgentID {
		t.Errorf("find_agent_by_email = %v", a)
	}
	_, err := env.invoke(t, "find_agent_by_email", `{"orgId":"2389290","email":"jade@zylker.com"}`)
	domainErr(t, err, deskconn.CodeNotFound)
}
