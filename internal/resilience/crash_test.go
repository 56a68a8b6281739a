package resilience

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/cli"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
)

// Crash test size: iterations of serve → load → SIGKILL → checks, each
// killing the server at most crashMaxKillAfter after its load starts.
const (
	crashIterations = 8
	// crashWorkers is more than cli.OrgConcurrency: most create_ticket
	// calls of the burst wait on the per-org limiter when the kill comes.
	crashWorkers      = 12
	crashMaxKillAfter = 700 * time.Millisecond
	// crashRetryTimeout bounds a retry of a key of the killed run: it may
	// settle the key (a few list calls) before it answers.
	crashRetryTimeout = 30 * time.Second
	// crashLapse is how far the idempotency leases and dispatch times of
	// the killed server are moved into the past, as if the restart came
	// that much later: past action's default Lease and SettleAfter (30s
	// each).
	crashLapse = 2 * time.Minute
)

// TestCrashRestart runs `deskconn serve` on SQLite, fires a burst of
// concurrent create_ticket (each with its own idempotency key, the key as
// subject) and update_ticket calls, more than the per-org limiter lets
// through, forces a token refresh (the emulator expires every access
// token) and SIGKILLs the server at a random point (seeded, logged). After
// every kill:
//
//   - the store opens, the connection is still active and keeps the very
//     refresh token sealed at connect time (Zoho never rotates it);
//   - every idempotency record agrees with the emulator: succeeded → one
//     ticket with the recorded id; no record, or pending and never
//     dispatched (it died waiting on the limiter) → no ticket; dispatched
//     and unfinished, or unknown → at most one ticket;
//   - the records left unsettled (dispatched, unfinished or unknown) are
//     at most the writes in flight to Zoho at the kill: the ticket
//     creations Zoho received in the run and not recorded as succeeded,
//     plus one limiter-full (cli.OrgConcurrency) sent but not yet received;
//
// and after every restart (with the killed server's leases lapsed):
//
//   - `deskconn connections show` says active;
//   - after another forced expiry an action succeeds with exactly one call
//     to the token endpoint (the refresh token still works);
//   - every key of the killed run, resent, answers 200 with its one ticket:
//     replayed, settled (found in Zoho) or run now (it never took effect).
//     None is left unknown, none ever makes a second ticket.
func TestCrashRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("DESKCONN_CRASH_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("crash seed %d (rerun with DESKCONN_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	connectBase := "http://" + freeLoopbackAddr(t)
	// Long-lived access tokens: every refresh in this test is forced.
	p := newProcEnv(t, emulator.Options{AccessTokenTTL: 24 * time.Hour, DailyCredits: 100_000_000, MaxConcurrent: 25, MaxRequestLog: 100}, connectBase, "")
	apiKey, connID := p.connectAndKey(connectBase)
	first := p.storedConnection(connID, nil)
	refreshToken := bytes.Clone(first.SealedRefreshToken)
	if len(refreshToken) == 0 {
		t.Fatal("no refresh token stored after connect")
	}

	var all []string // every create_ticket key sent
	leases := 0      // kills that left a refresh lease behind
	var prev map[string]*store.IdemRecord
	for iter := 0; ; iter++ {
		s := p.serve()
		if sh := p.show(); sh.Status != "active" {
			t.Fatalf("iteration %d: after restart the connection is %q (%s), want active", iter, sh.Status, sh.LastError)
		}
		p.checkRefreshWorks(s, apiKey, iter)
		if prev != nil {
			p.awaitSettled(iter, prev)
			p.retryKeys(s, apiKey, iter, prev)
		}
		if iter == crashIterations {
			s.kill()
			break
		}
		posts := p.peak.ticketPosts.Load()
		keys := p.loadAndKill(s, apiKey, iter, rng)
		all = append(all, keys...)
		prev = p.checkAfterCrash(connID, refreshToken, keys, iter, int(p.peak.ticketPosts.Load()-posts))
		leases += p.passTime(connID)
	}
	t.Logf("the server was killed %d times while holding the refresh lock", leases)

	tickets := p.ticketsBySubject("crash-")
	created := 0
	for _, k := range all {
		if ids := tickets[k]; len(ids) > 1 {
			t.Errorf("key %s: %d tickets %v, want at most 1", k, len(ids), ids)
		}
		created += len(tickets[k])
	}
	t.Logf("%d iterations, %d create keys sent, %d tickets created, %d token requests", crashIterations, len(all), created, p.tokenRequests())
	if created == 0 {
		t.Error("no ticket was ever created: the load never reached Zoho")
	}
	if created != len(all) {
		t.Errorf("%d create keys made %d tickets, want one each after the retries", len(all), created)
	}
}

// freeLoopbackAddr returns a 127.0.0.1 address whose port was free a moment
// ago (the emulator must know the callback URL before anything listens).
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// passTime lets the time pass that separates one crash from the next
// restart in production, while no server runs: Zoho's 10-minute token
// window on both sides (the emulator's clock, and the times of the token
// requests deskconn recorded), so that the forced refreshes of the next
// iterations stay within deskconn's budget (5 per window) and Zoho's
// throttle (10 per window); and the refresh-lock lease of the killed
// server (sqlite.DefaultLockLease), which would otherwise hold up the next
// refresh for up to 30 seconds; and crashLapse for the leases and dispatch
// times of its idempotency records, so the restarted server may run again
// or settle them at once. It returns how many refresh leases the killed
// server left behind (it was killed inside a refresh).
func (p *procEnv) passTime(connID string) int {
	p.t.Helper()
	p.clock.advance(connection.DefaultTokenWindow + time.Minute)
	p.storedConnection(connID, func(c *store.Connection) {
		for i := range c.TokenRequests {
			c.TokenRequests[i] = c.TokenRequests[i].Add(-connection.DefaultTokenWindow)
		}
	})
	// refresh_locks is the SQLite store's lease table (internal/store/sqlite
	// lock.go): expires_at in Unix microseconds.
	db, err := sql.Open("sqlite", filepath.Join(p.dir, "deskconn.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		p.t.Fatal(err)
	}
	defer db.Close()
	res, err := db.ExecContext(p.t.Context(), `UPDATE refresh_locks SET expires_at = expires_at - ?`, sqlite.DefaultLockLease.Microseconds())
	if err != nil {
		p.t.Fatalf("expire the killed server's refresh leases: %v", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		p.t.Fatal(err)
	}
	// idempotency_records (internal/store/sqlite migration 0003):
	// heartbeat_at and dispatched_at in Unix microseconds, NULL for never.
	if _, err := db.ExecContext(p.t.Context(), `UPDATE idempotency_records SET heartbeat_at = heartbeat_at - ?, dispatched_at = dispatched_at - ?`,
		crashLapse.Microseconds(), crashLapse.Microseconds()); err != nil {
		p.t.Fatalf("lapse the killed server's idempotency leases: %v", err)
	}
	return int(n)
}

// storedConnection opens the SQLite store (no server runs), returns the
// default tenant's connection connID and, if edit is not nil, applies it
// and writes the connection back.
func (p *procEnv) storedConnection(connID string, edit func(*store.Connection)) *store.Connection {
	p.t.Helper()
	st, err := sqlite.Open(p.t.Context(), filepath.Join(p.dir, "deskconn.db"))
	if err != nil {
		p.t.Fatalf("open the store: %v", err)
	}
	defer st.Close()
	ten, err := st.GetTenantByName(p.t.Context(), "default")
	if err != nil {
		p.t.Fatal(err)
	}
	c, err := st.GetConnection(p.t.Context(), ten.ID, connID)
	if err != nil {
		p.t.Fatalf("read the connection: %v", err)
	}
	if edit != nil {
		edit(c)
		if err := st.UpdateConnection(p.t.Context(), c); err != nil {
			p.t.Fatal(err)
		}
	}
	return c
}

// checkRefreshWorks forces an expiry and checks that an action succeeds
// with exactly one token request. A server killed while holding the SQLite
// refresh lease blocks the next refresh until the lease expires (up to
// sqlite.DefaultLockLease), so the call may take that long.
func (p *procEnv) checkRefreshWorks(s *server, apiKey string, iter int) {
	p.t.Helper()
	before := p.tokenRequests()
	p.emu.ExpireAccessTokens()
	ctx, cancel := context.WithTimeout(p.t.Context(), sqlite.DefaultLockLease+15*time.Second)
	defer cancel()
	start := time.Now()
	r := p.call(ctx, s, apiKey, "get_ticket", `{"ticketId":"`+procTicket+`"}`, "")
	if r.status != 200 {
		p.t.Fatalf("iteration %d: get_ticket after a forced expiry: %d %v %s\nserver log: %s", iter, r.status, r.err, r.body, tail(s.stderr.String(), 2000))
	}
	if d := time.Since(start); d > 5*time.Second {
		p.t.Logf("iteration %d: the first refresh after restart took %s (a lease of the killed server)", iter, d.Round(time.Millisecond))
	}
	if n := p.tokenRequests() - before; n != 1 {
		p.t.Errorf("iteration %d: %d token requests for one forced expiry, want 1", iter, n)
	}
}

// loadAndKill runs crashWorkers workers of create_ticket (fresh key each)
// and update_ticket calls against s, expires every access token at a
// random moment and SIGKILLs s at a random moment after that. It returns
// the create keys sent.
func (p *procEnv) loadAndKill(s *server, apiKey string, iter int, rng *rand.Rand) []string {
	killAfter := time.Duration(rng.Int64N(int64(crashMaxKillAfter)))
	expireAfter := time.Duration(rng.Int64N(int64(killAfter) + 1))
	p.t.Logf("iteration %d: expire tokens after %s, SIGKILL after %s", iter, expireAfter.Round(time.Millisecond), killAfter.Round(time.Millisecond))

	ctx, cancel := context.WithCancel(p.t.Context())
	var mu sync.Mutex
	var keys []string
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for w := range crashWorkers {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				var r callResult
				if n%3 == 2 {
					in := fmt.Sprintf(`{"ticketId":"%s","payload":{"priority":"%s"}}`, procTicket, []string{"High", "Low"}[n%2])
					r = p.call(ctx, s, apiKey, "update_ticket", in, fmt.Sprintf("upd-%d-%d-%d", iter, w, n))
				} else {
					key := fmt.Sprintf("crash-%d-%d-%d", iter, w, n)
					mu.Lock()
					keys = append(keys, key)
					mu.Unlock()
					r = p.call(ctx, s, apiKey, "create_ticket", createInput(key), key)
				}
				mu.Lock()
				statuses[r.status]++
				mu.Unlock()
				if r.status == 0 {
					return // the server is gone (or going)
				}
			}
		})
	}
	expire := time.AfterFunc(expireAfter, p.emu.ExpireAccessTokens)
	time.Sleep(killAfter)
	s.kill()
	expire.Stop()
	cancel()
	wg.Wait()
	p.t.Logf("iteration %d: %d create keys; answers by status (0: none) %v", iter, len(keys), statuses)
	return keys
}

