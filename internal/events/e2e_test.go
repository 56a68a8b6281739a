package events_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/events"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// stack is serve --demo with the event pipeline: the emulator as Zoho, the
// server on loopback, and a connection made through the real OAuth flow.
type stack struct {
	t testing.TB
	d *demo.Demo
}

func startStack(t testing.TB) *stack {
	t.Helper()
	return startStackEdition(t, "")
}

// startStackEdition is startStack with the Zoho organisation on an edition
// ("" keeps the demo org's Enterprise).
func startStackEdition(t testing.TB, edition string) *stack {
	t.Helper()
	return startStackWith(t, emulator.Options{Edition: edition})
}

// startStackWith is startStack with these emulator options.
func startStackWith(t testing.TB, eopts emulator.Options) *stack {
	t.Helper()
	mount := func(s *restapi.Server, m *connection.Manager, st store.Store) error {
		p := events.New(events.Options{
			Store: st, Keyring: m.Keyring(), Client: m.Client, BaseURL: s.BaseURL(), AllowHTTP: true,
			Fetcher:      egress.New(egress.Config{UnsafeAllowLoopback: []string{"127.0.0.1"}, MaxRedirects: -1}),
			PollInterval: 20 * time.Millisecond, PollCreditsPerDay: 1 << 30, Logger: slog.New(slog.DiscardHandler),
		})
		p.Worker.Idle = 20 * time.Millisecond
		if err := s.MountEvents(p); err != nil {
			return err
		}
		// The action registry every door (REST, MCP) serves, with list_events
		// reading this pipeline's log, and its writes audited (and marked) as
		// serve does.
		reg := action.NewRegistry(action.Options{Audit: st})
		reg.Add(deskactions.All(deskactions.Deps{Events: p.Log})...)
		if err := s.MountActions(restapi.ActionsOptions{Registry: reg}); err != nil {
			return err
		}
		s.RunInBackground(p.Run)
		// As serve does: connecting switches events on.
		m.OnActive(func(ctx context.Context, c *store.Connection) {
			if _, err := p.Sources.Enable(ctx, c.TenantID, c.ID, ""); err != nil {
				t.Errorf("enable events on connect: %v", err)
			}
		})
		return nil
	}
	d, err := demo.Start(t.Context(), demo.Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Mount: mount,
		Logger: slog.New(slog.DiscardHandler), Emulator: eopts})
	if err != nil {
		t.Fatalf("demo.Start = %v", err)
	}
	t.Cleanup(d.Close)
	return &stack{t: t, d: d}
}

// api calls deskconn's REST API with the demo key.
func (s *stack) api(ctx context.Context, method, path, body string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, s.d.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.d.APIKey.Reveal())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil
		}
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// zoho returns a client of the emulator's API with the scope, as a
// person's (or another integration's) in Zoho Desk, not deskconn's.
func (s *stack) zoho(scope string) *zohodesk.Client {
	s.t.Helper()
	_, access, err := s.d.Emulator.MintToken(emulator.DemoClientID, emulator.SingleOrgUser, emulator.DemoOrgID, []string{scope})
	if err != nil {
		s.t.Fatal(err)
	}
	c, err := zohodesk.New(zohodesk.Config{BaseURL: s.d.EmulatorURL + "/api/v1", Tokens: zohodesk.StaticToken(access)})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// createTicketInZoho makes the change on Zoho's side: straight through the
// emulator's API, as an agent in Zoho Desk would.
func (s *stack) createTicketInZoho(subject string) string {
	s.t.Helper()
	tk, _, err := s.zoho("Desk.tickets.ALL").Tickets.Create(s.t.Context(), emulator.DemoOrgID, &zohodesk.TicketCreateRequest{
		Subject: subject, DepartmentID: emulator.DemoDepartmentID, ContactID: emulator.DemoContactID})
	if err != nil {
		s.t.Fatalf("create ticket in Zoho: %v", err)
	}
	return tk.ID
}

// zohoWebhooks counts the webhooks configured in Zoho.
func (s *stack) zohoWebhooks() int {
	s.t.Helper()
	hooks, _, err := s.zoho("Desk.events.ALL").Webhooks.List(s.t.Context(), emulator.DemoOrgID)
	if err != nil {
		s.t.Fatal(err)
	}
	return len(hooks)
}

// subscriber records verified deliveries.
type subscriber struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    chan events.Envelope
}

