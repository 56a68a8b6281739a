package events

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// gatedEventStore holds the first AppendEvents call until release is
// closed, and counts the calls.
type gatedEventStore struct {
	store.EventStore
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	calls   int
}

func (g *gatedEventStore) AppendEvents(ctx context.Context, evs []*store.Event) ([]*store.Event, error) {
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	first := false
	g.once.Do(func() { first = true })
	if first {
		<-g.release
	}
	return g.EventStore.AppendEvents(ctx, evs)
}

// eventually polls cond until it holds (or the test times out).
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-t.Context().Done():
			t.Fatal("condition never held")
		case <-time.After(time.Millisecond):
		}
	}
}

func normalisedTicketAdd(t *testing.T, conn, id string) *Normalised {
	t.Helper()
	n, err := Normalise(conn, ZohoEvent{EventType: "Ticket_Add", Payload: json.RawMessage(fmt.Sprintf(`{"id":%q}`, id))})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Appends that arrive while another commits share the next transaction;
// each caller gets back its own new events, a Zoho event sent twice in one
// batch is stored once, and the log has no gaps.
func TestAppendGroupCommit(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, "https://desk.zoho.com/api/v1")
	g := &gatedEventStore{EventStore: st, release: make(chan struct{})}
	l := &Log{Store: g}
	conn := st.conn.ID

	type result struct {
		name  string
		added []*store.Event
		err   error
	}
	results := make(chan result, 8)
	appendOne := func(name, id string) {
		added, err := l.Append(context.Background(), conn, []*Normalised{normalisedTicketAdd(t, conn, id)})
		results <- result{name, added, err}
	}
	go appendOne("first", "1") // its commit is held
	eventually(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.calls == 1 })
	// Five more queue up behind it, two of them the same Zoho event.
	for i, id := range []string{"2", "3", "4", "5", "5"} {
		go appendOne(fmt.Sprintf("later %d", i), id)
	}
	eventually(t, func() bool { return l.commits.Waiting() == 5 })
	close(g.release)

	added := 0
	for range 6 {
		r := <-results
		if r.err != nil {
			t.Fatalf("%s: Append = %v", r.name, r.err)
		}
		added += len(r.added)
		for _, e := range r.added {
			if e.Seq == 0 || e.ID == "" {
				t.Errorf("%s: added event without seq or id: %+v", r.name, e)
			}
		}
	}
	if added != 5 {
		t.Errorf("Append calls reported %d new events, want 5 (the repeated Zoho event once)", added)
	}
	if g.calls != 2 {
		t.Errorf("AppendEvents called %d times, want 2 (the held one, then one for the five queued)", g.calls)
	}
	evs, err := st.ListEvents(t.Context(), store.EventFilter{ConnectionID: conn})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 5 {
		t.Fatalf("the log has %d events, want 5", len(evs))
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Errorf("event %d has seq %d, want %d (no gaps)", i, e.Seq, i+1)
		}
	}
}

// A group commit that fails is retried request by request, so only the
// request with the bad row fails.
func TestAppendGroupCommitIsolatesFailure(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, "https://desk.zoho.com/api/v1")
	g := &gatedEventStore{EventStore: st, release: make(chan struct{})}
	l := &Log{Store: g}
	conn := st.conn.ID
	held := make(chan error, 1)
	go func() {
		_, err := l.Append(context.Background(), conn, []*Normalised{normalisedTicketAdd(t, conn, "1")})
		held <- err
	}()
	eventually(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.calls == 1 })
	// A bad request (an event without a source key, which the store
	// refuses) and a good one queue up behind it and share a batch.
	bad := normalisedTicketAdd(t, conn, "2")
	bad.SourceKey = ""
	badErr := make(chan error, 1)
	go func() {
		_, err := l.Append(context.Background(), conn, []*Normalised{bad})
		badErr <- err
	}()
	eventually(t, func() bool { return l.commits.Waiting() == 1 })
	type result struct {
		added []*store.Event
		err   error
	}
	good := make(chan result, 1)
	go func() {
		added, err := l.Append(context.Background(), conn, []*Normalised{normalisedTicketAdd(t, conn, "3")})
		good <- result{added, err}
	}()
	eventually(t, func() bool { return l.commits.Waiting() == 2 })
	close(g.release)
	if err := <-held; err != nil {
		t.Fatalf("the held Append = %v", err)
	}
	if err := <-badErr; err == nil {
		t.Error("the Append of an event without a source key succeeded, want an error")
	}
	if r := <-good; r.err != nil || len(r.added) != 1 {
		t.Fatalf("the good Append = %v, %v; want its event stored", r.added, r.err)
	}
	if g.calls != 4 {
		t.Errorf("AppendEvents called %d times, want 4 (held, the failed batch, then each request alone)", g.calls)
	}
	evs, err := st.ListEvents(t.Context(), store.EventFilter{ConnectionID: conn})
	if err != nil || len(evs) != 2 {
		t.Fatalf("log = %v, %v; want the held and the good event", evs, err)
	}
}

// Append sets the actor of exactly the changes deskconn's actions made (its
// write marks): the same ticket and modifiedTime, or the same thread; not
// a later change of the same ticket, nor another connection's.
func TestAppendMarksOwnWrites(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, "https://desk.zoho.com/api/v1")
	l := &Log{Store: st}
	const modified = "2026-06-01T10:00:00.000Z"
	if err := st.AppendAudit(t.Context(), &store.AuditRecord{TenantID: st.tenant.ID, APIKeyID: "key_1", ConnectionID: st.conn.ID,
		Action: "update_ticket", Outcome: "ok", Writes: []store.WriteMark{{Key: store.WriteKey("ticket", "1", modified)}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendAudit(t.Context(), &store.AuditRecord{TenantID: st.tenant.ID, APIKeyID: "mcpg_2", ConnectionID: st.conn.ID,
		Action: "reply_to_ticket", Outcome: "ok", Writes: []store.WriteMark{{Key: store.WriteKey("thread", "7", "")}}}); err != nil {
		t.Fatal(err)
	}
	norm := func(typ, payload string) *Normalised {
		t.Helper()
		n, err := Normalise(st.conn.ID, ZohoEvent{EventType: typ, Payload: json.RawMessage(payload)})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	evs := []*Normalised{
		norm("Ticket_Update", `{"id":"1","modifiedTime":"`+modified+`"}`),
		norm("Ticket_Update", `{"id":"1","modifiedTime":"2026-06-01T10:00:01.000Z"}`), // a person, a second later
		norm("Ticket_Thread_Add", `{"id":"7","ticketId":"1"}`),
		norm("Ticket_Add", `{"id":"1"}`), // created elsewhere
	}
	added, err := l.Append(t.Context(), st.conn.ID, evs)
	if err != nil || len(added) != 4 {
		t.Fatalf("Append = %d events, %v", len(added), err)
	}
	want := []*Actor{
		{Type: ActorDeskconn, Action: "update_ticket", Key: "key_1"},
		nil,
		{Type: ActorDeskconn, Action: "reply_to_ticket", Key: "mcpg_2"},
		nil,
	}
	for i, e := range added {
		var env Envelope
		if err := json.Unmarshal(e.Body, &env); err != nil {
			t.Fatal(err)
		}
		if (env.Actor == nil) != (want[i] == nil) || (env.Actor != nil && *env.Actor != *want[i]) {
			t.Errorf("event %d (%s) actor = %+v, want %+v", i, env.Type, env.Actor, want[i])
		}
	}
}
