package events

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/egress/egresstest"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
)

func TestSignVerify(t *testing.T) {
	t.Parallel()
	secret := []byte("whsec_test")
	at := time.Unix(1781180000, 0)
	body := []byte(`{"id":"evt_1"}`)
	h := Sign(secret, at, body)
	if !strings.HasPrefix(h, "t=1781180000,v1=") {
		t.Fatalf("Sign = %q", h)
	}
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		ok     bool
	}{
		{"valid", secret, h, body, at.Add(time.Minute), true},
		{"other body", secret, h, []byte(`{"id":"evt_2"}`), at, false},
		{"other secret", []byte("x"), h, body, at, false},
		{"too old (replay)", secret, h, body, at.Add(10 * time.Minute), false},
		{"no v1", secret, "t=1781180000", body, at, false},
		{"no t", secret, strings.TrimPrefix(h, "t=1781180000,"), body, at, false},
	}
	for _, tt := range tests {
		err := VerifySignature(tt.secret, tt.header, tt.body, tt.now, 5*time.Minute)
		if (err == nil) != tt.ok {
			t.Errorf("%s: VerifySignature = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// subscriber is a webhook subscriber on the fake internet that checks
// signatures and answers with a scripted status.
type subscriber struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	status []int // answers in order; 200 after the last
	got    []string
}

func (s *subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := VerifySignature(s.secret, r.Header.Get(SignatureHeader), body, time.Now(), time.Hour); err != nil {
		s.t.Errorf("subscriber: %v", err)
	}
	var env Envelope
	if err := json.Unmarshal(body, &env); err != nil || env.ID != r.Header.Get("Deskconn-Event-Id") {
		s.t.Errorf("subscriber got %s with event id header %q", body, r.Header.Get("Deskconn-Event-Id"))
	}
	code := http.StatusOK
	if len(s.status) > 0 {
		code, s.status = s.status[0], s.status[1:]
	}
	if code == http.StatusOK {
		s.got = append(s.got, env.ID)
	}
	w.WriteHeader(code)
}

func (s *subscriber) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func testKeyring(t *testing.T) *seal.Keyring {
	t.Helper()
	k, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := seal.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestWorkerDeliversRetriesAndFails(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, "https://desk.zoho.com/api/v1")
	kr := testKeyring(t)
	inet := egresstest.New(t)
	fetcher := egress.New(inet.Config(egress.Config{}))
	sub := &subscriber{t: t, status: []int{http.StatusServiceUnavailable, http.StatusInternalServerError}}
	inet.Handle("hooks.example.com", sub)

	s, secret, err := NewSubscription(t.Context(), st, kr, fetcher, st.tenant.ID, st.conn.ID, "https://hooks.example.com/deskconn", []string{TicketCreated})
	if err != nil {
		t.Fatalf("NewSubscription = %v", err)
	}
	sub.secret = []byte(secret)
	if strings.Contains(string(s.SealedSecret), secret) {
		t.Fatalf("the secret is stored in the clear")
	}

	clock := time.Now()
	l := &Log{Store: st, Now: func() time.Time { return clock }}
	w := &Worker{Store: st, Keyring: kr, Poster: fetcher, Owner: "w1", Now: func() time.Time { return clock },
		BackoffMin: time.Minute, BackoffMax: time.Hour, RetryFor: 3 * time.Minute, Logger: slog.New(slog.DiscardHandler)}
	add := func(id string, typ string) {
		t.Helper()
		ev := ZohoEvent{EventType: map[string]string{TicketCreated: "Ticket_Add", ContactCreated: "Contact_Add"}[typ], Payload: json.RawMessage(`{"id":"` + id + `"}`)}
		n, err := Normalise(st.conn.ID, ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(t.Context(), st.conn.ID, []*Normalised{n}); err != nil {
			t.Fatal(err)
		}
	}
	add("1", TicketCreated)
	add("2", ContactCreated) // not a type the subscription wants

	// First attempt: 503, retried after backoff (between 30 s and 60 s).
	if n, err := w.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunOnce = %d, %v; want 1 claimed", n, err)
	}
	if n, _ := w.RunOnce(t.Context()); n != 0 {
		t.Fatalf("a retry was due before its backoff")
	}
	clock = clock.Add(61 * time.Second)
	if n, err := w.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunOnce(retry) = %d, %v", n, err)
	}
	// The next backoff (1-2 min) ends past RetryFor (3 min): failed.
	clock = clock.Add(2*time.Minute + time.Second)
	if n, _ := w.RunOnce(t.Context()); n != 1 {
		t.Fatalf("third attempt not claimed")
	}
	ds, err := st.ListDeliveries(t.Context(), s.ID, 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("ListDeliveries = %v, %v", ds, err)
	}
	if len(sub.received()) != 1 || ds[0].State != store.DeliveryDelivered || ds[0].Attempts != 3 {
		t.Fatalf("after 503, 500, 200: received %v, delivery %+v; want delivered on the third attempt", sub.received(), ds[0])
	}

	// A subscriber that keeps failing: failed after RetryFor, then redelivered.
	sub.mu.Lock()
	sub.status = []int{500, 500, 500, 500, 500, 500}
	sub.mu.Unlock()
	add("3", TicketCreated)
	for range 6 {
		if _, err := w.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(2 * time.Minute)
	}
	ds, _ = st.ListDeliveries(t.Context(), s.ID, 0)
	if ds[0].State != store.DeliveryFailed || !strings.Contains(ds[0].LastError, "500") {
		t.Fatalf("delivery after RetryFor of failures = %+v, want failed with the last status", ds[0])
	}
	sub.mu.Lock()
	sub.status = nil
	sub.mu.Unlock()
	if n, err := st.RedeliverFailed(t.Context(), s.ID, clock); err != nil || n != 1 {
		t.Fatalf("RedeliverFailed = %d, %v", n, err)
	}
	if n, err := w.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunOnce(redeliver) = %d, %v", n, err)
	}
	if got := sub.received(); len(got) != 2 || got[0] == got[1] {
		t.Errorf("subscriber received %v, want two distinct events", got)
	}
}