// checkAfterCrash opens the store of the killed server and checks the
// connection and every key's idempotency record against the emulator's
// tickets; posts is how many ticket creations the emulator received during
// the run. It returns the records (nil: none) by key.
func (p *procEnv) checkAfterCrash(connID string, refreshToken []byte, keys []string, iter, posts int) map[string]*store.IdemRecord {
	p.t.Helper()
	ctx := p.t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(p.dir, "deskconn.db"))
	if err != nil {
		p.t.Fatalf("iteration %d: the store does not open after SIGKILL: %v", iter, err)
	}
	defer st.Close()
	ten, err := st.GetTenantByName(ctx, "default")
	if err != nil {
		p.t.Fatal(err)
	}
	c, err := st.GetConnection(ctx, ten.ID, connID)
	if err != nil {
		p.t.Fatalf("iteration %d: read the connection: %v", iter, err)
	}
	if c.Status != store.StatusActive {
		p.t.Errorf("iteration %d: connection is %s after SIGKILL (%s)", iter, c.Status, c.LastError)
	}
	if !bytes.Equal(c.SealedRefreshToken, refreshToken) {
		p.t.Errorf("iteration %d: the sealed refresh token changed or was lost (%d bytes, want the %d stored at connect)", iter, len(c.SealedRefreshToken), len(refreshToken))
	}
	if len(c.SealedAccessToken) == 0 {
		p.t.Errorf("iteration %d: no access token stored", iter)
	}

	tickets := p.ticketsBySubject(fmt.Sprintf("crash-%d-", iter))
	recs := map[string]*store.IdemRecord{}
	states := map[store.IdemState]int{}
	for _, k := range keys {
		rec, err := st.GetIdempotent(ctx, store.IdemKey{TenantID: ten.ID, ConnectionID: connID, Action: "create_ticket", Key: k})
		if errors.Is(err, store.ErrNotFound) {
			rec, err = nil, nil
		}
		if err != nil {
			p.t.Fatalf("read idempotency record %s: %v", k, err)
		}
		recs[k] = rec
		ids := tickets[k]
		if len(ids) > 1 {
			p.t.Errorf("iteration %d: key %s has %d tickets %v", iter, k, len(ids), ids)
		}
		switch {
		case rec == nil:
			states["none"]++
			if len(ids) != 0 {
				p.t.Errorf("iteration %d: key %s has no idempotency record but ticket %v", iter, k, ids)
			}
		case rec.State == store.IdemSucceeded:
			states[rec.State]++
			if id := outputID(string(rec.Result)); len(ids) != 1 || ids[0] != id {
				p.t.Errorf("iteration %d: key %s succeeded with ticket %q, emulator holds %v", iter, k, id, ids)
			}
		case rec.State == store.IdemFailed:
			states[rec.State]++
			if len(ids) != 0 {
				p.t.Errorf("iteration %d: key %s failed (nothing written) but the emulator holds %v", iter, k, ids)
			}
		case rec.State == store.IdemPending && rec.DispatchedAt.IsZero():
			states["pending, never dispatched"]++
			if len(ids) != 0 {
				p.t.Errorf("iteration %d: key %s was never dispatched but the emulator holds %v", iter, k, ids)
			}
		case rec.State == store.IdemUnknown, rec.State == store.IdemPending:
			states[rec.State]++
		default:
			p.t.Errorf("iteration %d: key %s in state %q", iter, k, rec.State)
		}
	}
	unsettled := states[store.IdemPending] + states[store.IdemUnknown]
	inFlight := posts - states[store.IdemSucceeded] + cli.OrgConcurrency
	p.t.Logf("iteration %d: idempotency records after SIGKILL %v; %d unsettled, %d ticket creations received", iter, states, unsettled, posts)
	if unsettled > inFlight {
		p.t.Errorf("iteration %d: %d records left unsettled, more than the %d writes that can have been in flight to Zoho", iter, unsettled, inFlight)
	}
	return recs
}

