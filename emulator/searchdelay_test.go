package emulator_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
)

// TestSearchDelay: with Options.SearchDelay, a created or updated ticket
// and a created contact reach the search endpoints only after the delay
// (measured on Options.Now); GET sees every write at once.
func TestSearchDelay(t *testing.T) {
	t.Parallel()
	const delay = 30 * time.Second
	e := newEnv(t, emulator.Options{SearchDelay: delay})
	found := func(query string) []string {
		t.Helper()
		r := e.do("GET", "/api/v1/tickets/search?"+query, nil)
		if r.status == 204 {
			return nil
		}
		wantStatus(t, r, 200, "")
		var ids []string
		for _, row := range r.json(t)["data"].([]any) {
			ids = append(ids, row.(map[string]any)["id"].(string))
		}
		return ids
	}

	created := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Fresh ticket alpha", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID})
	wantStatus(t, created, 200, "")
	id := created.json(t)["id"].(string)
	number := created.json(t)["ticketNumber"].(string)
	wantStatus(t, e.do("GET", "/api/v1/tickets/"+id, nil), 200, "")
	for _, q := range []string{"subject=" + url.QueryEscape("Fresh ticket alpha"), "ticketNumber=" + number, "id=" + id} {
		if got := found(q); len(got) != 0 {
			t.Fatalf("search %s found the new ticket before the delay: %v", q, got)
		}
	}
	e.clk.Add(delay - time.Second)
	if got := found("ticketNumber=" + number); len(got) != 0 {
		t.Fatalf("found 1s before the delay: %v", got)
	}
	e.clk.Add(time.Second)
	if got := found("ticketNumber=" + number); len(got) != 1 || got[0] != id {
		t.Fatalf("after the delay: %v, want [%s]", got, id)
	}

	// An update: search finds the old subject, not the new one, until the
	// delay has passed; the row shows the old subject.
	wantStatus(t, e.do("PATCH", "/api/v1/tickets/"+id, map[string]any{"subject": "Renamed ticket beta"}), 200, "")
	if got := found("subject=" + url.QueryEscape("Renamed ticket beta")); len(got) != 0 {
		t.Fatalf("new subject found before the delay: %v", got)
	}
	r := e.do("GET", "/api/v1/tickets/search?subject="+url.QueryEscape("Fresh ticket alpha"), nil)
	wantStatus(t, r, 200, "")
	if row := r.json(t)["data"].([]any)[0].(map[string]any); row["id"] != id || row["subject"] != "Fresh ticket alpha" {
		t.Fatalf("old subject search row = %v", row)
	}
	if g := e.do("GET", "/api/v1/tickets/"+id, nil).json(t); g["subject"] != "Renamed ticket beta" {
		t.Fatalf("GET after update: subject %v", g["subject"])
	}
	e.clk.Add(delay)
	if got := found("subject=" + url.QueryEscape("Renamed ticket beta")); len(got) != 1 {
		t.Fatalf("new subject not found after the delay: %v", got)
	}
	if got := found("subject=" + url.QueryEscape("Fresh ticket alpha")); len(got) != 0 {
		t.Fatalf("old subject still found after the delay: %v", got)
	}

	// Contacts search lags the same way.
	wantStatus(t, e.do("POST", "/api/v1/contacts", map[string]any{"lastName": "Delayed", "email": "delayed@example.com"}), 200, "")
	if r := e.do("GET", "/api/v1/contacts/search?email=delayed@example.com", nil); r.status != 204 {
		t.Fatalf("contact found before the delay: %d", r.status)
	}
	e.clk.Add(delay)
	wantStatus(t, e.do("GET", "/api/v1/contacts/search?email=delayed@example.com", nil), 200, "")

	// And accounts search.
	wantStatus(t, e.do("POST", "/api/v1/accounts", map[string]any{"accountName": "Delayed Holdings"}), 200, "")
	if r := e.do("GET", "/api/v1/accounts/search?accountName="+url.QueryEscape("Delayed Holdings"), nil); r.status != 204 {
		t.Fatalf("account found before the delay: %d", r.status)
	}
	e.clk.Add(delay)
	wantStatus(t, e.do("GET", "/api/v1/accounts/search?accountName="+url.QueryEscape("Delayed Holdings"), nil), 200, "")
}

// TestSearchDelayZeroIsInstant: the default sees every write at once.
func TestSearchDelayZeroIsInstant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	created := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Instant ticket", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID})
	wantStatus(t, created, 200, "")
	wantStatus(t, e.do("GET", "/api/v1/tickets/search?ticketNumber="+created.json(t)["ticketNumber"].(string), nil), 200, "")
}

// TestSearchDelaySeesEachWriteInTurn: two updates inside the delay become
// searchable one after the other, each SearchDelay after its own write.
func TestSearchDelaySeesEachWriteInTurn(t *testing.T) {
	t.Parallel()
	const delay = 30 * time.Second
	e := newEnv(t, emulator.Options{SearchDelay: delay})
	const id = "1892000000042033"
	subjectFound := func(subject string) bool {
		t.Helper()
		r := e.do("GET", "/api/v1/tickets/search?id="+id+"&subject="+url.QueryEscape(subject), nil)
		return r.status == 200
	}
	before := e.do("GET", "/api/v1/tickets/"+id, nil).json(t)["subject"].(string)
	wantStatus(t, e.do("PATCH", "/api/v1/tickets/"+id, map[string]any{"subject": "Second subject B"}), 200, "")
	e.clk.Add(10 * time.Second)
	wantStatus(t, e.do("PATCH", "/api/v1/tickets/"+id, map[string]any{"subject": "Third subject C"}), 200, "")
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{0, before},
		{20 * time.Second, "Second subject B"}, // 30s after the first write
		{10 * time.Second, "Third subject C"},  // 30s after the second
	}
	for _, s := range steps {
		e.clk.Add(s.advance)
		for _, subject := range []string{before, "Second subject B", "Third subject C"} {
			if got := subjectFound(subject); got != (subject == s.want) {
				t.Fatalf("after +%s: search by %q found=%v, want only %q found", s.advance, subject, got, s.want)
			}
		}
	}
}