func TestNewSubscriptionRefuses(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, "https://desk.zoho.com/api/v1")
	fetcher := egress.New(egress.Config{})
	kr := testKeyring(t)
	tests := []struct {
		name  string
		url   string
		types []string
		want  string
	}{
		{"loopback", "http://127.0.0.1:9/hook", nil, "url"},
		{"credentials", "https://user:pw@hooks.example.com/", nil, "url"},
		{"unknown type", "https://hooks.example.com/", []string{"ticket.deleted"}, "types/0"},
	}
	for _, tt := range tests {
		_, _, err := NewSubscription(t.Context(), st, kr, fetcher, st.tenant.ID, st.conn.ID, tt.url, tt.types)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: NewSubscription = %v, want an error on %s", tt.name, err, tt.want)
		}
	}
}

// After a key rotation and ResealSubscriptions, deliveries still sign with
// the subscription's secret while only the new key is kept.
func TestResealSubscriptions(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, "https://desk.zoho.com/api/v1")
	oldKey, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	oldRing, _ := seal.NewKeyring(oldKey)
	both, _ := seal.NewKeyring(newKey, oldKey)
	onlyNew, _ := seal.NewKeyring(newKey)
	sub, secret, err := NewSubscription(t.Context(), st, oldRing, egress.New(egress.Config{}), st.tenant.ID, st.conn.ID, "https://hooks.example.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ResealSubscriptions(t.Context(), st, both); err != nil || n != 1 {
		t.Fatalf("ResealSubscriptions = %d, %v; want 1", n, err)
	}
	if n, err := ResealSubscriptions(t.Context(), st, both); err != nil || n != 0 {
		t.Errorf("ResealSubscriptions again = %d, %v; want 0", n, err)
	}
	got, err := st.GetSubscription(t.Context(), st.tenant.ID, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := onlyNew.Open(got.SealedSecret, secretAAD(sub.ID))
	if err != nil || string(plain) != secret {
		t.Errorf("resealed secret opens to %q, %v; want the original secret", plain, err)
	}
}

