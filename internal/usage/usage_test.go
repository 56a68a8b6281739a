package usage_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/usage"
)

// memStore is a UsageStore in memory; fail makes AddCallCounts and
// SumCallCounts fail.
type memStore struct {
	mu    sync.Mutex
	rows  map[string]store.CallCount
	adds  int
	fail  error
	onAdd func() // runs inside AddCallCounts, before it writes
}

func key(c store.CallCount) string {
	return c.TenantID + "/" + c.ConnectionID + "/" + c.Minute.UTC().Format(time.RFC3339)
}

func (m *memStore) AddCallCounts(_ context.Context, counts []store.CallCount) error {
	if m.onAdd != nil {
		m.onAdd()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if m.rows == nil {
		m.rows = map[string]store.CallCount{}
	}
	m.adds++
	for _, c := range counts {
		r := m.rows[key(c)]
		c.Calls += r.Calls
		c.Errors += r.Errors
		m.rows[key(c)] = c
	}
	return nil
}

func (m *memStore) SumCallCounts(_ context.Context, tenantID, connectionID string, since time.Time) (int64, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return 0, 0, m.fail
	}
	var calls, errs int64
	for _, r := range m.rows {
		if r.TenantID == tenantID && r.ConnectionID == connectionID && !r.Minute.Before(since) {
			calls += r.Calls
			errs += r.Errors
		}
	}
	return calls, errs, nil
}

func (m *memStore) PurgeCallCounts(context.Context, time.Time) (int64, error) { return 0, nil }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Date(2026, 12, 7, 10, 30, 15, 0, time.UTC)} }
func obs(conn, outcome string) action.Observation {
	return action.Observation{Tenant: "t1", ConnectionID: conn, Action: "get_ticket", Outcome: outcome}
}

func lastHour(t *testing.T, c *usage.Counter, conn string) (int64, int64) {
	t.Helper()
	calls, errs, err := c.LastHour(t.Context(), "t1", conn)
	if err != nil {
		t.Fatalf("LastHour = %v", err)
	}
	return calls, errs
}

func TestCounterCountsReadsAndErrorsBeforeAndAfterFlush(t *testing.T) {
	t.Parallel()
	st, clk := &memStore{}, newClock()
	c := usage.NewCounter(st, clk.Now, nil)
	c.Observe(obs("c1", "ok"))
	c.Observe(obs("c1", "dry_run"))
	c.Observe(obs("c1", "forbidden"))
	c.Observe(obs("c2", "ok"))
	c.Observe(action.Observation{Tenant: "t1", Action: "nope", Outcome: "not_found"}) // no connection: not counted
	if calls, errs := lastHour(t, c, "c1"); calls != 3 || errs != 1 {
		t.Fatalf("before a flush: %d calls, %d errors; want 3, 1", calls, errs)
	}
	if err := c.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st.adds != 1 || len(st.rows) != 2 {
		t.Fatalf("flush wrote %d batches, %d rows; want 1 batch of 2 rows", st.adds, len(st.rows))
	}
	clk.Add(time.Minute)
	c.Observe(obs("c1", "unavailable"))
	if calls, errs := lastHour(t, c, "c1"); calls != 4 || errs != 2 {
		t.Fatalf("stored plus pending: %d calls, %d errors; want 4, 2", calls, errs)
	}
	if err := c.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if calls, errs := lastHour(t, c, "c1"); calls != 4 || errs != 2 {
		t.Fatalf("after the second flush: %d calls, %d errors; want 4, 2 (nothing counted twice)", calls, errs)
	}
	// 60 minutes after the first minute, its calls leave the window.
	clk.Add(59 * time.Minute)
	if calls, _ := lastHour(t, c, "c1"); calls != 1 {
		t.Fatalf("an hour later: %d calls; want 1 (the first minute is out)", calls)
	}
}

