package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults of a Janitor.
const (
	// DefaultPurgeInterval is how often a Janitor purges.
	DefaultPurgeInterval = 10 * time.Minute
	// DefaultAuditRetention is how long audit records are kept.
	DefaultAuditRetention = 90 * 24 * time.Hour
)

// Janitor deletes what a store no longer needs, on a schedule: expired
// idempotency records, OAuth states, login links and web sessions
// (PurgeExpired), call counts older than CallCountRetention
// (PurgeCallCounts), and audit records older than the retention
// (PurgeAudit).
// Every replica may run one: each pass is a pair of idempotent deletes.
type Janitor struct {
	// Store is purged; required.
	Store Store
	// Interval is the time between passes; 0 means DefaultPurgeInterval.
	Interval time.Duration
	// AuditRetention is how long audit records are kept; 0 means
	// DefaultAuditRetention, a negative value keeps them forever.
	AuditRetention time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives what each pass deleted and its errors; nil means no
	// logging.
	Logger *slog.Logger
	// Tick, when set, replaces the Interval ticker: Run makes a pass per
	// value received (tests drive the schedule with it).
	Tick <-chan time.Time
}

// PurgeOnce runs one pass at the janitor's clock and returns the audit
// records it deleted. Every delete is tried; their errors are joined.
func (j *Janitor) PurgeOnce(ctx context.Context) (auditDeleted int64, err error) {
	if j.Store == nil {
		return 0, errors.New("janitor: Store is required")
	}
	now := time.Now()
	if j.Now != nil {
		now = j.Now()
	}
	var errs []error
	if err := j.Store.PurgeExpired(ctx, now); err != nil {
		errs = append(errs, fmt.Errorf("janitor: %w", err))
	}
	if _, err := j.Store.PurgeCallCounts(ctx, now.Add(-CallCountRetention)); err != nil {
		errs = append(errs, fmt.Errorf("janitor: %w", err))
	}
	if keep := j.retention(); keep > 0 {
		n, err := j.Store.PurgeAudit(ctx, now.Add(-keep))
		if err != nil {
			errs = append(errs, fmt.Errorf("janitor: %w", err))
		}
		auditDeleted = n
	}
	return auditDeleted, errors.Join(errs...)
}

func (j *Janitor) retention() time.Duration {
	if j.AuditRetention == 0 {
		return DefaultAuditRetention
	}
	return j.AuditRetention
}

// Run makes a pass every Interval (the first one Interval after it starts:
// call PurgeOnce first for one at once) until ctx ends. A failed pass is
// logged and the next one runs on schedule. Run returns when ctx ends;
// start it in its own goroutine and cancel ctx to stop it.
func (j *Janitor) Run(ctx context.Context) {
	tick := j.Tick
	if tick == nil {
		interval := j.Interval
		if interval <= 0 {
			interval = DefaultPurgeInterval
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			j.Pass(ctx)
		}
	}
}

// Pass is PurgeOnce with its outcome logged instead of returned.
func (j *Janitor) Pass(ctx context.Context) {
	log := j.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n, err := j.PurgeOnce(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		log.Error("purge expired records", "err", err)
	case n > 0:
		log.Info("purged old audit records", "deleted", n, "retention", j.retention().String())
	}
}
