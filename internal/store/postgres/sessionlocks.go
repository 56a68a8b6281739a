package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/jackc/pgx/v5"
)

// sessionLockKey is the advisory-lock key of one named lock, scoped by
// schema so deployments sharing a database do not contend.
const sessionLockKey = `hashtextextended('deskconn/lock/' || current_schema() || '/' || $1::text, 0)`

// SessionLocks are named session advisory locks (pg_try_advisory_lock)
// held on one dedicated Postgres connection of their own, outside the
// store's pools: they end when the process or its connection does, so a
// crashed replica's locks are free at once, and a pooled connection never
// carries a lock back into the pool. Hold pings the session before
// confirming a lock it held: a lost session lost every lock.
type SessionLocks struct {
	cfg *pgx.ConnConfig

	mu   sync.Mutex
	conn *pgx.Conn // nil until the first Hold, and after the session was lost
	held map[string]bool
}

// SessionLocks returns locks on a new session of their own, opened on
// first use; see store.SessionLocker.
func (s *Store) SessionLocks() store.Locks {
	return &SessionLocks{cfg: s.pool.Config().ConnConfig.Copy(), held: map[string]bool{}}
}

// Hold reports whether this session holds the named lock, taking it when
// free; see store.Locks.
func (l *SessionLocks) Hold(ctx context.Context, name string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		if err := l.conn.Ping(ctx); err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			// The session is gone, and with it every lock it held: another
			// process may hold them now. Start a new session below.
			l.endLocked()
		}
	}
	if l.held[name] {
		return true, nil
	}
	if l.conn == nil {
		conn, err := pgx.ConnectConfig(ctx, l.cfg)
		if err != nil {
			return false, fmt.Errorf("session lock %s: %w", name, err)
		}
		l.conn = conn
	}
	var ok bool
	if err := l.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+sessionLockKey+`)`, name).Scan(&ok); err != nil {
		// Whether it was granted is unknown: end the session so that no
		// lock outlives what this process knows it holds.
		l.endLocked()
		return false, fmt.Errorf("session lock %s: %w", name, err)
	}
	if ok {
		l.held[name] = true
	}
	return ok, nil
}

// Release gives up the named lock; see store.Locks.
func (l *SessionLocks) Release(ctx context.Context, name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held[name] || l.conn == nil {
		return nil
	}
	var released bool
	err := l.conn.QueryRow(ctx, `SELECT pg_advisory_unlock(`+sessionLockKey+`)`, name).Scan(&released)
	if err != nil || !released {
		// Ending the session releases the lock (and the others).
		l.endLocked()
		if err != nil {
			return fmt.Errorf("release session lock %s: %w", name, err)
		}
		return nil
	}
	delete(l.held, name)
	return nil
}

// Close ends the session, releasing every lock.
func (l *SessionLocks) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endLocked()
	return nil
}

// endLocked closes the session and forgets its locks.
func (l *SessionLocks) endLocked() {
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.conn.Close(ctx)
		l.conn = nil
	}
	clear(l.held)
}
