package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/deskconn/deskconn/internal/demo/demotest"
	"github.com/deskconn/deskconn/internal/events"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
)

// TestHelperServeProcess is not a test: run as a child process by
// TestServeEventsSurviveKill, it is `deskconn serve` with the arguments in
// DESKCONN_HELPER_SERVE (separated by newlines), until it is killed.
func TestHelperServeProcess(t *testing.T) {
	args := os.Getenv("DESKCONN_HELPER_SERVE")
	if args == "" {
		t.Skip("helper process only")
	}
	os.Exit(Run(context.Background(), strings.Split(args, "\n"), strings.NewReader(""), os.Stdout, os.Stderr, os.Getenv))
}

// crashProgress is what the Zoho side and the subscriber have seen so far;
// waiters are woken on every change.
type crashProgress struct {
	mu       sync.Mutex
	changed  chan struct{}
	acked    int                       // Zoho events 1..acked were answered 200
	receipts map[string][]crashReceipt // ticket id → deliveries received
	received int                       // deliveries received in all
}

type crashReceipt struct {
	eventID string
	gen     int64 // the serve process that was alive when it arrived
}

func (p *crashProgress) update(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
	close(p.changed)
	p.changed = make(chan struct{})
}

// await waits until cond (called with the lock held) holds.
func (p *crashProgress) await(ctx context.Context, cond func() bool) error {
	for {
		p.mu.Lock()
		ok, ch := cond(), p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// 100 times (20 under the race detector), `deskconn serve` (this test binary re-executed as the serve
// command) is killed with SIGKILL at a random point while Zoho sends it
// webhook events (retrying each until it gets a 200, as at-least-once
// delivery needs) and a subscriber on loopback receives them; then it is
// restarted on the same SQLite database. In the end every acknowledged
// event is in the log once, under a gapless cursor, and reached the
// subscriber; a repeated delivery carries the same event id and came from
// a later process than the first (only a crash repeats one).
func TestServeEventsSurviveKill(t *testing.T) {
	t.Parallel()
	// 100 trials; with the race detector 20, since each re-executed
	// process then takes over a second to start.
	trials := 100
	if raceEnabled {
		trials = 20
	}
	if n, err := strconv.Atoi(os.Getenv("DESKCONN_CRASH_TRIALS")); err == nil {
		trials = n
	}
	seed := mrand.Uint64()
	t.Logf("seed %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, 0))

	h := newHarness(t, harnessOptions{})
	apiKey, _ := h.createKey("robot")

	// Zoho's data centre: the JWKS the receiver fetches, and one signed
	// X-ZDesk-JWT for every delivery.
	const orgID, webhookID, receivingToken = "700100", "1", "crash-test-receiving-token"
	signKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	zoho := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(events.JWKS("k1", &signKey.PublicKey))
	}))
	t.Cleanup(zoho.Close)
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "orgId:" + orgID, "aud": "webhookId:" + webhookID,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "k1"
	zohoJWT, err := tok.SignedString(signKey)
	if err != nil {
		t.Fatal(err)
	}

	// The connection, receiving Zoho's webhook.
	st, err := sqlite.Open(t.Context(), filepath.Join(h.dir, "deskconn.db"))
	if err != nil {
		t.Fatal(err)
	}
	tenants, err := st.ListTenants(t.Context())
	if err != nil || len(tenants) != 1 {
		t.Fatalf("tenants = %v, %v", tenants, err)
	}
	conn := &store.Connection{TenantID: tenants[0].ID, Name: "support", ClientID: hClientID, Status: store.StatusActive,
		DeskBaseURL: zoho.URL + "/api/v1", OrgID: orgID}
	if err := st.CreateConnection(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	if err := st.PutEventSource(t.Context(), &store.EventSource{ConnectionID: conn.ID, TenantID: conn.TenantID,
		Mode: store.SourceWebhook, TokenHash: events.TokenHash(receivingToken), WebhookID: webhookID}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	prog := &crashProgress{changed: make(chan struct{}), receipts: map[string][]crashReceipt{}}
	var gen atomic.Int64
	subscriber := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env events.Envelope
		if err := json.NewDecoder(r.Body).Decode(&env); err != nil || env.ID == "" || r.Header.Get("Deskconn-Event-Id") != env.ID {
			t.Errorf("subscriber: a delivery without an event id: %v", err)
			return
		}
		g := gen.Load()
		prog.update(func() {
			prog.receipts[env.Object.ID] = append(prog.receipts[env.Object.ID], crashReceipt{env.ID, g})
			prog.received++
		})
	}))
	t.Cleanup(subscriber.Close)

	// serve, as a child process.
	addr := strings.TrimPrefix(h.base, "http://")
	childArgs := []string{"serve", "--addr", addr, "--allow-private-subscribers", "--event-delivery-lease", "4s", "--data-dir", h.dir}
	childEnv := append(os.Environ(), "DESKCONN_HELPER_SERVE="+strings.Join(childArgs, "\n"), "DESKCONN_LOG_LEVEL=error")
	for k, v := range h.env {
		if k != "DESKCONN_LOG_LEVEL" {
			childEnv = append(childEnv, k+"="+v)
		}
	}
	var lastStderr strings.Builder
	start := func() *exec.Cmd {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServeProcess$")
		cmd.Env = childEnv
		lastStderr.Reset()
		cmd.Stderr = &lastStderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		serving := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(out)
			found := false
			for sc.Scan() {
				if !found && strings.HasPrefix(sc.Text(), "deskconn is serving on") {
					found = true
					serving <- true
				}
			}
			if !found {
				serving <- false
			}
			io.Copy(io.Discard, out)
		}()
		if !<-serving {
			cmd.Wait()
			t.Fatalf("serve did not start: %s", lastStderr.String())
		}
		return cmd
	}

	// Zoho: events 1, 2, … each POSTed until answered 200. ready is closed
	// while a serve process is up.
	var ready atomic.Pointer[chan struct{}]
	newGate := func() chan struct{} { ch := make(chan struct{}); ready.Store(&ch); return ch }
	gate := newGate()
	var stopSending atomic.Bool
	senderDone := make(chan struct{})
	receiverURL := events.ReceiverURL(h.base, receivingToken)
	client := &http.Client{Timeout: 30 * time.Second}
	go func() {
		defer close(senderDone)
		for i := 1; !stopSending.Load(); i++ {
			body := fmt.Sprintf(`[{"eventType":"Ticket_Add","orgId":%q,"eventTime":"%d","payload":{"id":"%d","subject":"crash %d"}}]`,
				orgID, 1781180000000+int64(i), i, i)
			for {
				<-*ready.Load()
				req, _ := http.NewRequest(http.MethodPost, receiverURL, strings.NewReader(body))
				req.Header.Set("X-ZDesk-JWT", zohoJWT)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					continue // the process died: wait for the next one
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
				if res.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("Zoho: event %d answered %d", i, res.StatusCode)
					return
				}
			}
			prog.update(func() { prog.acked = i })
		}
	}()

	trialCtx := func() (context.Context, context.CancelFunc) { return context.WithTimeout(t.Context(), 60*time.Second) }
	for trial := range trials {
		gen.Store(int64(trial + 1))
		t0 := time.Now()
		cmd := start()
		if os.Getenv("DESKCONN_CRASH_TRACE") != "" {
			t.Logf("trial %d: started in %s", trial, time.Since(t0))
		}
		if trial == 0 {
			status, body := demotest.Raw(t, "POST", h.base+"/v1/connections/support/subscriptions", apiKey, `{"url":"`+subscriber.URL+`/hook"}`)
			if status != http.StatusCreated {
				t.Fatalf("subscribe: %d %s", status, body)
			}
		}
		prog.mu.Lock()
		acked, received := prog.acked, prog.received
		prog.mu.Unlock()
		close(gate) // Zoho may send
		// Kill after a random number of acknowledgements to Zoho, or of
		// deliveries to the subscriber.
		k := 1 + rng.IntN(4)
		byAcks := rng.IntN(2) == 0
		ctx, cancel := trialCtx()
		err := prog.await(ctx, func() bool {
			if byAcks {
				return prog.acked >= acked+k
			}
			return prog.received >= received+k
		})
		cancel()
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("trial %d: no progress (acked %d, received %d): %v; serve stderr: %s", trial, prog.acked, prog.received, err, lastStderr.String())
		}
		gate = newGate() // before the kill, so Zoho's failed sends wait for the restart
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
	}

	// The last process: Zoho stops after its current event, and every
	// acknowledged one must reach the subscriber.
	gen.Store(int64(trials + 1))
	cmd := start()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	close(gate)
	stopSending.Store(true)
	<-senderDone
	prog.mu.Lock()
	total := prog.acked
	prog.mu.Unlock()
	ctx, cancel := trialCtx()
	defer cancel()
	if err := prog.await(ctx, func() bool { return len(prog.receipts) >= total }); err != nil {
		t.Fatalf("the subscriber received %d of %d events: %v", len(prog.receipts), total, err)
	}
	cmd.Process.Kill()
	cmd.Wait()

	st, err = sqlite.Open(t.Context(), filepath.Join(h.dir, "deskconn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logged := map[string]string{} // ticket id → event id
	var after int64
	for {
		evs, err := st.ListEvents(t.Context(), store.EventFilter{ConnectionID: conn.ID, After: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			if e.Seq != after+1 {
				t.Fatalf("the log jumps from seq %d to %d", after, e.Seq)
			}
			after = e.Seq
			var env events.Envelope
			if err := json.Unmarshal(e.Body, &env); err != nil {
				t.Fatal(err)
			}
			if prev, dup := logged[env.Object.ID]; dup {
				t.Errorf("ticket %s is in the log twice (%s, %s)", env.Object.ID, prev, env.ID)
			}
			logged[env.Object.ID] = env.ID
		}
	}
	if len(logged) < total {
		t.Errorf("the log has %d events, want at least the %d acknowledged", len(logged), total)
	}
	prog.mu.Lock()
	defer prog.mu.Unlock()
	dups := 0
	for i := 1; i <= total; i++ {
		id := fmt.Sprint(i)
		rs := prog.receipts[id]
		if len(rs) == 0 {
			t.Errorf("event %d was acknowledged to Zoho but never reached the subscriber", i)
		}
		seen := map[int64]bool{}
		for _, r := range rs {
			if r.eventID != logged[id] {
				t.Errorf("event %d reached the subscriber as %s, but the log has %s", i, r.eventID, logged[id])
			}
			if seen[r.gen] {
				t.Errorf("event %d reached the subscriber twice from process %d, which was not killed in between", i, r.gen)
			}
			seen[r.gen] = true
		}
		dups += len(rs) - 1
	}
	t.Logf("%d trials: %d events acknowledged, %d repeated deliveries (all across a crash)", trials, total, dups)
}
