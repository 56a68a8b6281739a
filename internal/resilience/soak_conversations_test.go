package resilience

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
)

// soakSendKeys is the number of keys per action of the reply and comment
// soak (each sent 2–4 times, so about 3,000 keyed sends by default);
// DESKCONN_SOAK_KEYS raises it.
const soakSendKeys = 500

// TestSoakKeyedRepliesAndComments sends reply_to_ticket and
// add_ticket_comment with idempotency keys, each key 2–4 times, while a
// seeded RNG injects a fault (resets, 5xx, 429, truncated JSON, an answer
// after the caller's deadline) before about half of the attempts that reach
// Zoho. Afterwards no key has two replies or two comments at Zoho, every key
// that succeeded has exactly its one, every replay is identical, and a key
// with nothing written never reported success.
func TestSoakKeyedRepliesAndComments(t *testing.T) {
	if testing.Short() {
		t.Skip("soak skipped in -short mode")
	}
	keys := soakSendKeys
	if v, err := strconv.Atoi(os.Getenv("DESKCONN_SOAK_KEYS")); err == nil && v > 0 {
		keys = v
	}
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("DESKCONN_SOAK_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("soak seed %d (rerun with DESKCONN_SOAK_SEED=%d), %d keys per action", seed, seed, keys)
	e := newEnv(t, envOptions{emulator: emulator.Options{MaxConcurrent: 25, DailyCredits: 10_000_000, MaxRequestLog: 10}})
	tk := "/api/v1/tickets/" + emulator.DemoThreadTicketID
	kinds := []struct {
		action, path string
		input        func(key string) string
	}{
		{"reply_to_ticket", tk + "/sendReply", func(key string) string {
			return `{"orgId":"` + org + `","ticketId":"` + emulator.DemoThreadTicketID + `","content":"` + key +
				`","to":"carol@zylker-customer.com","fromEmailAddress":"support@zylker.zohodesk.com","confirm":true}`
		}},
		{"add_ticket_comment", tk + "/comments", func(key string) string {
			return `{"orgId":"` + org + `","ticketId":"` + emulator.DemoThreadTicketID + `","content":"` + key + `"}`
		}},
	}
	faultsFor := func(path string) []emulator.Fault {
		return []emulator.Fault{
			{Kind: emulator.FaultResetAfterBody, PathPrefix: path, Method: "POST", Times: 1},
			{Kind: emulator.FaultResetBeforeBody, PathPrefix: path, Method: "POST", Times: 1},
			{Kind: emulator.FaultStatus, PathPrefix: path, Method: "POST", Status: 500, Times: 1},
			{Kind: emulator.FaultStatus, PathPrefix: path, Method: "POST", Status: 503, Times: 1},
			{Kind: emulator.FaultStatus, PathPrefix: path, Method: "POST", Status: 429, Times: 1},
			{Kind: emulator.FaultTruncatedJSON, PathPrefix: path, Method: "POST", Times: 1},
			{Kind: emulator.FaultLatency, PathPrefix: path, Method: "POST", Latency: soakCallTimeout + 200*time.Millisecond, Times: 1},
		}
	}
	type job struct{ kind, i int }
	outcomes := make([][]*keyOutcome, len(kinds))
	for k := range kinds {
		outcomes[k] = make([]*keyOutcome, keys)
	}
	var wg sync.WaitGroup
	next := make(chan job)
	for w := range soakWorkers {
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Go(func() {
			for j := range next {
				kind := kinds[j.kind]
				o := &keyOutcome{key: fmt.Sprintf("soak-%s-%d-%d", kind.action[:3], seed%1000, j.i)}
				outcomes[j.kind][j.i] = o
				faults := faultsFor(kind.path)
				for range 2 + rng.IntN(3) {
					if len(o.outputs) == 0 && !o.unknown && rng.IntN(2) == 0 {
						e.emu.AddFault(faults[rng.IntN(len(faults))])
					}
					ctx, cancel := context.WithTimeout(t.Context(), soakCallTimeout)
					out, err := e.invoke(ctx, kind.action, kind.input(o.key), o.key)
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
		for k := range kinds {
			next <- job{k, i}
		}
	}
	close(next)
	wg.Wait()
	e.emu.SetFaults()

	desk, _, err := e.mgr.Client(t.Context(), e.tenant, e.conn)
	if err != nil {
		t.Fatal(err)
	}
	// A request whose caller gave up may still be sleeping in the
	// emulator (the late-answer fault) and add its thread or comment
	// while the lists are read: a thread added at the head of a
	// newest-first list shifts the pages, so one row would be read twice.
	// Read until two readings agree.
	count := func() []map[string]int {
		written := []map[string]int{{}, {}}
		for th, err := range desk.Threads.ListAll(t.Context(), org, emulator.DemoThreadTicketID, nil) {
			if err != nil {
				t.Fatal(err)
			}
			if th.Direction == "out" && strings.HasPrefix(th.Summary, "soak-") {
				written[0][th.Summary]++
			}
		}
		for c, err := range desk.Comments.ListAll(t.Context(), org, emulator.DemoThreadTicketID, nil) {
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(c.Content, "soak-") {
				written[1][c.Content]++
			}
		}
		return written
	}
	written := count()
	for {
		again := count()
		if maps.Equal(again[0], written[0]) && maps.Equal(again[1], written[1]) {
			break
		}
		written = again
	}
	for k, kind := range kinds {
		var succeeded, unknown, failed, dupes int
		for _, o := range outcomes[k] {
			n := written[k][o.key]
			if n > 1 {
				dupes++
				t.Errorf("%s key %s: %d at Zoho, want at most 1", kind.action, o.key, n)
			}
			switch {
			case len(o.outputs) > 0:
				succeeded++
				if n != 1 {
					t.Errorf("%s key %s succeeded but Zoho holds %d", kind.action, o.key, n)
				}
				for _, out := range o.outputs[1:] {
					if out != o.outputs[0] {
						t.Errorf("%s key %s: replay differs:\n%s\n%s", kind.action, o.key, o.outputs[0], out)
					}
				}
			case o.unknown:
				unknown++
			default:
				failed++
				if n != 0 {
					t.Errorf("%s key %s: every attempt failed as not written (codes %v), but Zoho holds %d", kind.action, o.key, o.codes, n)
				}
			}
		}
		t.Logf("%s: %d keys: succeeded %d, unknown %d, failed (nothing written) %d, duplicates %d", kind.action, keys, succeeded, unknown, failed, dupes)
		// A floor that says the soak exercised success, not a rate: the
		// faults the other workers add hit this key's attempts too, and
		// 22 runs of 500 keys succeeded 248–315 (a half failed one on a
		// loaded machine).
		if succeeded < keys/4 {
			t.Errorf("%s: only %d of %d keys succeeded", kind.action, succeeded, keys)
		}
	}
}
