package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrLockLost is the cause of fn's context being cancelled when the
// session holding the refresh lock ended (connection dropped or backend
// terminated): Postgres then released the lock and another process may
// hold it.
var ErrLockLost = errors.New("postgres store: refresh lock session lost")

// refreshKey is the advisory-lock key of one connection, scoped by schema so
// deployments sharing a database do not contend.
const refreshKey = `hashtextextended('deskconn/refresh/' || current_schema() || '/' || $1::text, 0)`

// WithRefreshLock runs fn while holding the refresh lock of one connection
// across every process using this database: an in-process lock (so only one
// goroutine per process waits on Postgres) and then a session-level
// pg_advisory_lock on a dedicated connection from the lock pool, unlocked
// after fn.
//
// Why an advisory lock and not SELECT ... FOR UPDATE: a row lock lives in a
// transaction, which would stay open across fn's network I/O (idle in
// transaction), and fn's own UpdateConnection through the main pool would
// block on that very row lock. The advisory lock holds no row and no
// transaction, and dies with its session if this process crashes.
//
// fn's context is cancelled when ctx ends or the session is lost (cause
// ErrLockLost); fn must return promptly then. If ctx ended, its error is
// returned; otherwise fn's error.
func (s *Store) WithRefreshLock(ctx context.Context, connectionID string, fn func(ctx context.Context) error) error {
	unlock, err := s.locals.Lock(ctx, connectionID)
	if err != nil {
		return fmt.Errorf("refresh lock: %w", err)
	}
	defer unlock()

	conn, err := s.lockPool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("refresh lock: %w", err)
	}
	defer conn.Release()
	// pg_advisory_lock blocks in the server; pgx cancels it when ctx ends.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+refreshKey+`)`, connectionID); err != nil {
		// The lock may or may not have been granted: end the session so it
		// cannot outlive this call.
		conn.Conn().Close(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("refresh lock: %w", err)
	}

	fnCtx, cancel := context.WithCancelCause(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		s.watchSession(fnCtx, conn.Conn().PgConn().Ping, cancel)
	}()
	err = fn(fnCtx)
	cancel(nil)
	<-watched

	uctx, ucancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer ucancel()
	var released bool
	if uerr := conn.QueryRow(uctx, `SELECT pg_advisory_unlock(`+refreshKey+`)`, connectionID).Scan(&released); uerr != nil || !released {
		// Closing the session releases every lock it holds.
		conn.Conn().Close(uctx)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// watchSession pings the lock's session every s.watch until ctx ends; a
// failed ping means the session, and with it the lock, is gone.
func (s *Store) watchSession(ctx context.Context, ping func(context.Context) error, cancel context.CancelCauseFunc) {
	ticker := time.NewTicker(s.watch)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if err := ping(ctx); err != nil && ctx.Err() == nil {
			cancel(ErrLockLost)
			return
		}
	}
}
