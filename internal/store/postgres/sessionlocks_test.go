package postgres

import (
	"testing"

	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
)

// Session locks of two processes exclude each other; released, a lock is
// the other's; when a holder's session ends, the lock is free at once and
// the old holder finds it lost.
func TestSessionLocks(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t, "deskconn_sessionlocks")
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	la, lb := a.SessionLocks().(*SessionLocks), b.SessionLocks().(*SessionLocks)
	t.Cleanup(func() { la.Close(); lb.Close() })
	ctx := t.Context()
	hold := func(l *SessionLocks, name string, want bool) {
		t.Helper()
		if got, err := l.Hold(ctx, name); err != nil || got != want {
			t.Fatalf("Hold(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
	hold(la, "x", true)
	hold(la, "x", true) // held already: still one lock, not a second
	hold(lb, "x", false)
	hold(lb, "y", true) // another name is another lock
	if err := la.Release(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	hold(lb, "x", true)
	hold(la, "x", false)

	// b's session ends (its process was killed, or the connection lost).
	lb.mu.Lock()
	pid := lb.conn.PgConn().PID()
	lb.mu.Unlock()
	var ended bool
	if err := a.pool.QueryRow(ctx, `SELECT pg_terminate_backend($1, 10000)`, int(pid)).Scan(&ended); err != nil || !ended {
		t.Fatalf("terminate b's session = %v, %v", ended, err)
	}
	hold(la, "x", true)  // free at once
	hold(lb, "x", false) // b's session is gone: it holds nothing now
	hold(lb, "y", true)  // and takes again what is free, on a new session
	// (Close ends the session too, but the server notices a closed
	// connection on its own time: not asserted here.)
	if err := la.Close(); err != nil {
		t.Fatal(err)
	}
}
