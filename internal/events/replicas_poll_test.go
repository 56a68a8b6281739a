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
	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
	"github.com/deskconn/deskconn/zohodesk"
	"github.com/jackc/pgx/v5"
)

// Three replicas on one Postgres poll a polling connection: in each round
// all three try at once, and only the holder of the connection's session
// advisory lock reads Zoho; every ticket becomes one event. When the
// holder's session ends (a crash, or its connection to Postgres lost: it
// never releases), exactly one of the others takes over at its next round,
// with no lease to wait out, and the old holder, finding its session gone,
// stops polling.
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

	replicas, tn := openReplicas(t, dsn)
	st := replicas[0]
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
	t.Cleanup(func() {
		for _, p := range pollers {
			p.Close()
		}
	})
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

	// The holder's session ends, as when its process is killed or its
	// connection to Postgres drops: Postgres releases the lock at once.
	terminateLockHolder(t, dsn, pollLock(c.ID))
	var rest []*Poller
	for i, p := range pollers {
		if i != holder {
			rest = append(rest, p)
		}
	}
	createTicket("after the crash")
	round(rest)
	h = holders()
	if len(h) != 2 {
		t.Fatalf("after the holder's session ended, replicas that read Zoho: %v, want the old holder and one other", h)
	}
	if n, err := countLogged(t, st, c.ID); err != nil || n != rounds+1 {
		t.Fatalf("the log has %d events (%v), want %d", n, err, rounds+1)
	}
	// The old holder comes back: it finds its session gone, so it no
	// longer holds the lock and does not poll; the new holder goes on.
	before := make([]int32, len(reads))
	for i := range reads {
		before[i] = reads[i].Load()
	}
	createTicket("after the old holder came back")
	round(pollers)
	var polled []int
	for i := range reads {
		if reads[i].Load() > before[i] {
			polled = append(polled, i)
		}
	}
	if len(polled) != 1 || polled[0] == holder {
		t.Fatalf("with the old holder back, replicas that read Zoho: %v, want only the new holder (old holder %d)", polled, holder)
	}
	if n, err := countLogged(t, st, c.ID); err != nil || n != rounds+2 {
		t.Fatalf("the log has %d events (%v), want %d", n, err, rounds+2)
	}
}

// terminateLockHolder ends the Postgres session holding the named session
// lock (postgres.SessionLocks) of this schema, as a crash would.
func terminateLockHolder(t *testing.T, dsn, name string) {
	t.Helper()
	admin, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(t.Context())
	// An advisory lock on a bigint key shows in pg_locks as classid (high
	// 32 bits) and objid (low 32 bits), objsubid 1. The timeout makes
	// pg_terminate_backend wait until the session has ended (Postgres 14+).
	var n int
	err = admin.QueryRow(t.Context(), `WITH k AS (SELECT hashtextextended('deskconn/lock/' || current_schema() || '/' || $1::text, 0) AS key)
		SELECT count(*) FILTER (WHERE pg_terminate_backend(l.pid, 10000)) FROM pg_locks l, k
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.classid = ((k.key >> 32) & 4294967295)::bigint::oid AND l.objid = (k.key & 4294967295)::bigint::oid`, name).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("terminate the lock holder's session: %d sessions, %v; want 1", n, err)
	}
}

func countLogged(t *testing.T, st store.EventStore, connID string) (int, error) {
	t.Helper()
	evs, err := st.ListEvents(t.Context(), store.EventFilter{ConnectionID: connID, Limit: 1000})
	return len(evs), err
}