func newSubscriber(t testing.TB) *subscriber {
	s := &subscriber{got: make(chan events.Envelope, 16)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		secret := s.secret
		s.mu.Unlock()
		if err := events.VerifySignature([]byte(secret), r.Header.Get(events.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("subscriber: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var env events.Envelope
		if err := json.Unmarshal(body, &env); err != nil {
			t.Errorf("subscriber: %v", err)
		}
		s.got <- env
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// sse reads the event stream and sends each event's data.
func (s *stack) sse(ctx context.Context, out chan<- events.Envelope) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.d.URL+"/v1/connections/demo/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+s.d.APIKey.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var env events.Envelope
			if json.Unmarshal([]byte(data), &env) == nil {
				out <- env
			}
		}
	}
}

func (s *stack) longPoll(ctx context.Context, out chan<- events.Envelope) {
	status, body := s.api(ctx, http.MethodGet, "/v1/connections/demo/events?after=0&wait=60s&types=ticket.created", "")
	if status != http.StatusOK {
		return
	}
	var list struct{ Events []events.Envelope }
	if json.Unmarshal(body, &list) == nil {
		for _, e := range list.Events {
			out <- e
		}
	}
}

// listEvents calls the list_events action (the MCP tool) until it returns
// the ticket's creation.
func (s *stack) listEvents(ctx context.Context, out chan<- events.Envelope) {
	after := int64(0)
	for ctx.Err() == nil {
		status, body := s.api(ctx, http.MethodPost, "/v1/connections/demo/actions/list_events",
			`{"after":`+strconv.FormatInt(after, 10)+`,"types":["ticket.created"],"waitSeconds":20}`)
		if status != http.StatusOK {
			return
		}
		var res struct {
			Events []events.Envelope
			Next   int64
		}
		if json.Unmarshal(body, &res) != nil {
			return
		}
		for _, e := range res.Events {
			out <- e
		}
		after = res.Next
	}
}

func waitFor(t *testing.T, what string, ch <-chan events.Envelope, ticketID string) events.Envelope {
	t.Helper()
	for {
		select {
		case env := <-ch:
			if env.Type == events.TicketCreated && env.Object.ID == ticketID {
				return env
			}
		case <-t.Context().Done():
			t.Fatalf("%s never saw ticket %s", what, ticketID)
		}
	}
}

// A ticket created in Zoho reaches an SSE client, a long-poller, a signed
// webhook subscriber and the list_events tool, in webhook mode and in
// polling mode.
func TestEndToEnd(t *testing.T) {
	for _, mode := range []store.EventSourceMode{store.SourceWebhook, store.SourcePolling} {
		t.Run(string(mode), func(t *testing.T) {
			s := startStack(t)
			// Connecting (demo.Start) already registered a Zoho webhook.
			if n := s.zohoWebhooks(); n != 1 {
				t.Fatalf("after connecting Zoho has %d webhooks, want 1", n)
			}
			status, body := s.api(t.Context(), http.MethodPost, "/v1/connections/demo/events/enable", `{"mode":"`+string(mode)+`"}`)
			if status != http.StatusOK || !strings.Contains(string(body), `"mode":"`+string(mode)+`"`) {
				t.Fatalf("enable = %d %s", status, body)
			}
			// The connections API shows where the events come from.
			if status, body := s.api(t.Context(), http.MethodGet, "/v1/connections/demo", ""); status != http.StatusOK ||
				!strings.Contains(string(body), `"events":{"mode":"`+string(mode)+`"`) {
				t.Errorf("GET connection = %d %s, want its event source", status, body)
			}
			sub := newSubscriber(t)
			status, body = s.api(t.Context(), http.MethodPost, "/v1/connections/demo/subscriptions", `{"url":"`+sub.srv.URL+`/hook","types":["ticket.created"]}`)
			var created restapi.SubscriptionView
			if status != http.StatusCreated || json.Unmarshal(body, &created) != nil || !strings.HasPrefix(created.Secret, "whsec_") {
				t.Fatalf("subscribe = %d %s", status, body)
			}
			sub.mu.Lock()
			sub.secret = created.Secret
			sub.mu.Unlock()

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var wg sync.WaitGroup
			defer wg.Wait()
			defer cancel()
			sseCh, pollCh := make(chan events.Envelope, 16), make(chan events.Envelope, 16)
			wg.Go(func() { s.sse(ctx, sseCh) })
			wg.Go(func() { s.longPoll(ctx, pollCh) })
			toolCh := make(chan events.Envelope, 16)
			wg.Go(func() { s.listEvents(ctx, toolCh) })

			id := s.createTicketInZoho("Printer on fire (" + string(mode) + ")")
			waitFor(t, "the SSE client", sseCh, id)
			got := waitFor(t, "the long-poller", pollCh, id)
			waitFor(t, "the webhook subscriber", sub.got, id)
			waitFor(t, "the list_events tool", toolCh, id)
			if got.Connection == "" || got.ID == "" || got.ReceivedAt.IsZero() {
				t.Errorf("envelope = %+v", got)
			}
			if mode == store.SourceWebhook {
				// Zoho records the answer after the receiver has stored the event.
				if err := s.d.Emulator.WaitWebhooks(t.Context()); err != nil {
					t.Fatal(err)
				}
				ds := s.d.Emulator.WebhookDeliveries()
				if len(ds) == 0 || ds[0].Status != http.StatusOK {
					t.Errorf("Zoho's webhook deliveries = %+v, want acknowledged with 200", ds)
				}
				if n := s.zohoWebhooks(); n != 1 {
					t.Errorf("Zoho has %d webhooks, want the connection's one", n)
				}
				// Deleting the connection deletes its Zoho webhook.
				if err := s.d.Manager.Delete(t.Context(), s.d.TenantID, "demo"); err != nil {
					t.Fatalf("delete the connection: %v", err)
				}
				if n := s.zohoWebhooks(); n != 0 {
					t.Errorf("after deleting the connection Zoho has %d webhooks, want 0", n)
				}
			}
		})
	}
}

// On an edition without webhooks, enabling falls back to polling and says
// why; asking for a webhook explicitly fails with the reason.
func TestEnableFallsBackToPolling(t *testing.T) {
	s := startStackEdition(t, "STANDARD")
	status, body := s.api(t.Context(), http.MethodPost, "/v1/connections/demo/events/enable", `{}`)
	var src restapi.EventSourceView
	if status != http.StatusOK || json.Unmarshal(body, &src) != nil || src.Mode != "polling" ||
		!strings.Contains(src.LastError, "LICENSE_ACCESS_LIMITED") || !strings.Contains(src.LastError, "polling instead") {
		t.Fatalf("enable on STANDARD = %d %s, want polling with Zoho's reason", status, body)
	}
	status, body = s.api(t.Context(), http.MethodPost, "/v1/connections/demo/events/enable", `{"mode":"webhook"}`)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "Zoho refused the webhook") {
		t.Errorf("enable webhook on STANDARD = %d %s, want 503 with the reason", status, body)
	}
	status, body = s.api(t.Context(), http.MethodPost, "/v1/connections/demo/events/enable", `{"mode":"sometimes"}`)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "/mode") {
		t.Errorf("enable with a bad mode = %d %s, want 400 naming /mode", status, body)
	}
}

