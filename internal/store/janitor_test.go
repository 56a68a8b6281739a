package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// purgeStore records the janitor's calls; the rest of store.Store is nil.
type purgeStore struct {
	store.Store
	mu          sync.Mutex
	expired     []time.Time
	auditBefore []time.Time
	countBefore []time.Time
	err         error
	passes      chan struct{} // receives after each PurgeExpired, if set
}

func (p *purgeStore) PurgeExpired(_ context.Context, now time.Time) error {
	p.mu.Lock()
	p.expired = append(p.expired, now)
	p.mu.Unlock()
	if p.passes != nil {
		p.passes <- struct{}{}
	}
	return p.err
}

func (p *purgeStore) PurgeAudit(_ context.Context, before time.Time) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.auditBefore = append(p.auditBefore, before)
	return 3, p.err
}

func (p *purgeStore) PurgeCallCounts(_ context.Context, before time.Time) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.countBefore = append(p.countBefore, before)
	return 0, p.err
}

func TestJanitorPurgeOnce(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tests := []struct {
		name       string
		retention  time.Duration
		wantBefore []time.Time
	}{
		{"default 90 days", 0, []time.Time{now.Add(-90 * 24 * time.Hour)}},
		{"7 days", 7 * 24 * time.Hour, []time.Time{now.Add(-7 * 24 * time.Hour)}},
		{"kept forever", -1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := &purgeStore{}
			j := &store.Janitor{Store: st, AuditRetention: tc.retention, Now: clock}
			if _, err := j.PurgeOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
			if len(st.expired) != 1 || !st.expired[0].Equal(now) {
				t.Errorf("PurgeExpired at %v, want once at %v", st.expired, now)
			}
			if len(st.auditBefore) != len(tc.wantBefore) || (len(tc.wantBefore) == 1 && !st.auditBefore[0].Equal(tc.wantBefore[0])) {
				t.Errorf("PurgeAudit before %v, want %v", st.auditBefore, tc.wantBefore)
			}
			if want := now.Add(-store.CallCountRetention); len(st.countBefore) != 1 || !st.countBefore[0].Equal(want) {
				t.Errorf("PurgeCallCounts before %v, want once before %v", st.countBefore, want)
			}
		})
	}
}

func TestJanitorPurgeOnceErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	st := &purgeStore{err: boom}
	j := &store.Janitor{Store: st}
	if _, err := j.PurgeOnce(t.Context()); !errors.Is(err, boom) {
		t.Fatalf("PurgeOnce = %v, want %v", err, boom)
	}
	if len(st.expired) != 1 || len(st.auditBefore) != 1 || len(st.countBefore) != 1 {
		t.Errorf("a failed purge stopped the others: expired %d, audit %d, call counts %d calls", len(st.expired), len(st.auditBefore), len(st.countBefore))
	}
}

// TestJanitorRun drives Run's schedule by its Tick channel: one pass per
// tick, and Run returns when its context ends.
func TestJanitorRun(t *testing.T) {
	t.Parallel()
	tick := make(chan time.Time)
	st := &purgeStore{passes: make(chan struct{})}
	j := &store.Janitor{Store: st, Tick: tick}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.Run(ctx)
	}()
	for range 2 {
		tick <- time.Time{}
		<-st.passes
	}
	cancel()
	<-done
	if len(st.expired) != 2 || len(st.auditBefore) != 2 {
		t.Errorf("after 2 ticks: %d expiry and %d audit purges, want 2 each", len(st.expired), len(st.auditBefore))
	}
}
