package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// testCallCounts: adds are increments (two handles adding to the same
// minute at once both count), sums cover minutes at or after since, per
// tenant and connection, and a purge deletes only older minutes.
func testCallCounts(t *testing.T, open func(t *testing.T) store.Store) {
	a, b := open(t), open(t)
	ctx := t.Context()
	tn, other := uniq("tenant"), uniq("tenant")
	base := time.Now().UTC().Truncate(time.Minute)
	row := func(tenant, conn string, minute time.Time, calls, errs int64) store.CallCount {
		return store.CallCount{TenantID: tenant, ConnectionID: conn, Minute: minute, Calls: calls, Errors: errs}
	}
	const rounds = 20
	var wg sync.WaitGroup
	for _, s := range []store.Store{a, b} {
		wg.Go(func() {
			for range rounds {
				// Two rows per batch, in both orders across handles, as two
				// replicas flushing the same minutes would.
				batch := []store.CallCount{row(tn, "c1", base, 2, 1), row(tn, "c1", base.Add(-time.Minute), 1, 0)}
				if s == b {
					batch[0], batch[1] = batch[1], batch[0]
				}
				if err := s.AddCallCounts(ctx, batch); err != nil {
					t.Errorf("AddCallCounts = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := a.AddCallCounts(ctx, []store.CallCount{
		row(tn, "c1", base.Add(-61*time.Minute), 100, 100), // before the hour
		row(tn, "c2", base, 7, 7),                          // another connection
		row(other, "c1", base, 9, 9),                       // another tenant
	}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddCallCounts(ctx, nil); err != nil {
		t.Errorf("AddCallCounts(nil) = %v", err)
	}
	calls, errs, err := b.SumCallCounts(ctx, tn, "c1", base.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(2 * rounds * 3); calls != want || errs != 2*rounds {
		t.Errorf("SumCallCounts(last hour) = %d calls, %d errors; want %d, %d", calls, errs, want, 2*rounds)
	}
	calls, errs, err = b.SumCallCounts(ctx, tn, "c1", base) // the minute at since counts
	if err != nil || calls != 2*rounds*2 || errs != 2*rounds {
		t.Errorf("SumCallCounts(since this minute) = %d, %d, %v; want %d, %d", calls, errs, err, 2*rounds*2, 2*rounds)
	}
	if calls, errs, err := a.SumCallCounts(ctx, uniq("tenant"), "c1", base.Add(-time.Hour)); err != nil || calls != 0 || errs != 0 {
		t.Errorf("SumCallCounts(no rows) = %d, %d, %v; want 0, 0, nil", calls, errs, err)
	}

	// Purge: rows of long-past minutes only (other subtests write now).
	ancient := time.Date(2001, 2, 3, 4, 5, 0, 0, time.UTC)
	if err := a.AddCallCounts(ctx, []store.CallCount{row(tn, "old", ancient, 1, 0), row(tn, "old", ancient.Add(time.Minute), 1, 0)}); err != nil {
		t.Fatal(err)
	}
	n, err := a.PurgeCallCounts(ctx, ancient.Add(time.Minute))
	if err != nil || n < 1 {
		t.Fatalf("PurgeCallCounts = %d, %v; want at least the one older row", n, err)
	}
	if calls, _, err := a.SumCallCounts(ctx, tn, "old", ancient.Add(-time.Hour)); err != nil || calls != 1 {
		t.Errorf("after the purge, SumCallCounts = %d, %v; want the minute at the cutoff kept (1)", calls, err)
	}
	if calls, _, err := a.SumCallCounts(ctx, tn, "c1", base.Add(-2*time.Hour)); err != nil || calls != 2*rounds*3+100 {
		t.Errorf("the purge deleted recent rows: %d calls, %v", calls, err)
	}
}
