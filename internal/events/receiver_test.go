package events

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

type receiverEnv struct {
	st    *testStore
	z     *fakeZoho
	srv   *httptest.Server
	token string
}

func newReceiverEnv(t *testing.T, mode store.EventSourceMode) *receiverEnv {
	t.Helper()
	z := newFakeZoho(t)
	st := newTestStore(t, z.deskBaseURL())
	token := "tok-" + store.NewID("r")
	if err := st.PutEventSource(t.Context(), &store.EventSource{ConnectionID: st.conn.ID, TenantID: st.tenant.ID,
		Mode: mode, TokenHash: TokenHash(token), WebhookID: "4000000099001"}); err != nil {
		t.Fatal(err)
	}
	rcv := &Receiver{Store: st, Log: &Log{Store: st}, Verifier: &Verifier{}, MaxBytes: 64 << 10,
		Logger: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	mux.Handle(ReceiverPath, rcv)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &receiverEnv{st: st, z: z, srv: srv, token: token}
}

func (e *receiverEnv) do(t *testing.T, method, token, jwtHeader, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, ReceiverURL(e.srv.URL, token), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if jwtHeader != "" {
		req.Header.Set("X-ZDesk-JWT", jwtHeader)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (e *receiverEnv) events(t *testing.T) []Envelope {
	t.Helper()
	rows, err := e.st.ListEvents(t.Context(), store.EventFilter{ConnectionID: e.st.conn.ID})
	if err != nil {
		t.Fatal(err)
	}
	var out []Envelope
	for _, r := range rows {
		var env Envelope
		if err := json.Unmarshal(r.Body, &env); err != nil {
			t.Fatal(err)
		}
		if env.ID != r.ID || env.Type != r.Type {
			t.Errorf("stored envelope %s/%s does not match its row %s/%s", env.ID, env.Type, r.ID, r.Type)
		}
		out = append(out, env)
	}
	return out
}

const ticketAdd = `[{"eventType":"Ticket_Add","orgId":"2389290","eventTime":"1781180000000",
	"payload":{"id":"1892000000042032","subject":"Printer on fire","status":"Open"}}]`

func TestReceiverStoresVerifiedEvents(t *testing.T) {
	t.Parallel()
	e := newReceiverEnv(t, store.SourceWebhook)
	good := e.z.sign(t, testOrgID, "4000000099001", time.Now().Add(time.Minute))

	if got := e.do(t, http.MethodGet, e.token, "", ""); got != http.StatusOK {
		t.Errorf("validation GET = %d, want 200", got)
	}
	if got := e.do(t, http.MethodPost, e.token, good, ticketAdd); got != http.StatusOK {
		t.Fatalf("POST = %d, want 200", got)
	}
	// Zoho delivers the same event again: still one deskconn event.
	if got := e.do(t, http.MethodPost, e.token, good, ticketAdd); got != http.StatusOK {
		t.Fatalf("POST(again) = %d, want 200", got)
	}
	update := `[{"eventType":"Ticket_Update","orgId":"2389290","payload":{"id":"1892000000042032","status":"Closed","modifiedTime":"2026-06-11T10:00:00.000Z"},
		"prevState":{"status":"Open"}},{"eventType":"Agent_Add","payload":{"id":"5"}},{"eventType":"Ticket_Add","orgId":"999","payload":{"id":"7"}}]`
	if got := e.do(t, http.MethodPost, e.token, good, update); got != http.StatusOK {
		t.Fatalf("POST(update) = %d, want 200", got)
	}
	if src, err := e.st.GetEventSource(t.Context(), e.st.conn.ID); err != nil || src.LastEventAt.IsZero() || src.Mode != store.SourceWebhook {
		t.Errorf("event source after deliveries = %+v, %v; want LastEventAt set, still webhook", src, err)
	}
	evs := e.events(t)
	if len(evs) != 2 {
		t.Fatalf("stored %d events, want 2 (duplicate, unknown type and other org dropped): %+v", len(evs), evs)
	}
	created, updated := evs[0], evs[1]
	if created.Type != TicketCreated || created.Object != (Object{"ticket", "1892000000042032"}) || created.Connection != e.st.conn.ID ||
		!created.OccurredAt.Equal(time.UnixMilli(1781180000000)) || created.ReceivedAt.IsZero() {
		t.Errorf("created event = %+v", created)
	}
	if updated.Type != TicketUpdated || string(updated.Previous) != `{"status":"Open"}` {
		t.Errorf("updated event = %s previous %s, want ticket.updated with previous status", updated.Type, updated.Previous)
	}
}

func TestReceiverRefuses(t *testing.T) {
	t.Parallel()
	e := newReceiverEnv(t, store.SourceWebhook)
	good := e.z.sign(t, testOrgID, "4000000099001", time.Now().Add(time.Minute))
	tests := []struct {
		name   string
		method string
		token  string
		jwt    string
		body   string
		want   int
	}{
		{"unknown token", http.MethodPost, "nope", good, ticketAdd, http.StatusGone},
		{"unknown token GET", http.MethodGet, "nope", "", "", http.StatusGone},
		{"no JWT", http.MethodPost, e.token, "", ticketAdd, http.StatusUnauthorized},
		{"JWT of another webhook", http.MethodPost, e.token, e.z.sign(t, testOrgID, "1", time.Now().Add(time.Minute)), ticketAdd, http.StatusUnauthorized},
		{"JWT of another org", http.MethodPost, e.token, e.z.sign(t, "1", "4000000099001", time.Now().Add(time.Minute)), ticketAdd, http.StatusUnauthorized},
		{"malformed body", http.MethodPost, e.token, good, `{"eventType":`, http.StatusBadRequest},
		{"oversized body", http.MethodPost, e.token, good, "[" + strings.Repeat(" ", 65<<10) + "]", http.StatusRequestEntityTooLarge},
		{"PUT", http.MethodPut, e.token, good, ticketAdd, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		if got := e.do(t, tt.method, tt.token, tt.jwt, tt.body); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	if evs := e.events(t); len(evs) != 0 {
		t.Errorf("refused requests stored %d events", len(evs))
	}
}

// A connection switched to polling answers 410, so Zoho deletes the webhook.
func TestReceiverGoneWhenNotWebhookMode(t *testing.T) {
	t.Parallel()
	e := newReceiverEnv(t, store.SourcePolling)
	good := e.z.sign(t, testOrgID, "4000000099001", time.Now().Add(time.Minute))
	if got := e.do(t, http.MethodPost, e.token, good, ticketAdd); got != http.StatusGone {
		t.Errorf("POST = %d, want 410", got)
	}
}

func TestLogWaitWakesOnAppend(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, "https://desk.zoho.com/api/v1")
	l := &Log{Store: st, PollInterval: time.Hour}
	f := store.EventFilter{ConnectionID: st.conn.ID}
	got := make(chan []*store.Event, 1)
	go func() {
		evs, err := l.Wait(t.Context(), f, time.Hour)
		if err != nil {
			t.Errorf("Wait = %v", err)
		}
		got <- evs
	}()
	n, err := Normalise(st.conn.ID, ZohoEvent{EventType: "Ticket_Add", Payload: json.RawMessage(`{"id":"1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(t.Context(), st.conn.ID, []*Normalised{n}); err != nil {
		t.Fatal(err)
	}
	if evs := <-got; len(evs) != 1 || evs[0].Type != TicketCreated {
		t.Fatalf("Wait returned %v, want the appended event", evs)
	}
	// Nothing after the cursor: a zero wait returns at once, empty.
	if evs, err := l.Wait(t.Context(), store.EventFilter{ConnectionID: st.conn.ID, After: 1}, 0); err != nil || len(evs) != 0 {
		t.Errorf("Wait(after last, no wait) = %v, %v; want none", evs, err)
	}
}
