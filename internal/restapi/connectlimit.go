package restapi

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/deskconn/deskconn"
)

// DefaultConnectPerMinute is how many OAuth flows a tenant may start per
// minute (POST /v1/connections/{connection}/connect and the connect page's
// Connect button together): each stores an OAuth state until it expires,
// so an unlimited caller could fill the store.
const DefaultConnectPerMinute = 10

// connectLimiter is a token bucket per tenant (burst = the per-minute
// rate), on the server's clock.
type connectLimiter struct {
	mu      sync.Mutex
	perMin  int
	tenants map[string]*rate.Limiter
}

func newConnectLimiter(perMin int) *connectLimiter {
	return &connectLimiter{perMin: perMin, tenants: map[string]*rate.Limiter{}}
}

// allow takes one flow of tenantID's budget at now, or returns a
// rate_limited error saying when to try again.
func (l *connectLimiter) allow(tenantID string, now time.Time) error {
	l.mu.Lock()
	lim, ok := l.tenants[tenantID]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(float64(l.perMin)/60), l.perMin)
		l.tenants[tenantID] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &deskconn.Error{Code: deskconn.CodeRateLimited, RetryAfter: d,
			Message: "too many connection attempts: wait before starting another OAuth flow"}
	}
	return nil
}