// awaitSettled waits, without any client retry, until the restarted
// server's background pass has decided every record of the killed run
// that was dispatched and left unfinished or unknown: each becomes
// succeeded (the ticket was found) or is gone (it was not written). It
// reads the store the server uses, until crashRetryTimeout.
func (p *procEnv) awaitSettled(iter int, recs map[string]*store.IdemRecord) {
	p.t.Helper()
	var open []store.IdemKey
	for _, r := range recs {
		if r != nil && (r.State == store.IdemUnknown || r.State == store.IdemPending && !r.DispatchedAt.IsZero()) {
			open = append(open, r.IdemKey)
		}
	}
	st, err := sqlite.Open(p.t.Context(), filepath.Join(p.dir, "deskconn.db"))
	if err != nil {
		p.t.Fatalf("open the store: %v", err)
	}
	defer st.Close()
	deadline := time.Now().Add(crashRetryTimeout)
	for {
		var left []string
		for _, k := range open {
			r, err := st.GetIdempotent(p.t.Context(), k)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				p.t.Fatalf("read idempotency record %s: %v", k.Key, err)
			case r.State != store.IdemSucceeded:
				left = append(left, k.Key+" ("+string(r.State)+")")
			}
		}
		if len(left) == 0 {
			p.t.Logf("iteration %d: the background pass settled the %d unsettled records of the killed run before any retry", iter, len(open))
			return
		}
		if time.Now().After(deadline) {
			p.t.Errorf("iteration %d: %d of %d unsettled records of the killed run are still undecided without a retry: %v", iter, len(left), len(open), left)
			return
		}
		select {
		case <-p.t.Context().Done():
			return
		case <-time.After(50 * time.Millisecond): // polling another process's store: no event to wait on
		}
	}
}

