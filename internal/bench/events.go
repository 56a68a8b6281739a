package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/events"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
	"golang.org/x/time/rate"
)

// Goals of the events scenario on this machine (issue 13).
const (
	EventsIngestGoal = 2000                  // events/s into the SQLite log
	EventsP50Goal    = 50 * time.Millisecond // Zoho change → subscriber receipt
	// SlowSubscriberDelay is how long the slow subscriber takes to answer
	// each delivery.
	SlowSubscriberDelay = 200 * time.Millisecond
	// EventsInFlight is how many webhook deliveries the emulator keeps in
	// flight during ingest, as a Zoho serving several modules, webhooks or
	// portals does; deskconn's receiver commits concurrent deliveries
	// together (group commit).
	EventsInFlight = 8
)

// EventsReport is the event pipeline's ingest throughput and end-to-end
// latency.
type EventsReport struct {
	// Ingest: Zoho's signed webhook deliveries (one event each,
	// IngestInFlight at a time) verified, normalised and committed to the
	// SQLite log before each 200.
	Ingested       int     `json:"ingested"`
	IngestInFlight int     `json:"ingestInFlight"`
	IngestStored   int     `json:"ingestStored"` // events found in the log afterwards
	IngestMs       float64 `json:"ingestMs"`
	IngestPerSec   float64 `json:"ingestPerSec"`
	// IngestCPUPerEventUs is the process's CPU time (user + system) during
	// ingest divided by the events stored, in µs: both sides, the
	// emulator's deliveries and deskconn's receiver, as they share the
	// process. A loaded machine disturbs it less than events/s. 0 where
	// the system does not report CPU time.
	IngestCPUPerEventUs float64         `json:"ingestCpuPerEventUs"`
	IngestGoal          float64         `json:"ingestGoal"`
	IngestGoalMet       bool            `json:"ingestGoalMet"`
	LatencyP50Goal      float64         `json:"latencyP50GoalMs"`
	Latency             []EventsLatency `json:"latency"`
}

// EventsLatency is the latency from a change made through Zoho's API to the
// fast subscriber's receipt of its signed delivery, in one setting.
type EventsLatency struct {
	Setting  string  `json:"setting"`
	Changes  int     `json:"changes"`
	Received int     `json:"received"` // changes the fast subscriber received
	P50Ms    float64 `json:"p50Ms"`
	P99Ms    float64 `json:"p99Ms"`
	GoalMet  bool    `json:"goalMet"`
	// SlowReceived is how many deliveries the slow subscriber had answered
	// when the measurement ended (0 without one).
	SlowReceived int    `json:"slowReceived"`
	Result       string `json:"result"`
}

// gatedTransport holds the emulator's webhook deliveries while a gate is
// set, so that a backlog builds up and ingest is measured at the speed of
// delivery rather than of ticket creation.
type gatedTransport struct {
	gate atomic.Pointer[chan struct{}]
	base http.RoundTripper
}

