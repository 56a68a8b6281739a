package restapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/deskconn/deskconn"
)

// Limits bound what clients can make the server hold. Zero fields take the
// defaults below; a negative field turns its limit off.
type Limits struct {
	// BodyReadTimeout is the longest a request body may go without a byte
	// arriving (default DefaultBodyReadTimeout). A client that goes silent
	// mid-body is cut off: its request fails (408 for an action call) and
	// its connection is closed. It applies between reads, so a large body
	// on a slow but steady link is fine, and it ends with the body, so
	// long responses and streams (MCP) are not affected.
	BodyReadTimeout time.Duration
	// BodyBytesInFlight is the budget of request body bytes that the
	// authenticated routes (actions, MCP, connections) serve at once
	// (default DefaultBodyBytesInFlight). A request reserves its
	// Content-Length, or DefaultMaxActionBodyBytes when it does not
	// declare one (at most the whole budget), until it is answered; one
	// that does not fit is answered 503 unavailable with Retry-After.
	BodyBytesInFlight int64
	// KeyConcurrency is how many requests one API key may have in flight
	// (default DefaultKeyConcurrency); more are answered 429 rate_limited
	// with Retry-After. An open MCP stream counts while it is open.
	KeyConcurrency int
	// KeyRate is how many requests per second one API key may send on
	// average, with bursts of KeyBurst (defaults DefaultKeyRate and
	// DefaultKeyBurst); more are answered 429 rate_limited with
	// Retry-After saying when the next one is allowed.
	KeyRate  float64
	KeyBurst int
}

// Defaults of Limits.
const (
	DefaultBodyReadTimeout         = 30 * time.Second
	DefaultBodyBytesInFlight int64 = 256 << 20
	DefaultKeyConcurrency          = 64
	DefaultKeyRate                 = 200.0
	DefaultKeyBurst                = 400
)

func (l Limits) withDefaults() Limits {
	if l.BodyReadTimeout == 0 {
		l.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if l.BodyBytesInFlight == 0 {
		l.BodyBytesInFlight = DefaultBodyBytesInFlight
	}
	if l.KeyConcurrency == 0 {
		l.KeyConcurrency = DefaultKeyConcurrency
	}
	if l.KeyRate == 0 {
		l.KeyRate = DefaultKeyRate
	}
	if l.KeyBurst <= 0 {
		l.KeyBurst = DefaultKeyBurst
	}
	return l
}

// admission applies Limits' budget and per-key limits.
type admission struct {
	limits Limits
	now    func() time.Time

	mu       sync.Mutex
	bodyUsed int64
	keys     map[string]*keyState
}

type keyState struct {
	lim      *rate.Limiter // nil: no rate limit
	inFlight int
}

func newAdmission(l Limits, now func() time.Time) *admission {
	return &admission{limits: l, now: now, keys: map[string]*keyState{}}
}

// admit reserves what request r by API key keyID may hold, or returns the
// rate_limited or unavailable error to answer instead. The caller runs
// release once the request is answered.
func (a *admission) admit(r *http.Request, keyID string) (release func(), err error) {
	l := a.limits
	body := int64(0)
	if l.BodyBytesInFlight > 0 && r.Body != nil && r.Body != http.NoBody {
		body = r.ContentLength
		if body < 0 {
			body = DefaultMaxActionBodyBytes
		}
		body = min(body, l.BodyBytesInFlight)
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	k := a.keys[keyID]
	if k == nil {
		k = &keyState{}
		if l.KeyRate > 0 {
			k.lim = rate.NewLimiter(rate.Limit(l.KeyRate), l.KeyBurst)
		}
		a.keys[keyID] = k
	}
	if l.KeyConcurrency > 0 && k.inFlight >= l.KeyConcurrency {
		return nil, &deskconn.Error{Code: deskconn.CodeRateLimited, RetryAfter: time.Second,
			Message: fmt.Sprintf("this API key already has %d requests in flight, its limit; wait for one to finish, then retry", l.KeyConcurrency)}
	}
	if body > 0 && a.bodyUsed+body > l.BodyBytesInFlight {
		return nil, &deskconn.Error{Code: deskconn.CodeUnavailable, RetryAfter: time.Second,
			Message: "the server is busy receiving other requests' bodies; retry shortly"}
	}
	if k.lim != nil {
		res := k.lim.ReserveN(now, 1)
		if d := res.DelayFrom(now); !res.OK() || d > 0 {
			res.CancelAt(now)
			return nil, &deskconn.Error{Code: deskconn.CodeRateLimited, RetryAfter: max(d, time.Second),
				Message: fmt.Sprintf("this API key sent more than %g requests per second (bursts of %d); slow down and retry after the Retry-After delay", l.KeyRate, l.KeyBurst)}
		}
	}
	k.inFlight++
	a.bodyUsed += body
	return func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		k.inFlight--
		a.bodyUsed -= body
	}, nil
}

// deadlineBody sets a read deadline of idle before every read of a request
// body, and clears it when the body ends, so a client that stops sending
// mid-body is cut off after idle while long handlers and responses are not.
// A handler that stops reading early leaves the deadline set: net/http's
// discarding of the unread rest is bounded by it too.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	off  bool // the connection does not support deadlines
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if !b.off {
		if err := b.rc.SetReadDeadline(time.Now().Add(b.idle)); err != nil {
			b.off = true
		}
	}
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.off {
		// The body is over: the connection's own reads, such as net/http's
		// check for a client gone away while a long handler runs, must not
		// time out. After any other error the deadline stays, so that
		// net/http's discarding of an unread rest fails fast too.
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// isBodyTimeout reports whether err is a body read that hit its deadline.
func isBodyTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