func TestCounterKeepsCountsWhenAFlushFails(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	st := &memStore{fail: boom}
	c := usage.NewCounter(st, newClock().Now, nil)
	c.Observe(obs("c1", "ok"))
	if err := c.Flush(t.Context()); !errors.Is(err, boom) {
		t.Fatalf("Flush = %v, want %v", err, boom)
	}
	c.Observe(obs("c1", "ok"))
	st.mu.Lock()
	st.fail = nil
	st.mu.Unlock()
	if err := c.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if calls, _ := lastHour(t, c, "c1"); calls != 2 {
		t.Fatalf("after a failed then a good flush: %d calls; want 2", calls)
	}
}

// A reader during a flush sees each count once: neither both in memory
// and in the store nor in neither.
func TestCounterReadDuringFlush(t *testing.T) {
	t.Parallel()
	inFlush, release := make(chan struct{}), make(chan struct{})
	st := &memStore{}
	st.onAdd = func() { close(inFlush); <-release }
	c := usage.NewCounter(st, newClock().Now, nil)
	c.Observe(obs("c1", "ok"))
	flushed := make(chan error)
	go func() { flushed <- c.Flush(context.Background()) }()
	<-inFlush
	read := make(chan int64)
	go func() {
		calls, _, _ := c.LastHour(context.Background(), "t1", "c1")
		read <- calls
	}()
	c.Observe(obs("c1", "ok")) // counting never waits for a flush
	close(release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if got := <-read; got != 2 {
		t.Fatalf("read during a flush = %d calls; want 2", got)
	}
}

func TestCounterRunFlushesOnTickAndAtTheEnd(t *testing.T) {
	t.Parallel()
	st := &memStore{}
	c := usage.NewCounter(st, newClock().Now, nil)
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx, tick) }()
	c.Observe(obs("c1", "ok"))
	tick <- time.Time{}
	tick <- time.Time{} // the second tick is taken after the first flush finished
	st.mu.Lock()
	adds := st.adds
	st.mu.Unlock()
	if adds != 1 {
		t.Fatalf("after two ticks: %d batches written; want 1 (the second had nothing)", adds)
	}
	c.Observe(obs("c1", "ok"))
	cancel()
	<-done
	if st.adds != 2 || st.rows[key(store.CallCount{TenantID: "t1", ConnectionID: "c1", Minute: newClock().Now().Truncate(time.Minute)})].Calls != 2 {
		t.Fatalf("Run's final flush: %d batches, rows %v; want 2 batches, 2 calls", st.adds, st.rows)
	}
}

func TestDailyLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		edition string
		agents  int
		want    int
		ok      bool
	}{
		{"FREE", 3, 5000, true}, {"NEW_FREE", 0, 5000, true}, {"EXPRESS", 10, 26000, true},
		{"STANDARD", 4, 51000, true}, {"professional", 2, 76000, true}, {"ENTERPRISE", 5, 105000, true},
		{"ZOHOONE", 1, 101000, true}, {"ULTIMATE", 5, 0, false}, {"", 1, 0, false},
	} {
		if got, ok := usage.DailyLimit(tc.edition, tc.agents); got != tc.want || ok != tc.ok {
			t.Errorf("DailyLimit(%q, %d) = %d, %v; want %d, %v", tc.edition, tc.agents, got, ok, tc.want, tc.ok)
		}
	}
}