func (g *gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if ch := g.gate.Load(); ch != nil {
		select {
		case <-*ch:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return g.base.RoundTrip(r)
}

// runEvents starts `serve --demo` with the event pipeline (SQLite store,
// the connection's Zoho webhook in the emulator, loopback subscribers
// allowed), measures ingest of cfg.EventsIngest events and the end-to-end
// latency of cfg.EventChanges changes without and with a slow subscriber.
func runEvents(ctx context.Context, cfg Config) (*EventsReport, error) {
	if cfg.EmulatorURL != "" {
		return nil, errors.New("the events scenario needs the in-process emulator (its webhook deliveries are timed): drop --emulator")
	}
	dir, err := os.MkdirTemp("", "deskconn-bench-events-*")
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	defer os.RemoveAll(dir)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = EventsInFlight // reuse a connection per delivery in flight
	gate := &gatedTransport{base: tr}
	var pipe *events.Pipeline
	mount := func(s *restapi.Server, m *connection.Manager, st store.Store) error {
		// As serve --demo mounts it (cli.mountDemoEvents): plain-http
		// webhooks to loopback, loopback subscribers allowed.
		pipe = events.New(events.Options{
			Store: st, Keyring: m.Keyring(), Client: m.Client, BaseURL: s.BaseURL(), AllowHTTP: true,
			Fetcher: egress.New(egress.Config{Logger: cfg.Logger, Timeout: 30 * time.Second, MaxBytes: 1 << 20, MaxRedirects: -1,
				UserAgent: "deskconn-webhooks/1", UnsafeAllowLoopback: []string{"127.0.0.1", "localhost", "::1"}}),
			Logger: cfg.Logger,
		})
		if err := s.MountEvents(pipe); err != nil {
			return err
		}
		s.RunInBackground(pipe.Run)
		m.OnActive(func(ctx context.Context, c *store.Connection) {
			if _, err := pipe.Sources.Enable(ctx, c.TenantID, c.ID, store.SourceWebhook); err != nil {
				cfg.Logger.Warn("bench: enable events", "err", err)
			}
		})
		return nil
	}
	d, err := demo.Start(ctx, demo.Options{DataDir: dir, Addr: "127.0.0.1:0", Mount: mount, Logger: cfg.Logger,
		Emulator: emulator.Options{WebhookClient: &http.Client{Transport: gate}, WebhookAckTimeout: time.Minute,
			WebhookConcurrency: EventsInFlight}})
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	defer d.Close()
	conn, err := d.Manager.Get(ctx, d.TenantID, d.Connection)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	if src, err := d.Store.GetEventSource(ctx, conn.ID); err != nil || src.Mode != store.SourceWebhook {
		return nil, fmt.Errorf("start: the connection's events do not come by Zoho webhook (%v %v)", src, err)
	}
	_, access, err := d.Emulator.MintToken(emulator.DemoClientID, emulator.SingleOrgUser, emulator.DemoOrgID, []string{"Desk.tickets.ALL"})
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	// The changes stand for people working in Zoho Desk, so the client has
	// no rate limit of its own (the default's 10/s would be what is timed).
	zc, err := zohodesk.New(zohodesk.Config{BaseURL: d.EmulatorURL + "/api/v1", Tokens: zohodesk.StaticToken(access),
		Limiter: zohodesk.NewOrgLimiter(8, rate.Inf, 1)})
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	create := func(ctx context.Context, subject string) (string, error) {
		tk, _, err := zc.Tickets.Create(ctx, emulator.DemoOrgID, &zohodesk.TicketCreateRequest{
			Subject: subject, DepartmentID: emulator.DemoDepartmentID, ContactID: emulator.DemoContactID})
		if err != nil {
			return "", fmt.Errorf("create a ticket in Zoho: %w", err)
		}
		return tk.ID, nil
	}

	rep := &EventsReport{Ingested: cfg.EventsIngest, IngestInFlight: EventsInFlight, IngestGoal: EventsIngestGoal, LatencyP50Goal: ms(EventsP50Goal)}
	if err := measureIngest(ctx, d, conn.ID, gate, create, rep); err != nil {
		return rep, err
	}

	fast := newBenchSubscriber(0)
	defer fast.close()
	if err := fast.subscribe(ctx, d); err != nil {
		return rep, err
	}
	update := func(ctx context.Context, id string, i int) error {
		_, _, err := zc.Tickets.Update(ctx, emulator.DemoOrgID, id, &zohodesk.TicketUpdateRequest{Subject: zohodesk.Set(fmt.Sprintf("bench change %d", i))}, nil)
		if err != nil {
			return fmt.Errorf("update a ticket in Zoho: %w", err)
		}
		return nil
	}
	rep.Latency = append(rep.Latency, measureLatency(ctx, "fast subscriber only", cfg.EventChanges, fast, nil, create, update))
	slow := newBenchSubscriber(SlowSubscriberDelay)
	defer slow.close()
	if err := slow.subscribe(ctx, d); err != nil {
		return rep, err
	}
	rep.Latency = append(rep.Latency, measureLatency(ctx, fmt.Sprintf("with a slow (%s) subscriber", SlowSubscriberDelay), cfg.EventChanges, fast, slow, create, update))
	return rep, nil
}

// measureIngest holds Zoho's deliveries while it creates the tickets, then
// times their delivery into the log.
func measureIngest(ctx context.Context, d *demo.Demo, connID string, gate *gatedTransport, create func(context.Context, string) (string, error), rep *EventsReport) error {
	before, err := countEvents(ctx, d.Store, connID, 0)
	if err != nil {
		return err
	}
	held := make(chan struct{})
	gate.gate.Store(&held)
	_, errs, _, firstErr := runParallel(ctx, rep.Ingested, 4, 5*time.Minute, func(ctx context.Context) error {
		_, err := create(ctx, "bench ingest")
		return err
	})
	cpu0, cpuOK := processCPU()
	start := time.Now()
	close(held)
	gate.gate.Store(nil)
	if err := d.Emulator.WaitWebhooks(ctx); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	elapsed := time.Since(start)
	cpu1, _ := processCPU()
	if errs > 0 {
		return fmt.Errorf("ingest: %d of %d tickets not created: %w", errs, rep.Ingested, firstErr)
	}
	after, err := countEvents(ctx, d.Store, connID, 0)
	if err != nil {
		return err
	}
	rep.IngestStored = after - before
	rep.IngestMs = ms(elapsed)
	if elapsed > 0 {
		rep.IngestPerSec = float64(rep.IngestStored) / elapsed.Seconds()
	}
	if cpuOK && rep.IngestStored > 0 {
		rep.IngestCPUPerEventUs = float64((cpu1 - cpu0).Microseconds()) / float64(rep.IngestStored)
	}
	rep.IngestGoalMet = rep.IngestPerSec >= EventsIngestGoal
	return nil
}

// countEvents counts the connection's events in the log after cursor.
func countEvents(ctx context.Context, st store.Store, connID string, after int64) (int, error) {
	n := 0
	for {
		evs, err := st.ListEvents(ctx, store.EventFilter{ConnectionID: connID, After: after, Limit: 1000})
		if err != nil {
			return n, fmt.Errorf("read the event log: %w", err)
		}
		if len(evs) == 0 {
			return n, nil
		}
		n += len(evs)
		after = evs[len(evs)-1].Seq
	}
}

// measureLatency makes changes one at a time through Zoho's API — a ticket
// created, then updated, alternately — and times each until the fast
// subscriber has received its event.
func measureLatency(ctx context.Context, setting string, changes int, fast, slow *benchSubscriber, create func(context.Context, string) (string, error), update func(context.Context, string, int) error) EventsLatency {
	row := EventsLatency{Setting: setting, Changes: changes, Result: "ok"}
	var lat []time.Duration
	ticket := ""
	for i := range changes {
		mark := fast.count()
		start := time.Now()
		var err error
		if i%2 == 0 {
			ticket, err = create(ctx, fmt.Sprintf("bench change %d", i))
		} else {
			err = update(ctx, ticket, i)
		}
		if err == nil {
			var at time.Time
			at, err = fast.await(ctx, mark, ticket, i)
			lat = append(lat, at.Sub(start))
		}
		if err != nil {
			row.Result = errText(err)
			break
		}
	}
	slices.Sort(lat)
	row.Received = len(lat)
	row.P50Ms, row.P99Ms = ms(percentile(lat, 50)), ms(percentile(lat, 99))
	row.GoalMet = row.Result == "ok" && row.Received > 0 && percentile(lat, 50) < EventsP50Goal
	if slow != nil {
		row.SlowReceived = slow.count()
	}
	return row
}

// benchSubscriber is a signed webhook subscriber on loopback: it verifies
// each delivery's Deskconn-Signature and records when each arrived, after
// delay (the time a slow subscriber takes to answer).
type benchSubscriber struct {
	srv   *httptest.Server
	delay time.Duration

	mu       sync.Mutex
	secret   []byte
	received []receipt
	arrived  chan struct{} // closed and replaced at every receipt
}

type receipt struct {
	object, typ string
	at          time.Time
}

func newBenchSubscriber(delay time.Duration) *benchSubscriber {
	s := &benchSubscriber{delay: delay, arrived: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *benchSubscriber) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	secret := s.secret
	s.mu.Unlock()
	if err != nil || events.VerifySignature(secret, r.Header.Get(events.SignatureHeader), body, at, 5*time.Minute) != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var env events.Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if s.delay > 0 {
		t := time.NewTimer(s.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	s.mu.Lock()
	s.received = append(s.received, receipt{object: env.Object.ID, typ: env.Type, at: at})
	close(s.arrived)
	s.arrived = make(chan struct{})
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// subscribe subscribes s to the demo connection's ticket events through
// the REST API and keeps the signing secret it returns.
func (s *benchSubscriber) subscribe(ctx context.Context, d *demo.Demo) error {
	body := `{"url":"` + s.srv.URL + `/hook","types":["ticket.created","ticket.updated"]}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL+"/v1/connections/"+d.Connection+"/subscriptions", strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+d.APIKey.Reveal())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	defer resp.Body.Close()
	var created restapi.SubscriptionView
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != http.StatusCreated || created.Secret == "" {
		return fmt.Errorf("subscribe: HTTP %d (%v)", resp.StatusCode, err)
	}
	s.mu.Lock()
	s.secret = []byte(created.Secret)
	s.mu.Unlock()
	return nil
}

// await waits for the event of change i to ticket (created when i is even,
// updated otherwise) among the receipts after the first mark, and returns
// when it arrived. It gives up after 30 s.
func (s *benchSubscriber) await(ctx context.Context, mark int, ticket string, i int) (time.Time, error) {
	want := events.TicketCreated
	if i%2 == 1 {
		want = events.TicketUpdated
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		s.mu.Lock()
		got, arrived := s.received[mark:], s.arrived
		s.mu.Unlock()
		for _, rc := range got {
			if rc.object == ticket && rc.typ == want {
				return rc.at, nil
			}
		}
		mark += len(got)
		select {
		case <-arrived:
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("the subscriber never received %s of ticket %s: %w", want, ticket, ctx.Err())
		}
	}
}

func (s *benchSubscriber) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.received)
}

func (s *benchSubscriber) close() { s.srv.Close() }
