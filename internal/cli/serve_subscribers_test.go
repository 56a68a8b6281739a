package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/demo/demotest"
)

// Outside --demo, a subscriber on this machine is refused unless serve has
// --allow-private-subscribers, which prints a warning when serve starts.
func TestServeAllowPrivateSubscribers(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		h := newHarness(t, harnessOptions{})
		h.setenv("DESKCONN_BASE_URL", "")
		key, _ := h.createKey("robot")
		if res := h.run("connections", "add", "support", "--client-id", hClientID); res.code != 0 {
			t.Fatalf("add: %s", res.stderr)
		}
		ctx, stop := context.WithCancel(t.Context())
		args := []string{"serve", "--addr", "127.0.0.1:0"}
		if allow {
			args = append(args, "--allow-private-subscribers")
		}
		srv := h.start(ctx, "", args...)
		base := srv.waitFor(t, serveURLRE)[1]
		warned := strings.Contains(srv.stderr.String(), "WARNING: --allow-private-subscribers")
		if warned != allow {
			t.Errorf("allow %v: warning printed %v; stderr %q", allow, warned, srv.stderr.String())
		}
		status, body := demotest.Raw(t, "POST", base+"/v1/connections/support/subscriptions", key, `{"url":"http://127.0.0.1:9/hook"}`)
		want := http.StatusBadRequest
		if allow {
			want = http.StatusCreated
		}
		if status != want {
			t.Errorf("allow %v: subscribe a loopback URL = %d %s, want %d", allow, status, body, want)
		}
		// A private (non-loopback) address stays refused either way.
		if status, body := demotest.Raw(t, "POST", base+"/v1/connections/support/subscriptions", key, `{"url":"http://10.1.2.3/hook"}`); status != http.StatusBadRequest {
			t.Errorf("allow %v: subscribe a private URL = %d %s, want 400", allow, status, body)
		}
		stop()
		if res := srv.wait(t, 15*time.Second); res.code != 0 {
			t.Fatalf("serve exited %d: %s", res.code, res.stderr)
		}
	}
}