// Zoho delivering twice and out of order still gives one deskconn event
// per change.
func TestEndToEndZohoFaults(t *testing.T) {
	s := startStack(t)
	if status, body := s.api(t.Context(), http.MethodPost, "/v1/connections/demo/events/enable", `{"mode":"webhook"}`); status != http.StatusOK {
		t.Fatalf("enable = %d %s", status, body)
	}
	s.d.Emulator.SetWebhookFaults(emulator.WebhookFaults{Duplicate: true, Reorder: true})
	a := s.createTicketInZoho("first")
	b := s.createTicketInZoho("second")
	if err := s.d.Emulator.WaitWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(s.d.Emulator.WebhookDeliveries()); n != 4 {
		t.Fatalf("Zoho made %d deliveries, want 4 (two events, each twice)", n)
	}
	status, body := s.api(t.Context(), http.MethodGet, "/v1/connections/demo/events?types=ticket.created", "")
	var list struct{ Events []events.Envelope }
	if status != http.StatusOK || json.Unmarshal(body, &list) != nil {
		t.Fatalf("list = %d %s", status, body)
	}
	count := map[string]int{}
	for _, e := range list.Events {
		count[e.Object.ID]++
	}
	if len(list.Events) != 2 || count[a] != 1 || count[b] != 1 {
		t.Errorf("log has %v, want one ticket.created for %s and one for %s", count, a, b)
	}
}

