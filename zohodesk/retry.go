package zohodesk

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// RetryPolicy says when and how a failed attempt is retried. Its zero value
// means: at most 3 attempts, backoff from 500ms doubling up to 5s with
// 75–100% jitter, and Retry-After honoured up to 60s.
//
// Which failures are retried:
//   - a request that never left the process (a dial or TLS error before
//     the first header byte was written): every method;
//   - 429 TOO_MANY_REQUESTS (the per-org concurrency limit): every method,
//     because Desk refuses such a request before acting on it (facts doc
//     §2.5: the concurrency guard, not the operation, answers) [I];
//   - a transport failure after the request may have been sent, every other
//     429 (THRESHOLD_EXCEEDED, a code we do not know, or no code at all),
//     and 5xx other than 501: only idempotent methods (GET, HEAD, PUT,
//     DELETE, OPTIONS). POST and PATCH are never resent once they may have
//     reached Zoho, because Desk has no idempotency keys. Zoho's error
//     documentation lists three 429 causes (daily credits, concurrent
//     requests, requests within a time window) but not every code name
//     (fidelity audit row 7), so an unknown 429 code is never taken to mean
//     "refused before acting";
//   - never: a request whose body cannot be rewound (a streamed upload),
//     a 429 whose Retry-After exceeds
//     MaxRetryAfter, or when the context is done.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, including the first.
	// 0 means 3; 1 disables retries.
	MaxAttempts int
	// MinBackoff is the wait before the first retry; 0 means 500ms.
	MinBackoff time.Duration
	// MaxBackoff caps the exponential wait; 0 means 5s.
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for; a
	// longer one is returned to the caller as the error. 0 means 60s.
	MaxRetryAfter time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 3
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = 500 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 5 * time.Second
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = p.MinBackoff
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 60 * time.Second
	}
	return p
}

// Backoff returns the wait before retry number n (1 for the first retry):
// MinBackoff doubled n-1 times, capped at MaxBackoff, jittered down to
// 75–100%.
func (p RetryPolicy) Backoff(n int) time.Duration {
	p = p.withDefaults()
	d := p.MinBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// attemptOutcome is what one attempt produced, as seen by the retry logic.
type attemptOutcome struct {
	method    string
	rewinds   bool // the body can be sent again
	maybeSent bool
	transport error     // non-nil if no response was received
	apiErr    *APIError // non-nil if Zoho answered with an error
}

// retryWait decides whether to retry after attempt number attempt. It
// returns the wait and true to retry.
func (p RetryPolicy) retryWait(attempt int, o attemptOutcome) (time.Duration, bool) {
	if attempt >= p.MaxAttempts {
		return 0, false
	}
	if !o.rewinds {
		return 0, false // a streamed body may be partly consumed
	}
	switch {
	case o.transport != nil:
		if !o.maybeSent || idempotent(o.method) {
			return p.Backoff(attempt), true
		}
	case o.apiErr != nil:
		if !o.apiErr.Temporary() || !(idempotent(o.method) || refusedBeforeActing(o.apiErr)) {
			return 0, false
		}
		if o.apiErr.RetryAfter > 0 {
			if o.apiErr.RetryAfter > p.MaxRetryAfter {
				return 0, false
			}
			return o.apiErr.RetryAfter, true
		}
		return p.Backoff(attempt), true
	}
	return 0, false
}

// refusedBeforeActing reports whether e is known to mean that Zoho refused
// the request before acting on it, so that even a POST or PATCH may be
// resent: only 429 TOO_MANY_REQUESTS qualifies. Any other 429 code, and a
// 429 without a code, may come from a guard we know nothing about.
func refusedBeforeActing(e *APIError) bool {
	return e.StatusCode == http.StatusTooManyRequests && e.Code == CodeTooManyRequests
}
