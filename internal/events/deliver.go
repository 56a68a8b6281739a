package events

import (
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
)

// SignatureHeader carries a delivery's signature:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>".
const SignatureHeader = "Deskconn-Signature"

// Sign returns the SignatureHeader value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a SignatureHeader value against body: a v1 value
// must match and t must be within tolerance of now (replay window). It is
// what a subscriber runs; deskconn's tests use it too.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("signature header needs t=<unix seconds> and v1=<hex>")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("signature timestamp outside the tolerance")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("signature does not match")
}

// secretAAD binds a subscription's sealed secret to its row.
func secretAAD(subscriptionID string) seal.AAD {
	return seal.AAD{Table: "subscriptions", RowID: subscriptionID, Column: "secret"}
}

// URLChecker vets subscriber URLs before any network access
// (*egress.Fetcher implements it).
type URLChecker interface {
	CheckURL(rawURL string) error
}

// NewSubscription validates and stores a subscription and returns it with
// its signing secret, which is shown to the caller once and stored only
// sealed. Types must be known event types (empty: all); the URL must pass
// the SSRF guard.
func NewSubscription(ctx context.Context, st store.EventStore, kr *seal.Keyring, urls URLChecker,
	tenantID, connectionID, rawURL string, types []string) (*store.Subscription, string, error) {
	if err := urls.CheckURL(rawURL); err != nil {
		return nil, "", fmt.Errorf("url: %w", err)
	}
	for i, t := range types {
		if !KnownType(t) {
			return nil, "", fmt.Errorf("types/%d: unknown event type %q; use one of %s", i, t, strings.Join(Types, ", "))
		}
	}
	var raw [32]byte
	_, _ = crand.Read(raw[:])
	secret := "whsec_" + base64.RawURLEncoding.EncodeToString(raw[:])
	sub := &store.Subscription{ID: store.NewID("sub"), TenantID: tenantID, ConnectionID: connectionID, URL: rawURL, Types: types}
	sealed, err := kr.Seal([]byte(secret), secretAAD(sub.ID))
	if err != nil {
		return nil, "", fmt.Errorf("seal subscription secret: %w", err)
	}
	sub.SealedSecret = sealed
	if err := st.CreateSubscription(ctx, sub); err != nil {
		return nil, "", err
	}
	return sub, secret, nil
}

// ResealSubscriptions re-seals every subscription's secret under kr's
// active key (kr must hold the old keys too) and returns how many it
// rewrote; run it with connection.Reseal when rotating keys.
func ResealSubscriptions(ctx context.Context, st store.Store, kr *seal.Keyring) (int, error) {
	conns, err := st.ListConnections(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("reseal subscriptions: %w", err)
	}
	n := 0
	for _, c := range conns {
		subs, err := st.ListSubscriptions(ctx, c.TenantID, c.ID)
		if err != nil {
			return n, fmt.Errorf("reseal subscriptions: %w", err)
		}
		for _, sub := range subs {
			out, changed, err := kr.Reseal(sub.SealedSecret, secretAAD(sub.ID))
			if err != nil {
				return n, fmt.Errorf("reseal subscription %s: %w", sub.ID, err)
			}
			if !changed {
				continue
			}
			if err := st.SetSubscriptionSecret(ctx, sub.TenantID, sub.ID, out); err != nil {
				return n, fmt.Errorf("reseal subscription %s: %w", sub.ID, err)
			}
			n++
		}
	}
	return n, nil
}

// Poster sends one delivery (*egress.Fetcher implements it).
type Poster interface {
	Post(ctx context.Context, rawURL string, header http.Header, body []byte) (int, error)
}

// Retry policy defaults.
const (
	DefaultRetryFor   = 25 * time.Hour // retried for at least this long, then failed
	DefaultBackoffMin = 10 * time.Second
	DefaultBackoffMax = time.Hour
	DefaultLease      = 2 * time.Minute
)