// A worker that crashes after claiming (before recording the outcome)
// loses nothing: when its lease ends another worker delivers, and the
// subscriber sees the same event id either way.
func TestWorkerCrashWindow(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, "https://desk.zoho.com/api/v1")
	kr := testKeyring(t)
	if _, _, err := NewSubscription(t.Context(), st, kr, allowAll{}, st.tenant.ID, st.conn.ID, "https://hooks.example.com/", nil); err != nil {
		t.Fatal(err)
	}
	n, err := Normalise(st.conn.ID, ZohoEvent{EventType: "Ticket_Add", Payload: json.RawMessage(`{"id":"1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	added, err := (&Log{Store: st}).Append(t.Context(), st.conn.ID, []*Normalised{n})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now() // the delivery is due from the event's arrival
	// The crashed worker: claimed with a 2-minute lease, never finished.
	if ds, err := st.ClaimDeliveries(t.Context(), "crashed", clock, 2*time.Minute, 10); err != nil || len(ds) != 1 {
		t.Fatalf("claim = %v, %v", ds, err)
	}
	poster := &countingPoster{got: map[string]int{}}
	w := &Worker{Store: st, Keyring: kr, Poster: poster, Owner: "survivor", Now: func() time.Time { return clock }}
	if n, _ := w.RunOnce(t.Context()); n != 0 {
		t.Fatalf("a leased delivery was claimed again before its lease ended")
	}
	clock = clock.Add(2*time.Minute + time.Second)
	if n, err := w.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunOnce after the lease = %d, %v; want the crashed worker's delivery", n, err)
	}
	if poster.got[added[0].ID] != 1 {
		t.Errorf("deliveries = %v, want event %s once", poster.got, added[0].ID)
	}
}

// runWorker runs w until the test ends (after its deferred calls), then
// waits for it to return.
func runWorker(t *testing.T, w *Worker) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// appendAfterClaim is an event store whose first claim that finds nothing
// runs append before it returns: an event committed just after the worker
// looked, the moment in which a wake-up can be missed.
type appendAfterClaim struct {
	store.EventStore
	once   sync.Once
	append func()
}

func (s *appendAfterClaim) ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip ...string) ([]*store.Delivery, error) {
	ds, err := s.EventStore.ClaimDeliveries(ctx, owner, now, lease, limit, skip...)
	if err == nil && len(ds) == 0 {
		s.once.Do(s.append)
	}
	return ds, err
}

// An event appended between the worker's claim and its wait still wakes it:
// the worker takes the log's wake-up before it claims. (Taken after, as it
// once was, the event waited for the next idle tick: here an hour.)
func TestWorkerWakesForAnEventAppendedAfterItsClaim(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, "https://desk.zoho.com/api/v1")
	kr := testKeyring(t)
	if _, _, err := NewSubscription(t.Context(), st, kr, allowAll{}, st.tenant.ID, st.conn.ID, "https://fast.example.com/", nil); err != nil {
		t.Fatal(err)
	}
	l := &Log{Store: st}
	appended := make(chan string, 1)
	racing := &appendAfterClaim{EventStore: st, append: func() {
		n, err := Normalise(st.conn.ID, ZohoEvent{EventType: "Ticket_Add", Payload: json.RawMessage(`{"id":"1"}`)})
		if err != nil {
			t.Error(err)
			return
		}
		added, err := l.Append(t.Context(), st.conn.ID, []*Normalised{n})
		if err != nil || len(added) != 1 {
			t.Errorf("append = %v, %v", added, err)
			return
		}
		appended <- added[0].ID
	}}
	poster := &blockingPoster{release: make(chan struct{}), fast: make(chan string, 1)}
	w := &Worker{Store: racing, Keyring: kr, Poster: poster, Log: l, Owner: "w", Idle: time.Hour, Logger: slog.New(slog.DiscardHandler)}
	runWorker(t, w)
	id := <-appended
	// Success never waits on a clock; the limit only turns the old
	// behaviour (an hour's wait) into a failure rather than a hung test.
	select {
	case got := <-poster.fast:
		if got != id {
			t.Fatalf("delivered %s, want %s", got, id)
		}
	case <-time.After(time.Minute):
		t.Fatal("the event appended after the worker's claim was not delivered: the worker missed its wake-up")
	}
}

// blockingPoster holds deliveries to slowURL until release is closed and
// reports every other delivery on fast.
type blockingPoster struct {
	slowURL string
	release chan struct{}
	fast    chan string
}

func (p *blockingPoster) Post(ctx context.Context, url string, h http.Header, _ []byte) (int, error) {
	if url == p.slowURL {
		select {
		case <-p.release:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		return http.StatusOK, nil
	}
	p.fast <- h.Get("Deskconn-Event-Id")
	return http.StatusOK, nil
}

// A subscriber that does not answer holds only its own deliveries: another
// subscriber gets the next events meanwhile.
func TestWorkerSlowSubscriberDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, "https://desk.zoho.com/api/v1")
	kr := testKeyring(t)
	for _, u := range []string{"https://slow.example.com/", "https://fast.example.com/"} {
		if _, _, err := NewSubscription(t.Context(), st, kr, allowAll{}, st.tenant.ID, st.conn.ID, u, nil); err != nil {
			t.Fatal(err)
		}
	}
	poster := &blockingPoster{slowURL: "https://slow.example.com/", release: make(chan struct{}), fast: make(chan string, 8)}
	l := &Log{Store: st}
	w := &Worker{Store: st, Keyring: kr, Poster: poster, Log: l, Owner: "w", Concurrency: 2, Idle: time.Hour,
		Logger: slog.New(slog.DiscardHandler)}
	runWorker(t, w)
	defer close(poster.release)
	for i := range 3 {
		n, err := Normalise(st.conn.ID, ZohoEvent{EventType: "Ticket_Add", Payload: json.RawMessage(fmt.Sprintf(`{"id":"%d"}`, i))})
		if err != nil {
			t.Fatal(err)
		}
		added, err := l.Append(t.Context(), st.conn.ID, []*Normalised{n})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-poster.fast:
			if id != added[0].ID {
				t.Fatalf("fast subscriber got %s, want %s", id, added[0].ID)
			}
		case <-t.Context().Done():
			t.Fatalf("event %d never reached the fast subscriber while the slow one hangs", i)
		}
	}
}
