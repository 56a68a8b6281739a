package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// ErrLeaseLost is the cause of fn's context being cancelled when the
// refresh-lock lease could not be renewed in time (another process may then
// take the lock).
var ErrLeaseLost = errors.New("sqlite store: refresh lock lease lost")

// WithRefreshLock runs fn while holding the refresh lock of one connection,
// excluding other goroutines (an in-process lock) and other processes on
// the same file (a lease row in refresh_locks, renewed while fn runs). No
// SQLite transaction is held across fn, which does network I/O.
//
// fn's context is cancelled when ctx ends or the lease is lost
// (context.Cause is then ErrLeaseLost); fn must return promptly then. The
// lock is released when fn returns. If ctx ended, its error is returned;
// otherwise fn's error.
func (s *Store) WithRefreshLock(ctx context.Context, connectionID string, fn func(ctx context.Context) error) error {
	unlock, err := s.locals.Lock(ctx, connectionID)
	if err != nil {
		return fmt.Errorf("refresh lock: %w", err)
	}
	defer unlock()

	owner := store.NewID("lease")
	if err := s.acquireLease(ctx, connectionID, owner); err != nil {
		return fmt.Errorf("refresh lock: %w", err)
	}

	fnCtx, cancel := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		s.renewLease(fnCtx, connectionID, owner, cancel)
	}()
	err = fn(fnCtx)
	cancel(nil)
	<-renewed

	// Release even when ctx has ended. A failed release only delays the
	// next holder until the lease expires, so it is not fn's failure.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	_, _ = s.db.ExecContext(rctx, `DELETE FROM refresh_locks WHERE connection_id = ? AND owner = ?`, connectionID, owner)

	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// acquireLease takes the lease row for connectionID: an atomic insert that
// also takes over an expired lease. It polls with jittered backoff while
// another live owner holds it.
func (s *Store) acquireLease(ctx context.Context, connectionID, owner string) error {
	wait := 5 * time.Millisecond
	const maxWait = 200 * time.Millisecond
	for {
		t := time.Now()
		// RETURNING yields a row only when the row was inserted or taken over.
		var got string
		err := s.db.QueryRowContext(ctx, `INSERT INTO refresh_locks (connection_id, owner, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (connection_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
			WHERE refresh_locks.expires_at <= ? RETURNING owner`,
			connectionID, owner, t.Add(s.lease).UnixMicro(), t.UnixMicro()).Scan(&got)
		switch {
		case err == nil && got == owner:
			return nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("acquire lease: %w", err)
		}
		timer := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		wait = min(wait*2, maxWait)
	}
}

// renewLease extends the lease every third of its length until ctx ends.
// If the lease is gone (taken over) or cannot be renewed before it
// expires, it cancels fn's context with ErrLeaseLost.
func (s *Store) renewLease(ctx context.Context, connectionID, owner string, cancel context.CancelCauseFunc) {
	expires := time.Now().Add(s.lease)
	ticker := time.NewTicker(s.lease / 3)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		t := time.Now()
		res, err := s.db.ExecContext(ctx, `UPDATE refresh_locks SET expires_at = ? WHERE connection_id = ? AND owner = ?`,
			t.Add(s.lease).UnixMicro(), connectionID, owner)
		if err == nil {
			err = expectRow(res)
			if err != nil { // the row is gone or has another owner
				cancel(ErrLeaseLost)
				return
			}
			expires = t.Add(s.lease)
			continue
		}
		if time.Now().After(expires) {
			cancel(ErrLeaseLost)
			return
		}
	}
}
