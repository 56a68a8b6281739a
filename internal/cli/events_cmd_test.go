package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/events"
)

func TestSubscriptionsAddListDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	if res := h.run("connections", "add", "support", "--client-id", hClientID); res.code != 0 {
		t.Fatalf("connections add: exit %d: %s", res.code, res.stderr)
	}
	res := h.run("subscriptions", "add", "--connection", "support", "--url", "https://hooks.example.com/deskconn", "--types", "ticket.created,ticket.updated")
	if res.code != 0 {
		t.Fatalf("subscriptions add: exit %d: %s", res.code, res.stderr)
	}
	m := regexp.MustCompile(`subscription (sub_[0-9a-f]+) added\nsigning secret \(shown only now\): (whsec_\S+)`).FindStringSubmatch(res.stdout)
	if m == nil {
		t.Fatalf("subscriptions add printed %q", res.stdout)
	}
	list := h.run("subscriptions", "list", "--connection", "support")
	if strings.Contains(list.stdout+list.stderr, m[2]) {
		t.Errorf("subscriptions list shows the secret")
	}
	if list.code != 0 || !strings.Contains(list.stdout, m[1]) || !strings.Contains(list.stdout, "ticket.created,ticket.updated") {
		t.Errorf("subscriptions list: exit %d: %s %s", list.code, list.stdout, list.stderr)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"loopback URL", []string{"subscriptions", "add", "--connection", "support", "--url", "http://127.0.0.1:9/hook"}, "url"},
		{"unknown type", []string{"subscriptions", "add", "--connection", "support", "--url", "https://hooks.example.com/", "--types", "ticket.deleted"}, "--types"},
		{"no url", []string{"subscriptions", "add", "--connection", "support"}, "--url is required"},
		{"no connection", []string{"subscriptions", "list"}, "--connection is required"},
		{"unknown subscription", []string{"subscriptions", "delete", "--connection", "support", "sub_nope"}, "no subscription"},
	} {
		res := h.run(tc.args...)
		if res.code == 0 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want a failure mentioning %q", tc.name, res.code, res.stderr, tc.want)
		}
	}
	if res := h.run("subscriptions", "delete", "--connection", "support", m[1]); res.code != 0 {
		t.Fatalf("subscriptions delete: exit %d: %s", res.code, res.stderr)
	}
	if list := h.run("subscriptions", "list", "--connection", "support"); strings.Contains(list.stdout, m[1]) {
		t.Errorf("deleted subscription still listed: %s", list.stdout)
	}
}

func TestEventsTail(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	if res := h.run("connections", "add", "support", "--client-id", hClientID); res.code != 0 {
		t.Fatalf("connections add: exit %d: %s", res.code, res.stderr)
	}
	st := h.openStore()
	c := h.conn(st, "default", "support")
	l := &events.Log{Store: st}
	var norm []*events.Normalised
	for _, z := range []events.ZohoEvent{
		{EventType: "Ticket_Add", Payload: json.RawMessage(`{"id":"1"}`)},
		{EventType: "Contact_Add", Payload: json.RawMessage(`{"id":"2"}`)},
	} {
		n, err := events.Normalise(c.ID, z)
		if err != nil {
			t.Fatal(err)
		}
		norm = append(norm, n)
	}
	if _, err := l.Append(t.Context(), c.ID, norm); err != nil {
		t.Fatal(err)
	}
	st.Close()

	res := h.run("events", "tail", "--connection", "support", "--no-follow", "--types", "ticket.created")
	if res.code != 0 {
		t.Fatalf("events tail: exit %d: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	var env events.Envelope
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &env) != nil || env.Type != events.TicketCreated || env.Object.ID != "1" {
		t.Errorf("events tail printed %q, want the ticket.created envelope", res.stdout)
	}
	if !strings.Contains(res.stderr, "cursor 1") {
		t.Errorf("events tail stderr %q lacks the cursor", res.stderr)
	}
	if res := h.run("events", "tail", "--connection", "support", "--no-follow", "--after", "1"); res.code != 0 || !strings.Contains(res.stdout, "contact.created") || strings.Contains(res.stdout, "ticket.created") {
		t.Errorf("events tail --after 1: exit %d: %s", res.code, res.stdout)
	}
	if res := h.run("events", "tail", "--no-follow"); res.code == 0 || !strings.Contains(res.stderr, "--connection is required") {
		t.Errorf("events tail without --connection: exit %d: %s", res.code, res.stderr)
	}
	// A pending connection cannot register a webhook or poll: enable says so.
	if res := h.run("events", "enable", "support"); res.code == 0 {
		t.Errorf("events enable of a pending connection succeeded: %s", res.stdout)
	}
	if res := h.run("events", "enable", "support", "--mode", "sometimes"); res.code == 0 || !strings.Contains(res.stderr, "--mode") {
		t.Errorf("events enable --mode sometimes: exit %d: %s", res.code, res.stderr)
	}
}