// retryKeys resends every key of the killed run with its original input to
// the restarted server: every answer is 200 with the key's one ticket
// (replayed, settled, or created now), and no key has a second ticket.
func (p *procEnv) retryKeys(s *server, apiKey string, iter int, recs map[string]*store.IdemRecord) {
	p.t.Helper()
	type answer struct {
		key string
		r   callResult
	}
	answers := make(chan answer, len(recs))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for k := range recs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(p.t.Context(), crashRetryTimeout)
			defer cancel()
			answers <- answer{k, p.call(ctx, s, apiKey, "create_ticket", createInput(k), k)}
		})
	}
	wg.Wait()
	close(answers)
	tickets := p.ticketsBySubject(fmt.Sprintf("crash-%d-", iter-1))
	byState := map[string]int{}
	for a := range answers {
		rec, ids := recs[a.key], tickets[a.key]
		state := "none"
		if rec != nil {
			state = string(rec.State)
			if rec.State == store.IdemPending && rec.DispatchedAt.IsZero() {
				state = "pending, never dispatched"
			}
		}
		byState[state]++
		if len(ids) != 1 {
			p.t.Errorf("iteration %d: after the retry key %s (%s before) has %d tickets %v, want 1", iter, a.key, state, len(ids), ids)
		}
		if a.r.status != 200 || len(ids) != 1 || outputID(a.r.body) != ids[0] {
			p.t.Errorf("iteration %d: retry of %s (%s before) answered %d %v %s; emulator holds %v", iter, a.key, state, a.r.status, a.r.err, a.r.body, ids)
		}
		if rec != nil && rec.State == store.IdemSucceeded && outputID(a.r.body) != outputID(string(rec.Result)) {
			p.t.Errorf("iteration %d: key %s succeeded with %s before the crash but its replay is %s", iter, a.key, outputID(string(rec.Result)), a.r.body)
		}
	}
	p.t.Logf("iteration %d: retried the killed run's keys, by their state before: %v", iter, byState)
}