// Worker delivers pending deliveries to subscribers: it claims a batch with
// a lease, POSTs each event's envelope signed with the subscription's
// secret, and records the outcome. A 2xx answer is delivered; anything else
// is retried with exponential backoff and full jitter until RetryFor has
// passed since the delivery was created, then failed (re-deliverable).
// Workers on several replicas share the work through the store's claims;
// a crashed worker's claims come back when their lease ends, which is the
// only way a subscriber sees an acknowledged event twice.
type Worker struct {
	Store   store.EventStore
	Keyring *seal.Keyring
	Poster  Poster
	Log     *Log // optional: a new event wakes the worker at once
	Owner   string
	Logger  *slog.Logger

	Lease       time.Duration // 0: DefaultLease
	RetryFor    time.Duration // 0: DefaultRetryFor
	BackoffMin  time.Duration // 0: DefaultBackoffMin
	BackoffMax  time.Duration // 0: DefaultBackoffMax
	Batch       int           // 0: 50
	Concurrency int           // 0: 8
	Idle        time.Duration // how often an idle worker looks again; 0: 1 s
	Now         func() time.Time
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

// Run delivers until ctx ends. Each subscriber has at most one delivery
// in flight in this worker (its events go out in order), and up to
// Concurrency subscribers are served at once; a slot freed is refilled at
// once, so a slow subscriber holds only its own slot and never delays the
// others' events.
func (w *Worker) Run(ctx context.Context) error {
	idle := w.Idle
	if idle <= 0 {
		idle = time.Second
	}
	lease, batch, conc := w.limits()
	ticker := time.NewTicker(idle)
	defer ticker.Stop()
	var mu sync.Mutex
	busy := map[string]bool{} // subscriptions with a delivery in flight
	freed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		// The wake-up channel is taken before the claim: an append that
		// commits after the claim looked closes it, one before is claimed.
		// Taken after, an append in between would go unnoticed until the
		// next tick.
		var wake <-chan struct{}
		if w.Log != nil {
			wake = w.Log.deliveriesDue()
		}
		mu.Lock()
		free := conc - len(busy)
		skip := make([]string, 0, len(busy))
		for id := range busy {
			skip = append(skip, id)
		}
		mu.Unlock()
		if free > 0 {
			claimedAt := w.now()
			ds, err := w.Store.ClaimDeliveries(ctx, w.Owner, claimedAt, lease, min(free, batch), skip...)
			if err != nil && ctx.Err() == nil {
				w.logger().Error("events: claim deliveries", "err", err)
			}
			// One goroutine per subscriber, delivering its claims in order.
			groups := map[string][]*store.Delivery{}
			var order []string
			for _, d := range ds {
				if _, ok := groups[d.SubscriptionID]; !ok {
					order = append(order, d.SubscriptionID)
				}
				groups[d.SubscriptionID] = append(groups[d.SubscriptionID], d)
			}
			for _, sub := range order {
				mu.Lock()
				busy[sub] = true
				mu.Unlock()
				wg.Go(func() {
					defer func() {
						mu.Lock()
						delete(busy, sub)
						mu.Unlock()
						select {
						case freed <- struct{}{}:
						default:
						}
					}()
					for _, d := range groups[sub] {
						// Past half the lease, leave the rest: their leases
						// end and they are claimed again, never sent twice
						// at once.
						if w.now().Sub(claimedAt) > lease/2 {
							return
						}
						if err := w.deliver(ctx, d, lease); err != nil {
							w.logger().Error("events: record a delivery", "delivery", d.ID, "err", err)
						}
					}
				})
			}
			if len(ds) == min(free, batch) && len(order) < free {
				continue // maybe more are due: claim for the free slots
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		case <-wake:
		case <-freed:
		}
	}
}

func (w *Worker) limits() (lease time.Duration, batch, conc int) {
	lease, batch, conc = w.Lease, w.Batch, w.Concurrency
	if lease <= 0 {
		lease = DefaultLease
	}
	if batch <= 0 {
		batch = 50
	}
	if conc <= 0 {
		conc = 8
	}
	return lease, batch, conc
}

// RunOnce claims one batch of due deliveries, sends them (Concurrency at
// a time) and records the outcomes; it returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	lease, batch, conc := w.limits()
	ds, err := w.Store.ClaimDeliveries(ctx, w.Owner, w.now(), lease, batch)
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for _, d := range ds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := w.deliver(ctx, d, lease); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(ds), firstErr
}

// deliver attempts d and records the outcome, even when ctx ended
// meanwhile: the subscriber may have taken it.
func (w *Worker) deliver(ctx context.Context, d *store.Delivery, lease time.Duration) error {
	res := w.attempt(ctx, d, lease)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return w.Store.FinishDelivery(fctx, res)
}

// attempt sends one delivery and decides its next state.
func (w *Worker) attempt(ctx context.Context, d *store.Delivery, lease time.Duration) store.DeliveryResult {
	res := store.DeliveryResult{ID: d.ID, Owner: w.Owner}
	secret, err := w.Keyring.Open(d.SealedSecret, secretAAD(d.SubscriptionID))
	if err != nil {
		// Not the subscriber's fault and not going to heal by retrying.
		res.State, res.LastError = store.DeliveryFailed, "the subscription's secret cannot be opened with the current keys"
		return res
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Deskconn-Event-Id", d.EventID)
	h.Set(SignatureHeader, Sign(secret, w.now(), d.EventBody))
	// Keep the attempt well inside the lease, so no other worker can take
	// the delivery while this one may still succeed.
	actx, cancel := context.WithTimeout(ctx, lease/2)
	defer cancel()
	status, err := w.Poster.Post(actx, d.URL, h, d.EventBody)
	if err == nil && status >= 200 && status < 300 {
		res.State = store.DeliveryDelivered
		return res
	}
	if err != nil {
		res.LastError = err.Error()
	} else {
		res.LastError = "HTTP " + strconv.Itoa(status)
	}
	retryFor := w.RetryFor
	if retryFor <= 0 {
		retryFor = DefaultRetryFor
	}
	next := w.now().Add(w.backoff(d.Attempts))
	if next.Sub(d.CreatedAt) > retryFor {
		res.State = store.DeliveryFailed
		return res
	}
	res.State, res.NextAttemptAt = store.DeliveryPending, next
	return res
}

// backoff returns the wait before the attempt after `attempts` failures:
// exponential from BackoffMin, capped at BackoffMax, with full jitter over
// its upper half so retries of many deliveries spread out.
func (w *Worker) backoff(attempts int) time.Duration {
	lo, hi := w.BackoffMin, w.BackoffMax
	if lo <= 0 {
		lo = DefaultBackoffMin
	}
	if hi <= 0 {
		hi = DefaultBackoffMax
	}
	d := lo
	for i := 0; i < attempts && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}