func TestOrgCacheFetchesOncePerHour(t *testing.T) {
	t.Parallel()
	clk := newClock()
	var fetches atomic.Int32
	fail := atomic.Bool{}
	cache := usage.NewOrgCache(func(ctx context.Context, k usage.OrgKey) (usage.OrgInfo, error) {
		fetches.Add(1)
		if fail.Load() {
			return usage.OrgInfo{}, errors.New("scope missing")
		}
		return usage.OrgInfo{Edition: "PROFESSIONAL", Agents: 4, AgentsKnown: true}, nil
	}, clk.Now)
	k := usage.OrgKey{TenantID: "t1", ConnectionID: "c1", OrgID: "o1"}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if info, ok := cache.Get(context.Background(), k); !ok || info.Edition != "PROFESSIONAL" {
				t.Errorf("Get = %+v, %v", info, ok)
			}
		})
	}
	wg.Wait()
	clk.Add(59 * time.Minute)
	cache.Get(t.Context(), k)
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches within the hour; want 1", n)
	}
	clk.Add(time.Minute)
	fail.Store(true)
	info, _ := cache.Get(t.Context(), k)
	if fetches.Load() != 2 || info.Edition != "PROFESSIONAL" || info.Err == "" {
		t.Fatalf("a failed refetch: %d fetches, info %+v; want 2, the old edition kept with the error", fetches.Load(), info)
	}
	clk.Add(9 * time.Minute)
	cache.Get(t.Context(), k)
	clk.Add(time.Minute)
	cache.Get(t.Context(), k)
	if n := fetches.Load(); n != 3 {
		t.Fatalf("after a failure: %d fetches; want one more after 10 minutes (3)", n)
	}
}

func TestReporterCredits(t *testing.T) {
	t.Parallel()
	now := newClock().Now()
	conn := &store.Connection{ID: "c1", TenantID: "t1", OrgID: "o1", Status: store.StatusActive,
		SealedRefreshToken: []byte("x"), AccessExpiry: now.Add(time.Minute)}
	for _, tc := range []struct {
		name      string
		info      usage.OrgInfo
		err       error
		remaining int
		seen      bool
		want      []string
		used      int // -1: absent
		above     bool
	}{
		{"used of limit", usage.OrgInfo{Edition: "PROFESSIONAL", Agents: 4, AgentsKnown: true}, nil, 76500, true,
			[]string{"500 used of 77000 today (edition PROFESSIONAL, 4 agents)", "shared by every app"}, 500, false},
		{"extra credits", usage.OrgInfo{Edition: "FREE", Agents: 1, AgentsKnown: true}, nil, 9000, true,
			[]string{"9000 left today", "extra credits bought?"}, -1, true},
		{"unknown edition", usage.OrgInfo{Edition: "ULTIMATE", Agents: 4, AgentsKnown: true}, nil, 1234, true,
			[]string{"1234 left today", "the daily limit is unknown", "no credits for edition ULTIMATE"}, -1, false},
		{"fetch failed", usage.OrgInfo{}, errors.New("scope missing"), 1234, true,
			[]string{"1234 left today", "could not fetch the edition or agents: scope missing"}, -1, false},
		{"no call yet", usage.OrgInfo{Edition: "EXPRESS", Agents: 2, AgentsKnown: true}, nil, 0, false,
			[]string{"daily limit 25200 (edition EXPRESS, 2 agents)"}, -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &usage.Reporter{
				Counter: usage.NewCounter(&memStore{}, func() time.Time { return now }, nil),
				Orgs: usage.NewOrgCache(func(context.Context, usage.OrgKey) (usage.OrgInfo, error) { return tc.info, tc.err },
					func() time.Time { return now }),
				Credits: func(string) (int, time.Time, bool) { return tc.remaining, now, tc.seen },
				Now:     func() time.Time { return now },
			}
			h := r.Health(t.Context(), conn)
			for _, w := range tc.want {
				if !strings.Contains(h.Credits.Summary, w) {
					t.Errorf("summary %q lacks %q", h.Credits.Summary, w)
				}
			}
			if (tc.used < 0) != (h.Credits.Used == nil) || (h.Credits.Used != nil && *h.Credits.Used != tc.used) {
				t.Errorf("Used = %v, want %d", h.Credits.Used, tc.used)
			}
			if h.Credits.AboveLimit != tc.above {
				t.Errorf("AboveLimit = %v, want %v", h.Credits.AboveLimit, tc.above)
			}
			if h.Token != usage.TokenValid {
				t.Errorf("Token = %q, want valid", h.Token)
			}
		})
	}
}
