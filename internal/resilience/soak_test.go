package resilience

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/zohodesk"
)

// Soak size: keys × (1 + 1..3 caller retries) create_ticket calls. The
// defaults keep the test near 40 s on a shared 2-core machine with -race;
// DESKCONN_SOAK_KEYS raises it (e.g. 10000 for the T3.1 target).
const (
	soakKeys    = 1200
	soakWorkers = 16
	// soakCallTimeout is the caller's deadline per attempt; the "late"
	// fault delays Zoho's answer past it (the ticket is still created).
	soakCallTimeout = time.Second
)

// keyOutcome is how one idempotency key ended, from the caller's view.
type keyOutcome struct {
	key     string
	outputs []string // every successful output, to check replays are identical
	unknown bool     // some attempt reported an unknown outcome
	codes   []deskconn.Code
}

// TestSoakIdempotentCreates sends create_ticket with an idempotency key
// many times, each key retried by the caller 1–3 times, while a seeded RNG
// injects a fault before roughly half of the attempts (reset after the body
// is processed, reset before it, 5xx, 429, truncated JSON, an answer later
// than the caller's deadline). Afterwards the emulator's tickets must equal
// the keys that ended succeeded, plus at most one per key whose outcome was
// reported unknown; no key has two tickets; every replay is identical.
func TestSoakIdempotentCreates(t *testing.T) {
	if testing.Short() {
		t.Skip("soak skipped in -short mode")
	}
	keys := soakKeys
	if v, err := strconv.Atoi(os.Getenv("DESKCONN_SOAK_KEYS")); err == nil && v > 0 {
		keys = v
	}
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("DESKCONN_SOAK_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("soak seed %d (rerun with DESKCONN_SOAK_SEED=%d), %d keys", seed, seed, keys)

	// A generous per-org limit: the soak is about idempotency, not 429s
	// caused by our own concurrency.
	e := newEnv(t, envOptions{emulator: emulator.Options{MaxConcurrent: 25, DailyCredits: 10_000_000, MaxRequestLog: 10}})
	const tickets = "/api/v1/tickets"
	faults := []emulator.Fault{
		{Kind: emulator.FaultResetAfterBody, PathPrefix: tickets, Method: "POST", Times: 1},
		{Kind: emulator.FaultResetAfterBody, PathPrefix: tickets, Method: "POST", Times: 1},
		{Kind: emulator.FaultResetBeforeBody, PathPrefix: tickets, Method: "POST", Times: 1},
		{Kind: emulator.FaultStatus, PathPrefix: tickets, Method: "POST", Status: 500, Times: 1},
		{Kind: emulator.FaultStatus, PathPrefix: tickets, Method: "POST", Status: 503, Times: 1},
		{Kind: emulator.FaultStatus, PathPrefix: tickets, Method: "POST", Status: 429, Times: 1},
		{Kind: emulator.FaultTruncatedJSON, PathPrefix: tickets, Method: "POST", Times: 1},
		{Kind: emulator.FaultLatency, PathPrefix: tickets, Method: "POST", Latency: soakCallTimeout + 200*time.Millisecond, Times: 1},
	}

	outcomes := make([]*keyOutcome, keys)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := range soakWorkers {
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Go(func() {
			for i := range next {
				o := &keyOutcome{key: fmt.Sprintf("soak-%d-%d", seed%1000, i)}
				outcomes[i] = o
				input := `{"orgId":"` + org + `","payload":{"subject":"` + o.key + `","departmentId":"1892000000006907","contactId":"1892000000042032"}}`
				attempts := 1 + 1 + rng.IntN(3)
				for range attempts {
					// Only an attempt that will reach Zoho gets a fault (a
					// settled key is answered from the store), so faults
					// never pile up.
					if len(o.outputs) == 0 && !o.unknown && rng.IntN(2) == 0 {
						e.emu.AddFault(faults[rng.IntN(len(faults))])
					}
					ctx, cancel := context.WithTimeout(t.Context(), soakCallTimeout)
					out, err := e.invoke(ctx, "create_ticket", input, o.key)
					cancel()
					if err == nil {
						o.outputs = append(o.outputs, string(out))
						continue
					}
					o.codes = append(o.codes, deskconn.ErrorCode(err))
					if strings.Contains(err.Error(), "outcome is unknown") {
						o.unknown = true
					}
				}
			}
		})
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()
	e.emu.SetFaults() // leftovers must not break the final listing

	// Every ticket the emulator holds for this run, by subject.
	desk, _, err := e.mgr.Client(t.Context(), e.tenant, e.conn)
	if err != nil {
		t.Fatal(err)
	}
	bySubject := map[string][]string{}
	for tk, err := range desk.Tickets.ListAll(t.Context(), org, &zohodesk.TicketListOptions{ListOptions: zohodesk.ListOptions{Limit: 100}, SortBy: "createdTime"}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(tk.Subject, "soak-") {
			bySubject[tk.Subject] = append(bySubject[tk.Subject], tk.ID)
		}
	}

	var succeeded, unknown, unknownWithTicket, failed, created int
	codes := map[deskconn.Code]int{}
	for _, o := range outcomes {
		for _, c := range o.codes {
			codes[c]++
		}
		ids := bySubject[o.key]
		created += len(ids)
		if len(ids) > 1 {
			t.Errorf("key %s: %d tickets %v, want at most 1", o.key, len(ids), ids)
		}
		switch {
		case len(o.outputs) > 0:
			succeeded++
			for _, out := range o.outputs[1:] {
				if out != o.outputs[0] {
					t.Errorf("key %s: replay differs:\n%s\n%s", o.key, o.outputs[0], out)
				}
			}
			var v struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal([]byte(o.outputs[0]), &v); err != nil || v.ID == "" {
				t.Errorf("key %s: output without a ticket id: %s", o.key, o.outputs[0])
			}
			if len(ids) != 1 || ids[0] != v.ID {
				t.Errorf("key %s succeeded with ticket %s, emulator holds %v", o.key, v.ID, ids)
			}
			if o.unknown {
				t.Errorf("key %s: reported both succeeded and unknown (codes %v)", o.key, o.codes)
			}
		case o.unknown:
			unknown++
			if len(ids) == 1 {
				unknownWithTicket++
			}
		default:
			failed++
			if len(ids) != 0 {
				t.Errorf("key %s: every attempt failed as not written (codes %v), but the emulator holds %v", o.key, o.codes, ids)
			}
		}
	}
	if created != succeeded+unknownWithTicket {
		t.Errorf("emulator holds %d soak tickets, want succeeded %d + unknown-with-ticket %d", created, succeeded, unknownWithTicket)
	}
	t.Logf("keys %d: succeeded %d, unknown %d (%d of them created a ticket), failed (nothing written) %d; tickets %d; error codes %v",
		keys, succeeded, unknown, unknownWithTicket, failed, created, codes)
	// The floor only says the soak exercised success: 12 runs of 1,200
	// keys on an idle 2-core machine succeeded 642–715, and a loaded
	// machine succeeds fewer (the reply/comment soak's 248–315 of 500 fell
	// to 248 in CI), so a half would fail on load, not on a defect.
	if succeeded < keys/4 {
		t.Errorf("only %d of %d keys succeeded: the faults should be absorbed by the callers' retries far more often", succeeded, keys)
	}
}
