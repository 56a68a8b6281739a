package deskactions

import (
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
)

// TestSelectRightAfterWriteWithSearchDelay: issue 10 item 2. With Zoho's
// search lagging behind writes (the harness's default search delay), a
// ticket is selected by number or subject right after it is created or
// renamed, a stale search row is not taken for the ticket, and not_found
// says what was searched.
func TestSelectRightAfterWriteWithSearchDelay(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	created := env.mustInvoke(t, "create_ticket", `{"orgId":"2389290","payload":{"subject":"Printer jammed on floor 3","departmentId":"`+emulator.DemoDepartmentID+`","contactId":"`+emulator.DemoContactID+`"}}`)
	id, number := str(created, "id"), str(created, "ticketNumber")

	// Search cannot see it yet.
	search := env.mustInvoke(t, "search_tickets", `{"orgId":"2389290","params":{"ticketNumber":"`+number+`"}}`)
	if rows, _ := search["data"].([]any); len(rows) != 0 {
		t.Fatalf("the emulator's search saw the new ticket at once: %v", rows)
	}

	got := env.mustInvoke(t, "get_ticket", `{"orgId":"2389290","ticketNumber":"`+number+`"}`)
	if str(got, "id") != id {
		t.Fatalf("get_ticket by number right after create = %s, want %s", str(got, "id"), id)
	}
	got = env.mustInvoke(t, "get_ticket", `{"orgId":"2389290","ticketSubject":"printer jammed on floor 3"}`)
	if str(got, "id") != id {
		t.Fatalf("get_ticket by subject right after create = %s, want %s", str(got, "id"), id)
	}

	// Rename a seeded (indexed) ticket: the new subject selects it at once,
	// the old one no longer does, although search still finds it by it.
	newest := env.mustInvoke(t, "list_tickets", `{"orgId":"2389290","sortOrder":"desc","params":{"limit":5}}`)
	var seeded, oldSubject string
	for _, r := range newest["data"].([]any) {
		row := r.(map[string]any)
		if row["id"] != id && row["subject"] != "" {
			seeded, oldSubject = row["id"].(string), row["subject"].(string)
			break
		}
	}
	env.mustInvoke(t, "update_ticket", `{"orgId":"2389290","ticketId":"`+seeded+`","payload":{"subject":"Account access restored"}}`)
	upd := env.mustInvoke(t, "update_ticket", `{"orgId":"2389290","ticketSubject":"Account access restored","payload":{"priority":"High"}}`)
	if str(upd, "id") != seeded {
		t.Fatalf("update_ticket by the new subject = %s, want %s", str(upd, "id"), seeded)
	}
	stale := env.mustInvoke(t, "search_tickets", `{"orgId":"2389290","params":{"subject":"`+oldSubject+`"}}`)
	if rows, _ := stale["data"].([]any); len(rows) == 0 {
		t.Fatalf("the emulator's search no longer finds the old subject %q: the test does not test a stale row", oldSubject)
	}
	_, err := env.invoke(t, "get_ticket", `{"orgId":"2389290","ticketSubject":"`+oldSubject+`"}`)
	de := domainErr(t, err, deskconn.CodeNotFound)
	for _, want := range []string{"subject \"" + oldSubject + "\"", "ticket search", "newest 200 tickets"} {
		if !strings.Contains(de.Message, want) {
			t.Errorf("not_found message %q lacks %q", de.Message, want)
		}
	}
	if len(de.Fields) != 1 || de.Fields[0].Pointer != "/ticketSubject" {
		t.Errorf("fields = %v, want /ticketSubject", de.Fields)
	}

	// An unknown number: not_found after search and the newest tickets.
	_, err = env.invoke(t, "get_ticket", `{"orgId":"2389290","ticketNumber":"987654"}`)
	de = domainErr(t, err, deskconn.CodeNotFound)
	if !strings.Contains(de.Message, "number 987654") || !strings.Contains(de.Message, "newest 200 tickets") {
		t.Errorf("not_found message %q does not say what was searched", de.Message)
	}

	// Two tickets with the same new subject, neither searchable: ambiguous.
	for range 2 {
		env.mustInvoke(t, "create_ticket", `{"orgId":"2389290","payload":{"subject":"Duplicate order 77","departmentId":"`+emulator.DemoDepartmentID+`","contactId":"`+emulator.DemoContactID+`"}}`)
	}
	_, err = env.invoke(t, "move_tickets_to_trash", `{"orgId":"2389290","payload":{"ticketSubjects":["Duplicate order 77"]}}`)
	if de := domainErr(t, err, deskconn.CodeAmbiguous); len(de.Candidates) != 2 {
		t.Errorf("candidates = %v, want 2", de.Candidates)
	}

	// The fallback lists the newest tickets by creation, never sortOrder.
	sawFallback := false
	for _, r := range env.emu.Requests() {
		if r.Method == "GET" && r.Path == "/api/v1/tickets" && strings.Contains(r.Query, "sortBy=-createdTime") {
			sawFallback = true
		}
		if strings.Contains(r.Query, "sortOrder") {
			t.Errorf("sortOrder sent: %s?%s", r.Path, r.Query)
		}
	}
	if !sawFallback {
		t.Error("no GET /tickets?sortBy=-createdTime fallback was made")
	}
}
