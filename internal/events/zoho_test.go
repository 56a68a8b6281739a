package events

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecodeWebhook(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		want    int
		wantErr string // substring; "" means success
	}{
		{"array", `[{"eventType":"Ticket_Add","orgId":"2389290","eventTime":"1781180000000","payload":{"id":"1"}}]`, 1, ""},
		{"batch", `[{"eventType":"Ticket_Add","payload":{"id":"1"}},{"eventType":"Ticket_Update","payload":{"id":"1"},"prevState":null}]`, 2, ""},
		{"single object", `{"eventType":"Ticket_Add","orgId":2389290,"eventTime":1781180000000,"payload":{"id":"1"}}`, 1, ""},
		{"iso time", `[{"eventType":"Ticket_Add","eventTime":"2026-06-11T10:00:00.000Z","payload":{"id":"1"}}]`, 1, ""},
		{"empty", ``, 0, "empty body"},
		{"not json", `<html>`, 0, "JSON array"},
		{"array of strings", `["x"]`, 0, "/0"},
		{"no event type", `[{"payload":{"id":"1"}}]`, 0, "/0/eventType"},
		{"payload not object", `[{"eventType":"Ticket_Add","payload":"1"}]`, 0, "/0/payload"},
		{"no payload", `[{"eventType":"Ticket_Add"}]`, 0, "/0/payload"},
		{"bad prevState", `[{"eventType":"Ticket_Update","payload":{"id":"1"},"prevState":[1]}]`, 0, "/0/prevState"},
		{"bad time", `[{"eventType":"Ticket_Add","eventTime":"yesterday","payload":{"id":"1"}}]`, 0, "/0/eventTime"},
		{"too many", "[" + strings.Repeat(`{"eventType":"Ticket_Add","payload":{"id":"1"}},`, MaxWebhookEvents) + `{"eventType":"Ticket_Add","payload":{"id":"1"}}]`, 0, "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeWebhook([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrMalformed) {
					t.Fatalf("DecodeWebhook = %v, want ErrMalformed mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("DecodeWebhook = %d events, %v; want %d", len(got), err, tt.want)
			}
		})
	}
}

func TestDecodeWebhookTimes(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 6, 11, 10, 0, 0, 0, time.UTC)
	for _, et := range []string{`"1781172000000"`, `1781172000000`, `"2026-06-11T10:00:00.000Z"`, `"2026-06-11T10:00:00Z"`} {
		evs, err := DecodeWebhook([]byte(`[{"eventType":"Ticket_Add","eventTime":` + et + `,"payload":{"id":"1"}}]`))
		if err != nil {
			t.Fatalf("eventTime %s: %v", et, err)
		}
		if !evs[0].EventTime.Equal(want) {
			t.Errorf("eventTime %s = %v, want %v", et, evs[0].EventTime, want)
		}
	}
}

