package postgres

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
	"github.com/deskconn/deskconn/zohodesk"
)

var _ zohodesk.Limiter = (*OrgLimiter)(nil)

// openReplicas opens n Stores on one test schema, as n replicas would, each
// with an OrgLimiter of concurrency limit.
func openReplicas(t *testing.T, n, limit int) []*OrgLimiter {
	t.Helper()
	dsn := pgtest.DSN(t, "deskconn_test")
	var out []*OrgLimiter
	for range n {
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		l, err := s.OrgLimiter(t.Context(), limit, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l.Close)
		out = append(out, l)
	}
	return out
}

// TestOrgLimiterAcrossReplicas: 3 replicas × 10 callers on one org never
// hold more than the limit at once in total, another org has its own
// slots, and every caller gets through.
func TestOrgLimiterAcrossReplicas(t *testing.T) {
	const limit = 3
	ls := openReplicas(t, 3, limit)
	var inFlight, peak, done atomic.Int32
	var otherPeak atomic.Int32
	var wg sync.WaitGroup
	for _, l := range ls {
		for range 10 {
			wg.Go(func() {
				release, err := l.Acquire(t.Context(), "org-a")
				if err != nil {
					t.Errorf("acquire: %v", err)
					return
				}
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(10 * time.Millisecond)
				inFlight.Add(-1)
				release()
				release() // a second call is harmless
				done.Add(1)
			})
		}
		wg.Go(func() {
			// org-b is not blocked by org-a's full slots.
			release, err := l.Acquire(t.Context(), "org-b")
			if err != nil {
				t.Errorf("acquire org-b: %v", err)
				return
			}
			otherPeak.Add(1)
			release()
		})
	}
	wg.Wait()
	if got := peak.Load(); got > limit || got < 2 {
		t.Errorf("peak in flight = %d, want between 2 and %d", got, limit)
	}
	if done.Load() != 30 || otherPeak.Load() != 3 {
		t.Errorf("done %d of 30, org-b %d of 3", done.Load(), otherPeak.Load())
	}
}

// TestOrgLimiterWaitEndsWithContext: with every slot held elsewhere,
// Acquire returns the context's error and holds nothing afterwards.
func TestOrgLimiterWaitEndsWithContext(t *testing.T) {
	ls := openReplicas(t, 2, 1)
	release, err := ls[0].Acquire(t.Context(), "org")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := ls[1].Acquire(ctx, "org"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire with the slot held elsewhere: %v, want DeadlineExceeded", err)
	}
	release()
	ctx2, cancel2 := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel2()
	r2, err := ls[1].Acquire(ctx2, "org")
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	r2()
}

// TestOrgLimiterFreedByDeadReplica: a replica that goes away while holding
// slots (its sessions end) does not keep them.
func TestOrgLimiterFreedByDeadReplica(t *testing.T) {
	ls := openReplicas(t, 2, 2)
	for range 2 {
		if _, err := ls[0].Acquire(t.Context(), "org"); err != nil {
			t.Fatal(err)
		}
	}
	ls[0].Close() // the sessions end, as when a process is killed
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for range 2 {
		r, err := ls[1].Acquire(ctx, "org")
		if err != nil {
			t.Fatalf("slot of a dead replica not freed: %v", err)
		}
		defer r()
	}
}

// TestOrgLimiterNoTooManyRequests: three replicas' Desk clients, sharing an
// emulator that enforces a concurrency limit of 3 with 150 ms per call, send
// 60 concurrent calls; with the deployment-wide limiter the emulator never
// answers 429 TOO_MANY_REQUESTS (each replica alone would allow 3).
func TestOrgLimiterNoTooManyRequests(t *testing.T) {
	const limit = 3
	ls := openReplicas(t, 3, limit)
	emu := emulator.New(emulator.Options{MaxConcurrent: limit, DailyCredits: 1_000_000,
		Faults: []emulator.Fault{{Kind: emulator.FaultLatency, PathPrefix: "/api/v1/", Latency: 150 * time.Millisecond}}})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.tickets.ALL", "Desk.basic.READ"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, l := range ls {
		c, err := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken(access), Limiter: l,
			HTTPClient: srv.Client(), Retry: zohodesk.RetryPolicy{MaxAttempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			wg.Go(func() {
				if _, _, err := c.Tickets.Get(t.Context(), emulator.DemoOrgID, "1892000000042032", nil); err != nil {
					t.Errorf("get ticket: %v", err)
				}
			})
		}
	}
	wg.Wait()
	srv.Client().CloseIdleConnections()
	for _, r := range emu.Requests() {
		if r.ErrorCode == "TOO_MANY_REQUESTS" {
			t.Fatalf("the emulator answered TOO_MANY_REQUESTS at %s", r.Time)
		}
	}
	if n := emu.Counters().Requests["GET /api/v1/tickets/1892000000042032"]; n != 60 {
		t.Errorf("emulator saw %d ticket reads, want 60", n)
	}
}
