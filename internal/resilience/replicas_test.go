package resilience

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/cli"
	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
)

// Several-replicas test size.
const (
	replicas        = 3
	replicaCallers  = 30 // concurrent callers, far above the per-org limit
	replicaCalls    = 6  // calls per caller per round
	replicaRounds   = 3  // forced expiries (deskconn's budget is 5 per 10 min)
	replicaIdemKeys = 20 // keys each sent to every replica at once
	// replicaLatency keeps each Desk call in Zoho long enough that calls
	// from the three replicas overlap.
	replicaLatency = 15 * time.Millisecond
)

// TestReplicasShareOnePostgres runs three `deskconn serve` processes on one
// Postgres schema against one emulator whose per-org concurrency limit is
// deskconn's own (cli.OrgConcurrency), and spreads the load over them
// round robin (REST action calls from replicaCallers concurrent callers,
// six times the limit):
//
//   - after each forced expiry of every access token, the emulator serves
//     exactly one refresh across all replicas;
//   - the same idempotency key sent to every replica at once creates one
//     ticket, and every replica answers with it;
//   - the per-org limit is never exceeded in total: the emulator answers
//     no TOO_MANY_REQUESTS, while the load keeps the limit saturated.
func TestReplicasShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("replicas test skipped in -short mode")
	}
	dsn := pgtest.DSN(t, "deskconn_replicas")
	connectBase := "http://" + freeLoopbackAddr(t)
	p := newProcEnv(t, emulator.Options{
		MaxConcurrent:  cli.OrgConcurrency,
		AccessTokenTTL: 24 * time.Hour, DailyCredits: 100_000_000, MaxRequestLog: 100_000,
		Faults: []emulator.Fault{{Kind: emulator.FaultLatency, PathPrefix: "/api/v1/", Latency: replicaLatency}},
	}, connectBase, dsn)
	apiKey, _ := p.connectAndKey(connectBase)

	var servers []*server
	for range replicas {
		servers = append(servers, p.serve())
	}

	// Load: reads and creates, round robin over the replicas.
	var seq atomic.Int64
	var created sync.Map // key → ticket id
	for round := range replicaRounds {
		before := p.tokenRequests()
		p.emu.ExpireAccessTokens()
		var wg sync.WaitGroup
		var failures atomic.Int64
		for c := range replicaCallers {
			wg.Go(func() {
				for i := range replicaCalls {
					s := servers[seq.Add(1)%replicas]
					ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
					var r callResult
					key := ""
					switch i % 3 {
					case 0:
						r = p.call(ctx, s, apiKey, "get_ticket", `{"ticketId":"`+procTicket+`"}`, "")
					case 1:
						r = p.call(ctx, s, apiKey, "list_tickets", `{"params":{"limit":5}}`, "")
					default:
						key = fmt.Sprintf("replica-load-%d-%d-%d", round, c, i)
						r = p.call(ctx, s, apiKey, "create_ticket", createInput(key), key)
					}
					cancel()
					if r.status != 200 {
						if failures.Add(1) <= 3 {
							t.Errorf("round %d: call %d of caller %d: %d %v %s", round, i, c, r.status, r.err, r.body)
						}
						continue
					}
					if key != "" {
						created.Store(key, outputID(r.body))
					}
				}
			})
		}
		wg.Wait()
		if n := p.tokenRequests() - before; n != 1 {
			t.Errorf("round %d: %d token requests across %d replicas for one expiry, want 1", round, n, replicas)
		}
	}

	// Idempotency across replicas: each key to every replica at once.
	ticketsBefore := p.emu.Counters().TicketsCreated
	answers := make([][replicas]callResult, replicaIdemKeys)
	var wg sync.WaitGroup
	for k := range replicaIdemKeys {
		key := fmt.Sprintf("replica-idem-%d", k)
		for i, s := range servers {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				answers[k][i] = p.call(ctx, s, apiKey, "create_ticket", createInput(key), key)
			})
		}
	}
	wg.Wait()
	if n := p.emu.Counters().TicketsCreated - ticketsBefore; n != replicaIdemKeys {
		t.Errorf("%d keys each sent to %d replicas at once created %d tickets, want %d", replicaIdemKeys, replicas, n, replicaIdemKeys)
	}
	tickets := p.ticketsBySubject("replica-")
	for k, as := range answers {
		key := fmt.Sprintf("replica-idem-%d", k)
		ids := tickets[key]
		if len(ids) != 1 {
			t.Errorf("key %s: emulator holds tickets %v, want exactly one", key, ids)
			continue
		}
		for i, a := range as {
			if a.status != 200 || outputID(a.body) != ids[0] {
				t.Errorf("key %s at replica %d: %d %v %s, want ticket %s", key, i, a.status, a.err, a.body, ids[0])
			}
		}
	}
	created.Range(func(k, v any) bool {
		if ids := tickets[k.(string)]; len(ids) != 1 || ids[0] != v.(string) {
			t.Errorf("key %s answered ticket %s, emulator holds %v", k, v, ids)
		}
		return true
	})

	// The per-org limit, in total.
	tooMany := 0
	for _, r := range p.emu.Requests() {
		if r.ErrorCode == "TOO_MANY_REQUESTS" {
			tooMany++
		}
	}
	if tooMany != 0 {
		t.Errorf("the emulator answered TOO_MANY_REQUESTS %d times: the replicas together exceeded the per-org limit of %d", tooMany, cli.OrgConcurrency)
	}
	peak := p.peak.max.Load()
	t.Logf("%d replicas: peak %d Desk calls in flight at the emulator (limit %d), %d token requests, %d requests logged",
		replicas, peak, cli.OrgConcurrency, p.tokenRequests(), len(p.emu.Requests()))
	if peak < cli.OrgConcurrency {
		t.Errorf("at most %d Desk calls were ever in flight: the load never reached the limit of %d, so the test proves nothing", peak, cli.OrgConcurrency)
	}
	for i, s := range servers {
		if strings.Contains(s.stderr.String(), "level=ERROR") {
			t.Errorf("replica %d logged errors:\n%s", i, tail(s.stderr.String(), 3000))
		}
	}
}