func TestNormalise(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 11, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		ev       ZohoEvent
		typ      string
		kind     string
		id       string
		key      string
		previous string
	}{
		{"ticket created", ZohoEvent{EventType: "Ticket_Add", EventTime: at, Payload: json.RawMessage(`{"id":"11","subject":"Printer"}`)},
			TicketCreated, "ticket", "11", "ticket.created:11", ""},
		{"ticket updated with previous", ZohoEvent{EventType: "Ticket_Update", EventTime: at,
			Payload:   json.RawMessage(`{"id":"11","status":"Closed","priority":"High","modifiedTime":"2026-06-11T10:00:00.000Z"}`),
			PrevState: json.RawMessage(`{"id":"11","status":"Open","priority":"High"}`)},
			TicketUpdated, "ticket", "11", "ticket.updated:11:2026-06-11T10:00:00.000Z", `{"status":"Open"}`},
		{"thread", ZohoEvent{EventType: "Ticket_Thread_Add", Payload: json.RawMessage(`{"id":"21","ticketId":"11","direction":"in","createdTime":"2026-06-11T10:00:00.000Z"}`)},
			TicketThreadAdded, "thread", "21", "ticket.thread_added:21", ""},
		{"comment, numeric id", ZohoEvent{EventType: "Ticket_Comment_Add", Payload: json.RawMessage(`{"id":31,"ticketId":"11"}`)},
			TicketCommentAdded, "comment", "31", "ticket.comment_added:31", ""},
		{"contact created", ZohoEvent{EventType: "Contact_Add", Payload: json.RawMessage(`{"id":"41"}`)}, ContactCreated, "contact", "41", "contact.created:41", ""},
		{"contact updated", ZohoEvent{EventType: "Contact_Update", Payload: json.RawMessage(`{"id":"41","modifiedTime":"m1"}`)}, ContactUpdated, "contact", "41", "contact.updated:41:m1", ""},
		{"account created", ZohoEvent{EventType: "Account_Add", Payload: json.RawMessage(`{"id":"51"}`)}, AccountCreated, "account", "51", "account.created:51", ""},
		{"account updated", ZohoEvent{EventType: "Account_Update", Payload: json.RawMessage(`{"id":"51","modifiedTime":"m2"}`)}, AccountUpdated, "account", "51", "account.updated:51:m2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := Normalise("conn_1", tt.ev)
			if err != nil {
				t.Fatalf("Normalise = %v", err)
			}
			if n.Type != tt.typ || n.Object.Kind != tt.kind || n.Object.ID != tt.id || n.SourceKey != tt.key || n.Connection != "conn_1" {
				t.Errorf("Normalise = %s %+v key %q, want %s {%s %s} key %q", n.Type, n.Object, n.SourceKey, tt.typ, tt.kind, tt.id, tt.key)
			}
			if string(n.Previous) != tt.previous {
				t.Errorf("Previous = %s, want %s", n.Previous, tt.previous)
			}
			// Without eventTime the payload's time is used; the thread has one.
			if tt.kind == "thread" && !n.OccurredAt.Equal(at) {
				t.Errorf("OccurredAt = %v, want the thread's createdTime %v", n.OccurredAt, at)
			}
		})
	}
}

func TestNormaliseRefuses(t *testing.T) {
	t.Parallel()
	if _, err := Normalise("c", ZohoEvent{EventType: "Agent_Add", Payload: json.RawMessage(`{"id":"1"}`)}); !errors.Is(err, ErrUnknownEvent) {
		t.Errorf("Normalise(Agent_Add) = %v, want ErrUnknownEvent", err)
	}
	if _, err := Normalise("c", ZohoEvent{EventType: "Ticket_Add", Payload: json.RawMessage(`{"subject":"x"}`)}); !errors.Is(err, ErrMalformed) ||
		!strings.Contains(err.Error(), "payload/id") {
		t.Errorf("Normalise(no id) = %v, want ErrMalformed naming payload/id", err)
	}
}

// The same update read twice (webhook redelivery, or webhook and poller)
// has one source key; two different updates without modifiedTime differ.
func TestNormaliseSourceKeys(t *testing.T) {
	t.Parallel()
	upd := func(payload string) string {
		n, err := Normalise("c", ZohoEvent{EventType: "Ticket_Update", Payload: json.RawMessage(payload)})
		if err != nil {
			t.Fatal(err)
		}
		return n.SourceKey
	}
	if a, b := upd(`{"id":"1","status":"Open","modifiedTime":"t1"}`), upd(`{"id":"1", "status":"Open", "modifiedTime":"t1"}`); a != b {
		t.Errorf("same change, keys %q and %q", a, b)
	}
	if a, b := upd(`{"id":"1","status":"Open"}`), upd(`{"id":"1","status":"Closed"}`); a == b {
		t.Errorf("different changes without modifiedTime share key %q", a)
	}
}

func FuzzDecodeWebhook(f *testing.F) {
	f.Add([]byte(`[{"eventType":"Ticket_Update","orgId":"1","eventTime":"1781180000000","payload":{"id":"1","modifiedTime":"x"},"prevState":{"status":"Open"}}]`))
	f.Add([]byte(`{"eventType":"Contact_Add","payload":{"id":2}}`))
	f.Add([]byte(`[{"eventType":"","payload":null}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := DecodeWebhook(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		for _, ev := range evs {
			if ev.EventType == "" || !isObject(ev.Payload) {
				t.Fatalf("accepted event without type or payload object: %+v", ev)
			}
			n, err := Normalise("c", ev)
			if err != nil {
				continue
			}
			if n.SourceKey == "" || n.Object.ID == "" || !KnownType(n.Type) || !json.Valid(n.Data) {
				t.Fatalf("normalised event incomplete: %+v", n)
			}
			if n.Previous != nil && !json.Valid(n.Previous) {
				t.Fatalf("previous is not JSON: %s", n.Previous)
			}
		}
	})
}