// BenchmarkEndToEndLatency measures, on one machine, the time from a
// ticket created in Zoho (the emulator) to its signed delivery at a
// subscriber, through the webhook, the receiver, the log and the worker.
func BenchmarkEndToEndLatency(b *testing.B) {
	s := startStack(b)
	if status, body := s.api(b.Context(), http.MethodPost, "/v1/connections/demo/events/enable", `{"mode":"webhook"}`); status != http.StatusOK {
		b.Fatalf("enable = %d %s", status, body)
	}
	sub := newSubscriber(b)
	status, body := s.api(b.Context(), http.MethodPost, "/v1/connections/demo/subscriptions", `{"url":"`+sub.srv.URL+`/hook","types":["ticket.created"]}`)
	var created restapi.SubscriptionView
	if status != http.StatusCreated || json.Unmarshal(body, &created) != nil {
		b.Fatalf("subscribe = %d %s", status, body)
	}
	sub.mu.Lock()
	sub.secret = created.Secret
	sub.mu.Unlock()
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		id := s.createTicketInZoho("latency")
		for env := range sub.got {
			if env.Object.ID == id {
				break
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// The event endpoints name the bad parameter and what to change.
func TestEventAPIRefuses(t *testing.T) {
	s := startStack(t)
	tests := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{http.MethodGet, "/v1/connections/demo/events?after=-1", "", 400, "/after"},
		{http.MethodGet, "/v1/connections/demo/events?types=ticket.deleted", "", 400, "/types"},
		{http.MethodGet, "/v1/connections/demo/events?limit=501", "", 400, "/limit"},
		{http.MethodGet, "/v1/connections/demo/events?wait=2h", "", 400, "/wait"},
		{http.MethodGet, "/v1/connections/nope/events", "", 404, "not_found"},
		{http.MethodGet, "/v1/connections/demo/events/stream?after=x", "", 400, "/after"},
		{http.MethodPost, "/v1/connections/demo/subscriptions", `{"types":["ticket.created"]}`, 400, "/url"},
		{http.MethodPost, "/v1/connections/demo/subscriptions", `{"url":"ftp://files.example.com/x"}`, 400, "/url"},
		{http.MethodPost, "/v1/connections/demo/subscriptions", `{"url":"https://hooks.example.com/","types":["ticket.deleted"]}`, 400, "/types/0"},
		{http.MethodPost, "/v1/connections/demo/subscriptions", `{"url":"https://hooks.example.com/","secret":"mine"}`, 400, "secret"},
		{http.MethodDelete, "/v1/connections/demo/subscriptions/sub_nope", "", 404, "not_found"},
		{http.MethodPost, "/v1/connections/demo/subscriptions/sub_nope/redeliver", "", 404, "not_found"},
	}
	for _, tt := range tests {
		status, body := s.api(t.Context(), tt.method, tt.path, tt.body)
		if status != tt.status || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s %s %s = %d %s, want %d mentioning %s", tt.method, tt.path, tt.body, status, body, tt.status, tt.want)
		}
	}
	// Without an API key nothing is served; the secret is never listed.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.d.URL+"/v1/connections/demo/events", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("events without a key = %v, %v; want 401", resp, err)
	} else {
		resp.Body.Close()
	}
	status, body := s.api(t.Context(), http.MethodPost, "/v1/connections/demo/subscriptions", `{"url":"https://hooks.example.com/"}`)
	var created restapi.SubscriptionView
	if status != http.StatusCreated || json.Unmarshal(body, &created) != nil {
		t.Fatalf("subscribe = %d %s", status, body)
	}
	if status, body := s.api(t.Context(), http.MethodGet, "/v1/connections/demo/subscriptions", ""); status != http.StatusOK ||
		strings.Contains(string(body), created.Secret) || !strings.Contains(string(body), created.ID) {
		t.Errorf("list subscriptions = %d %s, want the subscription without its secret", status, body)
	}
	if status, body := s.api(t.Context(), http.MethodPost, "/v1/connections/demo/subscriptions/"+created.ID+"/redeliver", ""); status != http.StatusOK ||
		!strings.Contains(string(body), `"redelivered":0`) {
		t.Errorf("redeliver = %d %s", status, body)
	}
	if status, _ := s.api(t.Context(), http.MethodDelete, "/v1/connections/demo/subscriptions/"+created.ID, ""); status != http.StatusNoContent {
		t.Errorf("delete subscription = %d, want 204", status)
	}
}
