package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/store"
)

// FlushEvery is how often Counter.Run writes the counts to the store.
const FlushEvery = time.Minute

// flushTimeout bounds the final flush when Run's context ends.
const flushTimeout = 10 * time.Second

type countKey struct {
	tenant, conn string
	minute       int64 // Unix seconds of the minute
}

type tally struct{ calls, errors int64 }

// Counter counts action calls per (tenant, connection, minute) in memory
// and flushes them to the store as increments. Observe never touches the
// store; LastHour adds what is stored to what is not flushed yet. It is
// safe for concurrent use.
type Counter struct {
	st  store.UsageStore
	now func() time.Time
	log *slog.Logger

	// flushing is held for writing by Flush across its store write, and
	// for reading by LastHour, so that a reader never sees a batch both
	// in memory and in the store, or in neither.
	flushing sync.RWMutex
	mu       sync.Mutex // guards pending
	pending  map[countKey]tally
}

// NewCounter returns a Counter that flushes to st. now is its clock (nil:
// time.Now); log receives flush failures (nil: none).
func NewCounter(st store.UsageStore, now func() time.Time, log *slog.Logger) *Counter {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Counter{st: st, now: now, log: log, pending: make(map[countKey]tally)}
}

// Failed reports whether an outcome counts as an error: anything but "ok"
// and "dry_run" (refusals by policy or scope, invalid input and Zoho's
// errors alike).
func Failed(outcome string) bool { return outcome != "ok" && outcome != "dry_run" }

// Observe counts one finished call; use it as (part of)
// action.Options.Observer. Calls without a connection are not counted.
// A nil Counter counts nothing.
func (c *Counter) Observe(o action.Observation) {
	if c == nil || o.ConnectionID == "" {
		return
	}
	k := countKey{tenant: o.Tenant, conn: o.ConnectionID, minute: c.now().Unix() / 60 * 60}
	c.mu.Lock()
	t := c.pending[k]
	t.calls++
	if Failed(o.Outcome) {
		t.errors++
	}
	c.pending[k] = t
	c.mu.Unlock()
}

// Flush writes the pending counts to the store in one batch. On failure
// they stay pending (added to whatever came meanwhile) for the next
// flush, except minutes older than store.CallCountRetention.
func (c *Counter) Flush(ctx context.Context) error {
	c.flushing.Lock()
	defer c.flushing.Unlock()
	c.mu.Lock()
	batch := c.pending
	c.pending = make(map[countKey]tally)
	c.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	rows := make([]store.CallCount, 0, len(batch))
	for k, t := range batch {
		rows = append(rows, store.CallCount{TenantID: k.tenant, ConnectionID: k.conn, Minute: time.Unix(k.minute, 0).UTC(), Calls: t.calls, Errors: t.errors})
	}
	err := c.st.AddCallCounts(ctx, rows)
	if err == nil {
		return nil
	}
	oldest := c.now().Add(-store.CallCountRetention).Unix()
	c.mu.Lock()
	for k, t := range batch {
		if k.minute < oldest {
			continue
		}
		p := c.pending[k]
		c.pending[k] = tally{calls: p.calls + t.calls, errors: p.errors + t.errors}
	}
	c.mu.Unlock()
	return fmt.Errorf("flush call counts: %w", err)
}

// Run flushes on every value of tick (nil: every FlushEvery) until ctx
// ends, then flushes once more, bounded by a few seconds, so that a clean
// shutdown loses nothing. Failures are logged; the counts wait for the
// next flush.
func (c *Counter) Run(ctx context.Context, tick <-chan time.Time) {
	if tick == nil {
		t := time.NewTicker(FlushEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
			defer cancel()
			if err := c.Flush(fctx); err != nil {
				c.log.Error("usage: final flush of call counts", "err", err)
			}
			return
		case <-tick:
			if err := c.Flush(ctx); err != nil && !errors.Is(err, context.Canceled) {
				c.log.Error("usage: flush call counts", "err", err)
			}
		}
	}
}

// LastHour returns a connection's calls and errors in the last 60 minutes
// (whole minutes: the current one and the 59 before it), stored and not
// yet flushed. A nil Counter reads nothing and returns zeros.
func (c *Counter) LastHour(ctx context.Context, tenantID, connectionID string) (calls, errs int64, err error) {
	if c == nil {
		return 0, 0, nil
	}
	since := c.now().Unix()/60*60 - 59*60
	c.flushing.RLock()
	defer c.flushing.RUnlock()
	c.mu.Lock()
	for k, t := range c.pending {
		if k.tenant == tenantID && k.conn == connectionID && k.minute >= since {
			calls += t.calls
			errs += t.errors
		}
	}
	c.mu.Unlock()
	sc, se, err := c.st.SumCallCounts(ctx, tenantID, connectionID, time.Unix(since, 0).UTC())
	if err != nil {
		return calls, errs, fmt.Errorf("last hour's calls: %w", err)
	}
	return calls + sc, errs + se, nil
}
