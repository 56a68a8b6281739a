package zohodesk

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate-limit response headers of Desk (API credits).
const (
	HeaderRequestWeight = "X-Rate-Limit-Request-Weight-v3" // credits this call cost
	HeaderRemaining     = "X-Rate-Limit-Remaining-v3"      // credits left today
)

// RateLimit holds Desk's API-credit headers of one response.
type RateLimit struct {
	// Weight is the credits the call cost; valid when HasWeight.
	Weight    int
	HasWeight bool
	// Remaining is the credits left in the daily window; valid when HasRemaining.
	Remaining    int
	HasRemaining bool
}

// ParseRateLimit reads the X-Rate-Limit-*-v3 headers from h. A missing,
// repeated-but-empty or malformed (non-decimal, negative, overflowing)
// header leaves the matching Has field false.
func ParseRateLimit(h http.Header) RateLimit {
	var rl RateLimit
	rl.Weight, rl.HasWeight = parseCount(h.Get(HeaderRequestWeight))
	rl.Remaining, rl.HasRemaining = parseCount(h.Get(HeaderRemaining))
	return rl
}

func parseCount(v string) (int, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 18 {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false
	}
	return n, true
}

// ParseRetryAfter parses a Retry-After value: delay-seconds or an HTTP date
// (relative to now). It returns false for an empty, negative or malformed
// value. A date in the past gives 0, true. Seconds are capped at one year so
// that the result never overflows.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, ok := parseCount(v); ok {
		const maxSeconds = 365 * 24 * 3600
		return time.Duration(min(n, maxSeconds)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}

// Limiter bounds the calls made to one Desk organization. Acquire blocks
// until a call for orgID may start (or ctx ends) and returns a release
// function that must be called exactly once when the call is over. An
// implementation must be safe for concurrent use. orgID is "" for calls
// that are not tied to an organization (Organizations).
type Limiter interface {
	Acquire(ctx context.Context, orgID string) (release func(), err error)
}

// NewOrgLimiter returns a Limiter that allows at most concurrency calls in
// flight and perSecond call starts (with burst) per organization, each
// organization having its own budget. Zoho enforces 5 to 25 concurrent
// calls per organization depending on the edition.
func NewOrgLimiter(concurrency int, perSecond rate.Limit, burst int) Limiter {
	return &orgLimiter{
		concurrency: max(concurrency, 1),
		perSecond:   perSecond,
		burst:       max(burst, 1),
		orgs:        map[string]*orgBudget{},
	}
}

type orgLimiter struct {
	concurrency int
	perSecond   rate.Limit
	burst       int

	mu   sync.Mutex
	orgs map[string]*orgBudget
}

type orgBudget struct {
	sem  chan struct{}
	rate *rate.Limiter
}

func (l *orgLimiter) budget(orgID string) *orgBudget {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.orgs[orgID]
	if !ok {
		b = &orgBudget{sem: make(chan struct{}, l.concurrency), rate: rate.NewLimiter(l.perSecond, l.burst)}
		l.orgs[orgID] = b
	}
	return b
}

// Acquire implements Limiter. It first takes a concurrency slot, then waits
// for the rate limiter; on error nothing is held.
func (l *orgLimiter) Acquire(ctx context.Context, orgID string) (func(), error) {
	b := l.budget(orgID)
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := b.rate.Wait(ctx); err != nil {
		<-b.sem
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("wait for rate limiter: %w", err)
	}
	var once sync.Once
	return func() { once.Do(func() { <-b.sem }) }, nil
}
