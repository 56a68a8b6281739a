package emulator_test

import (
	"testing"

	"github.com/deskconn/deskconn/emulator"
)

// The tests in this file hold the emulator to answers recorded from the
// live Zoho Desk and Zoho Accounts (docs/architecture.md, "Facts"; the
// emulator package doc names the source of each).

// ticketNumbers returns the ticketNumber of every row of a ticket list.
func ticketNumbers(t *testing.T, r result) []string {
	t.Helper()
	wantStatus(t, r, 200, "")
	var out []string
	for _, row := range r.json(t)["data"].([]any) {
		out = append(out, row.(map[string]any)["ticketNumber"].(string))
	}
	return out
}

// TestTicketListDefaultOrderIsNewestFirst: without sortBy, GET /tickets
// lists createdTime descending, as a live recording shows.
func TestTicketListDefaultOrderIsNewestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	created := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Newest", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID})
	wantStatus(t, created, 200, "")
	newest := created.json(t)["ticketNumber"].(string)

	tests := []struct {
		name, query string
		newestFirst bool
	}{
		{"no sortBy", "", true},
		{"-createdTime", "&sortBy=-createdTime", true},
		{"createdTime", "&sortBy=createdTime", false},
		{"ticketNumber", "&sortBy=ticketNumber", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ticketNumbers(t, e.do("GET", "/api/v1/tickets?limit=50"+tc.query, nil))
			if (got[0] == newest) != tc.newestFirst {
				t.Fatalf("first row #%s, newest #%s, want newest first = %v", got[0], newest, tc.newestFirst)
			}
			for i := 1; i < len(got); i++ {
				if desc := len(got[i]) < len(got[i-1]) || (len(got[i]) == len(got[i-1]) && got[i] < got[i-1]); desc != tc.newestFirst {
					t.Fatalf("rows %s then %s: not in the expected order (newest first = %v)", got[i-1], got[i], tc.newestFirst)
				}
			}
		})
	}
	// Paging walks the same order: the second page continues the first.
	first := ticketNumbers(t, e.do("GET", "/api/v1/tickets?limit=2", nil))
	second := ticketNumbers(t, e.do("GET", "/api/v1/tickets?from=2&limit=2", nil))
	all := ticketNumbers(t, e.do("GET", "/api/v1/tickets?limit=4", nil))
	if got := append(first, second...); len(got) != 4 || got[0] != all[0] || got[2] != all[2] || got[3] != all[3] {
		t.Fatalf("pages %v + %v, want %v", first, second, all)
	}
}
