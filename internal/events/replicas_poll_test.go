package events

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/postgres"
	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
	"github.com/deskconn/deskconn/zohodesk"
)

// Three replicas on one Postgres poll a polling connection: in each round
// all three try at once, and only the lease holder reads Zoho; every
// ticket becomes one event. When the holder stops (a crash: it never
// releases), exactly one of the others takes over once the lease expires.
func TestReplicasPollOnce(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t, "deskconn_events_poll")
	var mu sync.Mutex
	clock := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }

	emu := emulator.New(emulator.Options{Now: now, NoSeed: true})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID,
		[]string{"Desk.tickets.ALL", "Desk.search.READ", "Desk.contacts.ALL"})
	if err != nil {
		t.Fatal(err)
	}
	desk, err := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken(access)})
	if err != nil {
		t.Fatal(err)
	}

	var replicas []*postgres.Store
	for range 3 {
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		replicas = append(replicas, s)
	}
	st := replicas[0]
	tn := &store.Tenant{Name: "default"}
	if err := st.CreateTenant(t.Context(), tn); err != nil {
		t.Fatal(err)
	}
	c := &store.Connection{TenantID: tn.ID, Name: "demo", ClientID: "1000.X", Status: store.StatusActive,
		DeskBaseURL: srv.URL + "/api/v1", OrgID: emulator.DemoOrgID}
	if err := st.CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := st.PutEventSource(t.Context(), &store.EventSource{ConnectionID: c.ID, TenantID: tn.ID, Mode: store.SourcePolling}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetCursor(t.Context(), c.ID, cursorTickets, now().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}

	reads := make([]atomic.Int32, len(replicas)) // Zoho clients each replica asked for
	var pollers []*Poller
	for i, r := range replicas {
		pollers = append(pollers, &Poller{Store: r, Log: &Log{Store: r}, Owner: fmt.Sprintf("replica-%d", i), Now: now,
			CreditsPerDay: 1 << 30, // the budget's spacing is tested elsewhere
			Client: func(context.Context, string, string) (*zohodesk.Client, *store.Connection, error) {
				reads[i].Add(1)
				return desk, c, nil
			}})
	}
	createTicket := func(subject string) {
		t.Helper()
		advance(time.Second)
		if _, _, err := desk.Tickets.Create(t.Context(), emulator.DemoOrgID, &zohodesk.TicketCreateRequest{Subject: subject,
			DepartmentID: emulator.DemoDepartmentID, Contact: &zohodesk.TicketContact{LastName: "Poll", Email: "poll@example.com"}}); err != nil {
			t.Fatal(err)
		}
		advance(time.Second)
	}
	round := func(ps []*Poller) {
		var wg sync.WaitGroup
		for _, p := range ps {
			wg.Go(func() { p.RunOnce(t.Context()) })
		}
		wg.Wait()
	}
	holders := func() []int {
		var out []int
		for i := range reads {
			if reads[i].Load() > 0 {
				out = append(out, i)
			}
		}
		return out
	}

	const rounds = 4
	for i := range rounds {
		createTicket(fmt.Sprintf("round %d", i))
		round(pollers)
		advance(pollers[0].interval())
	}
	h := holders()
	if len(h) != 1 {
		t.Fatalf("replicas that read Zoho: %v, want exactly one", h)
	}
	holder := h[0]
	if got := reads[holder].Load(); got != rounds {
		t.Errorf("the holder read Zoho in %d rounds, want all %d", got, rounds)
	}
	n, err := countLogged(t, st, c.ID)
	if err != nil || n != rounds {
		t.Fatalf("the log has %d events (%v), want %d (one per ticket)", n, err, rounds)
	}

	// The holder stops without releasing; the others wait out its lease.
	var rest []*Poller
	for i, p := range pollers {
		if i != holder {
			rest = append(rest, p)
		}
	}
	createTicket("after the crash")
	round(rest)
	if h := holders(); len(h) != 1 {
		t.Fatalf("within the crashed holder's lease, replicas that read Zoho: %v, want only the old holder", h)
	}
	advance(3*pollers[0].interval() + time.Second)
	round(rest)
	if h := holders(); len(h) != 2 {
		t.Fatalf("after the lease expired, replicas that read Zoho: %v, want the old holder and one other", h)
	}
	if n, err := countLogged(t, st, c.ID); err != nil || n != rounds+1 {
		t.Fatalf("the log has %d events (%v), want %d", n, err, rounds+1)
	}
}

func countLogged(t *testing.T, st store.EventStore, connID string) (int, error) {
	t.Helper()
	evs, err := st.ListEvents(t.Context(), store.EventFilter{ConnectionID: connID, Limit: 1000})
	return len(evs), err
}
