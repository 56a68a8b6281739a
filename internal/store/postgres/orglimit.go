package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// orgSlotKey is the advisory-lock key of one concurrency slot of one Desk
// organization, scoped by schema like the other locks of this package.
const orgSlotKey = `hashtextextended('deskconn/org/' || current_schema() || '/' || $1::text || '/' || s::text, 0)`

// Polling of the slots while all are taken.
const (
	slotPollMin = 5 * time.Millisecond
	slotPollMax = 50 * time.Millisecond
)

// OrgLimiter bounds the Desk calls in flight per organization across every
// replica that shares the database: Zoho counts concurrent calls per
// organization (5 to 25 by edition) and answers 429 TOO_MANY_REQUESTS
// beyond it, whichever replica sent them.
//
// Each of the Concurrency slots of an organization is a session advisory
// lock; a call holds one slot, and with it one connection of the limiter's
// own pool, until it is released. A replica that dies loses its sessions,
// so its slots come free at once. Within one process a local semaphore
// keeps waiting callers off the database.
//
// OrgLimiter satisfies zohodesk.Limiter. It limits concurrency only, not
// the rate of call starts. Close it before closing the Store.
type OrgLimiter struct {
	n    int
	pool *pgxpool.Pool

	mu    sync.Mutex
	local map[string]chan struct{}
	held  map[*pgxpool.Conn]bool // connections holding a slot
}

// OrgLimiter returns a deployment-wide limiter allowing concurrency calls
// in flight per organization (at least 1). Its pool holds at most
// maxConns connections (at least concurrency; 0 means 4×concurrency), which
// bounds the calls in flight per process across all organizations.
func (s *Store) OrgLimiter(ctx context.Context, concurrency, maxConns int) (*OrgLimiter, error) {
	concurrency = max(concurrency, 1)
	if maxConns <= 0 {
		maxConns = 4 * concurrency
	}
	cfg := s.pool.Config().Copy()
	cfg.MaxConns = int32(max(maxConns, concurrency))
	cfg.MinConns = 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open org limiter: %w", err)
	}
	return &OrgLimiter{n: concurrency, pool: pool, local: map[string]chan struct{}{}, held: map[*pgxpool.Conn]bool{}}, nil
}

// Close closes the limiter's pool; the sessions of slots still held end,
// which frees them (their release functions then do nothing more).
func (l *OrgLimiter) Close() {
	l.mu.Lock()
	held := l.held
	l.held = map[*pgxpool.Conn]bool{}
	l.mu.Unlock()
	for c := range held {
		_ = c.Conn().Close(context.Background())
		c.Release()
	}
	l.pool.Close()
}

func (l *OrgLimiter) sem(orgID string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.local[orgID]
	if !ok {
		c = make(chan struct{}, l.n)
		l.local[orgID] = c
	}
	return c
}

// Acquire blocks until a slot of orgID is free in the whole deployment (or
// ctx ends) and returns the function that frees it; calling it more than
// once is harmless. On error nothing is held.
func (l *OrgLimiter) Acquire(ctx context.Context, orgID string) (func(), error) {
	sem := l.sem(orgID)
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release, err := l.acquireSlot(ctx, orgID)
	if err != nil {
		<-sem
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			release()
			<-sem
		})
	}, nil
}

// acquireSlot polls until it takes one of the org's slot locks.
func (l *OrgLimiter) acquireSlot(ctx context.Context, orgID string) (func(), error) {
	wait := slotPollMin
	for {
		conn, err := l.pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("acquire org slot: %w", err)
		}
		// LIMIT 1 stops at the first slot whose try-lock succeeds: the
		// slots tried before it were not locked, those after it not tried.
		var slot int
		err = conn.QueryRow(ctx, `SELECT s FROM generate_series(0, $2::int - 1) AS s WHERE pg_try_advisory_lock(`+orgSlotKey+`) LIMIT 1`,
			orgID, l.n).Scan(&slot)
		switch {
		case err == nil:
			l.mu.Lock()
			l.held[conn] = true
			l.mu.Unlock()
			return func() { l.unlock(conn, orgID, slot) }, nil
		case errors.Is(err, pgx.ErrNoRows):
			conn.Release()
		default:
			// The session's lock state is unknown: drop the connection,
			// which frees anything it might hold.
			_ = conn.Conn().Close(context.Background())
			conn.Release()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("acquire org slot: %w", err)
		}
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, slotPollMax)
	}
}

// unlock frees slot; if that fails the connection is closed, which ends
// its session and so frees the lock anyway.
func (l *OrgLimiter) unlock(conn *pgxpool.Conn, orgID string, slot int) {
	l.mu.Lock()
	mine := l.held[conn]
	delete(l.held, conn)
	l.mu.Unlock()
	if !mine {
		return // Close already ended the session
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ok bool
	err := conn.QueryRow(ctx, `SELECT pg_advisory_unlock(`+orgSlotKey+`) FROM (SELECT $2::int AS s) AS x`, orgID, slot).Scan(&ok)
	if err != nil || !ok {
		_ = conn.Conn().Close(ctx)
	}
	conn.Release()
}
