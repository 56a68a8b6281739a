package restapi_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/demo/demotest"
	"github.com/deskconn/deskconn/internal/restapi"
)

// TestConnectRateLimit checks the limit docs/openapi.yaml promises for
// POST /v1/connections/{connection}/connect: a tenant starts at most
// DefaultConnectPerMinute OAuth flows at once, then gets 429 rate_limited
// with Retry-After, and gets one more flow per 60/DefaultConnectPerMinute
// seconds of its clock.
func TestConnectRateLimit(t *testing.T) {
	t.Parallel()
	d, _ := demotest.Start(t)
	var clock atomic.Pointer[time.Time]
	start := time.Now()
	clock.Store(&start)
	_, base := startReplica(t, d, &clock)
	key := d.APIKey.Reveal()
	connect := base + "/v1/connections/demo/connect"

	for i := range restapi.DefaultConnectPerMinute {
		if resp, p := demotest.Do(t, "POST", connect, key, ""); resp.StatusCode != 200 {
			t.Fatalf("flow %d: %d %v", i+1, resp.StatusCode, p)
		}
	}
	resp, p := demotest.Do(t, "POST", connect, key, "")
	if resp.StatusCode != 429 || p["code"] != "rate_limited" {
		t.Fatalf("flow %d: %d %v, want 429 rate_limited", restapi.DefaultConnectPerMinute+1, resp.StatusCode, p)
	}
	every := time.Minute / restapi.DefaultConnectPerMinute
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra != int(every/time.Second) || p["retryAfter"] != float64(ra) {
		t.Errorf("Retry-After %q, retryAfter %v; want %d", resp.Header.Get("Retry-After"), p["retryAfter"], int(every/time.Second))
	}
	later := start.Add(every)
	clock.Store(&later)
	if resp, p := demotest.Do(t, "POST", connect, key, ""); resp.StatusCode != 200 {
		t.Fatalf("after %s: %d %v", every, resp.StatusCode, p)
	}
	if resp, _ := demotest.Do(t, "POST", connect, key, ""); resp.StatusCode != 429 {
		t.Fatalf("second flow after %s: %d, want 429", every, resp.StatusCode)
	}
}
