package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// pollEnv is an emulator as Zoho, a client for it, and a store whose
// connection is in polling mode.
type pollEnv struct {
	st    *testStore
	desk  *zohodesk.Client
	clock *time.Time
	p     *Poller
}

func newPollEnv(t *testing.T) *pollEnv {
	t.Helper()
	clock := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	e := &pollEnv{clock: &clock}
	now := func() time.Time { return *e.clock }
	emu := emulator.New(emulator.Options{Now: now, NoSeed: true})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID,
		[]string{"Desk.tickets.ALL", "Desk.search.READ", "Desk.contacts.ALL"})
	if err != nil {
		t.Fatal(err)
	}
	e.desk, err = zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken(access)})
	if err != nil {
		t.Fatal(err)
	}
	e.st = newTestStore(t, srv.URL+"/api/v1")
	src := &store.EventSource{ConnectionID: e.st.conn.ID, TenantID: e.st.tenant.ID, Mode: store.SourcePolling}
	if err := e.st.PutEventSource(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetCursor(t.Context(), e.st.conn.ID, cursorTickets, clock.Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	e.p = &Poller{Store: e.st, Log: &Log{Store: e.st}, Owner: "p1", Now: now,
		Client: func(context.Context, string, string) (*zohodesk.Client, *store.Connection, error) {
			return e.desk, e.st.conn, nil
		}}
	return e
}

func (e *pollEnv) poll(t *testing.T) int {
	t.Helper()
	src, err := e.st.GetEventSource(t.Context(), e.st.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.p.PollConnection(t.Context(), src)
	if err != nil {
		t.Fatalf("PollConnection = %v", err)
	}
	return n
}

func TestPollerCreatedUpdatedOnce(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t)
	ctx := t.Context()
	*e.clock = e.clock.Add(time.Second)
	tk, _, err := e.desk.Tickets.Create(ctx, emulator.DemoOrgID, &zohodesk.TicketCreateRequest{
		Subject: "Polled", DepartmentID: emulator.DemoDepartmentID, Contact: &zohodesk.TicketContact{LastName: "Poll", Email: "poll@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	*e.clock = e.clock.Add(time.Second)
	if got := e.poll(t); got != 1 {
		t.Fatalf("first poll logged %d events, want 1 (ticket.created)", got)
	}
	// The overlap re-reads the same ticket: nothing new.
	*e.clock = e.clock.Add(time.Second)
	if got := e.poll(t); got != 0 {
		t.Fatalf("second poll logged %d events, want 0", got)
	}
	*e.clock = e.clock.Add(time.Second)
	if _, _, err := e.desk.Tickets.Update(ctx, emulator.DemoOrgID, tk.ID, &zohodesk.TicketUpdateRequest{Status: zohodesk.Set("Closed")}, nil); err != nil {
		t.Fatal(err)
	}
	*e.clock = e.clock.Add(time.Second)
	if got := e.poll(t); got != 1 {
		t.Fatalf("poll after the update logged %d events, want 1 (ticket.updated)", got)
	}
	evs, err := e.st.ListEvents(ctx, store.EventFilter{ConnectionID: e.st.conn.ID})
	if err != nil || len(evs) != 2 || evs[0].Type != TicketCreated || evs[1].Type != TicketUpdated {
		t.Fatalf("log = %v, %v; want ticket.created then ticket.updated", evs, err)
	}
	src, _ := e.st.GetEventSource(ctx, e.st.conn.ID)
	if src.LastEventAt.IsZero() || src.LastError != "" {
		t.Errorf("source after polls = %+v, want LastEventAt set and no error", src)
	}
}

// Only the replica holding the connection's lease polls it.
func TestPollerLease(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t)
	other := &Poller{Store: e.p.Store, Log: e.p.Log, Owner: "p2", Now: e.p.Now}
	polled := 0
	count := func(context.Context, string, string) (*zohodesk.Client, *store.Connection, error) {
		polled++
		return e.desk, e.st.conn, nil
	}
	e.p.Client, other.Client = count, count
	e.p.RunOnce(t.Context())
	other.RunOnce(t.Context())
	if polled != 1 {
		t.Errorf("the connection was polled %d times by two replicas in one round, want 1", polled)
	}
}

// A round's searches are paid for by waiting: the next round comes when
// they fit the daily credit budget.
func TestPollerCreditBudget(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t)
	polled := 0
	e.p.CreditsPerDay = 2880 // 3 credits = 90 s
	e.p.Client = func(context.Context, string, string) (*zohodesk.Client, *store.Connection, error) {
		polled++
		return e.desk, e.st.conn, nil
	}
	e.p.RunOnce(t.Context())
	*e.clock = e.clock.Add(60 * time.Second)
	e.p.RunOnce(t.Context())
	if polled != 1 {
		t.Fatalf("polled %d times within 60 s, want 1 (one search = 90 s of budget)", polled)
	}
	*e.clock = e.clock.Add(31 * time.Second)
	e.p.RunOnce(t.Context())
	if polled != 2 {
		t.Errorf("polled %d times after 91 s, want 2", polled)
	}
}

// A polled ticket.updated carries the previous values of the fields that
// changed since the poller last read the ticket; the first read of a
// ticket knows none.
func TestPollerPreviousValues(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t)
	ctx := t.Context()
	*e.clock = e.clock.Add(time.Second)
	tk, _, err := e.desk.Tickets.Create(ctx, emulator.DemoOrgID, &zohodesk.TicketCreateRequest{
		Subject: "Polled", DepartmentID: emulator.DemoDepartmentID, Contact: &zohodesk.TicketContact{LastName: "Poll", Email: "poll@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	*e.clock = e.clock.Add(time.Second)
	e.poll(t)
	for i, change := range []*zohodesk.TicketUpdateRequest{
		{Status: zohodesk.Set("Closed")},
		{Subject: zohodesk.Set("Polled again"), Priority: zohodesk.Set("High")},
	} {
		*e.clock = e.clock.Add(time.Second)
		if _, _, err := e.desk.Tickets.Update(ctx, emulator.DemoOrgID, tk.ID, change, nil); err != nil {
			t.Fatal(err)
		}
		*e.clock = e.clock.Add(time.Second)
		if got := e.poll(t); got != 1 {
			t.Fatalf("poll after change %d logged %d events, want 1", i, got)
		}
	}
	evs, err := e.st.ListEvents(ctx, store.EventFilter{ConnectionID: e.st.conn.ID})
	if err != nil || len(evs) != 3 {
		t.Fatalf("log = %v, %v; want 3 events", evs, err)
	}
	previous := func(i int) map[string]any {
		var env struct {
			Previous map[string]any `json:"previous"`
		}
		if err := json.Unmarshal(evs[i].Body, &env); err != nil {
			t.Fatal(err)
		}
		return env.Previous
	}
	if p := previous(0); p != nil {
		t.Errorf("ticket.created previous = %v, want none", p)
	}
	if p := previous(1); p["status"] != "Open" || p["subject"] != nil {
		t.Errorf("first update previous = %v, want status Open and nothing about the subject", p)
	}
	if p := previous(2); p["subject"] != "Polled" || p["status"] != nil || p["priority"] == "High" {
		t.Errorf("second update previous = %v, want the old subject and priority, not the status", p)
	}
}

// The previous-values state keeps the most recently modified tickets only.
func TestSeenStateBounded(t *testing.T) {
	t.Parallel()
	s := seenState{}
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxSeenTickets + 10 {
		s[fmt.Sprint(i)] = seenTicket{Modified: base.Add(time.Duration(i) * time.Second).Format(time.RFC3339)}
	}
	text, err := s.encode()
	if err != nil {
		t.Fatal(err)
	}
	var back seenState
	if err := json.Unmarshal([]byte(text), &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != maxSeenTickets {
		t.Fatalf("kept %d tickets, want %d", len(back), maxSeenTickets)
	}
	for i := range 10 {
		if _, ok := back[fmt.Sprint(i)]; ok {
			t.Errorf("kept ticket %d, one of the 10 oldest", i)
		}
	}
}
