package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/postgres"
	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
)

// countingPoster acknowledges every delivery and counts them per event id.
type countingPoster struct {
	mu  sync.Mutex
	got map[string]int
}

func (p *countingPoster) Post(_ context.Context, _ string, h http.Header, _ []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got[h.Get("Deskconn-Event-Id")]++
	return http.StatusOK, nil
}

// openReplicas opens three stores on the Postgres database at dsn, as
// three replicas would, and creates the tenant "default" through the first.
func openReplicas(t *testing.T, dsn string) ([]*postgres.Store, *store.Tenant) {
	t.Helper()
	var replicas []*postgres.Store
	for range 3 {
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		replicas = append(replicas, s)
	}
	tn := &store.Tenant{Name: "default"}
	if err := replicas[0].CreateTenant(t.Context(), tn); err != nil {
		t.Fatal(err)
	}
	return replicas, tn
}

// Three replicas on one Postgres deliver every event exactly once: the
// claims never hand one delivery to two workers.
func TestReplicasDeliverOnce(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t, "deskconn_events")
	replicas, tn := openReplicas(t, dsn)
	st := replicas[0]
	c := &store.Connection{TenantID: tn.ID, Name: "demo", ClientID: "1000.X", Status: store.StatusActive, OrgID: testOrgID}
	if err := st.CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	kr := testKeyring(t)
	if _, _, err := NewSubscription(t.Context(), st, kr, allowAll{}, tn.ID, c.ID, "https://hooks.example.com/", nil); err != nil {
		t.Fatal(err)
	}
	const n = 60
	var evs []*Normalised
	for i := range n {
		ev, err := Normalise(c.ID, ZohoEvent{EventType: "Ticket_Add", Payload: json.RawMessage(fmt.Sprintf(`{"id":"%d"}`, i))})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	// Each replica's receiver stores the whole batch (Zoho redelivering to
	// several replicas behind a load balancer): still n events.
	var wg sync.WaitGroup
	for _, r := range replicas {
		wg.Go(func() {
			if _, err := (&Log{Store: r}).Append(t.Context(), c.ID, evs); err != nil {
				t.Errorf("Append = %v", err)
			}
		})
	}
	wg.Wait()
	poster := &countingPoster{got: map[string]int{}}
	for i, r := range replicas {
		w := &Worker{Store: r, Keyring: kr, Poster: poster, Owner: fmt.Sprintf("replica-%d", i), Batch: 7, Lease: time.Minute}
		wg.Go(func() {
			for {
				claimed, err := w.RunOnce(t.Context())
				if err != nil {
					t.Errorf("RunOnce = %v", err)
					return
				}
				if claimed == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(poster.got) != n {
		t.Fatalf("delivered %d distinct events, want %d", len(poster.got), n)
	}
	for id, k := range poster.got {
		if k != 1 {
			t.Errorf("event %s delivered %d times, want once", id, k)
		}
	}
}

// allowAll accepts every subscriber URL (the guard is tested in egress).
type allowAll struct{}

func (allowAll) CheckURL(string) error { return nil }
