package metrics_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/bench"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/internal/metrics"
	"github.com/deskconn/deskconn/internal/syncbuf"
	"github.com/deskconn/deskconn/zohodesk"
)

// scrape GETs /metrics and returns the body.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// value returns the sample of series (name{labels} exactly as exposed, labels
// sorted by name), failing the test if it is absent.
func value(t *testing.T, body, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		name, v, ok := strings.Cut(line, " ")
		if ok && name == series {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no series %s in:\n%s", series, body)
	return 0
}

func actionNames() []string {
	var names []string
	for _, a := range deskactions.All(deskactions.Deps{}) {
		names = append(names, a.Name())
	}
	return names
}

// TestScrapeAfterActions runs actions against the emulator through the REST
// server and checks every family's series and values.
func TestScrapeAfterActions(t *testing.T) {
	var logs syncbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.New(metrics.Options{Actions: actionNames(), Logger: log})
	stack, err := bench.NewStack(t.Context(), bench.StackOptions{Logger: log, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()

	call := func(name, input string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, stack.ServerURL+"/v1/connections/bench/actions/"+name, strings.NewReader(input))
		req.Header.Set("Authorization", "Bearer "+stack.APIKey.Reveal())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := call("get_ticket", `{"ticketId":"1892000000042032"}`); resp.StatusCode != 200 {
		t.Fatalf("get_ticket: %d", resp.StatusCode)
	}
	if resp := call("get_ticket", `{"ticketId":"1"}`); resp.StatusCode != 404 {
		t.Fatalf("get_ticket of a missing ticket: %d, want 404", resp.StatusCode)
	}
	// An expired token: the next call refreshes it once.
	if err := stack.ExpireAccessTokens(t.Context()); err != nil {
		t.Fatal(err)
	}
	if resp := call("list_tickets", `{"params":{"limit":5}}`); resp.StatusCode != 200 {
		t.Fatalf("list_tickets after expiry: %d", resp.StatusCode)
	}

	body := scrape(t, stack.ServerURL)
	checks := []struct {
		series string
		want   float64
	}{
		{`deskconn_actions_total{action="get_ticket",outcome="ok"}`, 1},
		{`deskconn_actions_total{action="get_ticket",outcome="not_found"}`, 1},
		{`deskconn_actions_total{action="list_tickets",outcome="ok"}`, 1},
		{`deskconn_action_duration_seconds_count{action="get_ticket"}`, 2},
		{`deskconn_zoho_requests_total{error_code="",method="GET",path="/tickets/{ticketId}",status="200"}`, 1},
		{`deskconn_zoho_requests_total{error_code="INVALID_OAUTH",method="GET",path="/tickets",status="401"}`, 1},
		{`deskconn_zoho_requests_total{error_code="",method="GET",path="/tickets",status="200"}`, 1},
		{`deskconn_token_refreshes_total{result="ok"}`, 1},
		{`deskconn_connections{status="active"}`, 1},
		{`deskconn_connections_needs_reauth`, 0},
		{`deskconn_connections_scrape_ok`, 1},
	}
	for _, c := range checks {
		if got := value(t, body, c.series); got != c.want {
			t.Errorf("%s = %v, want %v", c.series, got, c.want)
		}
	}
	// The missing ticket: Zoho's 404 with its errorCode.
	if got := value(t, body, `deskconn_zoho_requests_total{error_code="URL_NOT_FOUND",method="GET",path="/tickets/{ticketId}",status="404"}`); got != 1 {
		t.Errorf("404 attempts = %v, want 1", got)
	}
	if got := value(t, body, `deskconn_zoho_credits_remaining{org="`+emulator.DemoOrgID+`"}`); got <= 0 || got >= 1_000_000 {
		t.Errorf("credits remaining = %v, want a positive daily budget", got)
	}
	// Every Desk attempt waited for the limiter once (≥ 5 attempts above,
	// the connect flow's self-test included).
	if got := value(t, body, `deskconn_ratelimit_wait_seconds_count`); got < 5 {
		t.Errorf("limiter waits observed = %v, want ≥ 5", got)
	}

	// No secret in the metrics or the logs; every request logged with an id.
	tok, err := stack.AccessToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"metrics": body, "logs": logs.String()} {
		for _, secret := range []string{tok, stack.APIKey.Reveal(), emulator.DemoClientSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contain a secret", what)
			}
		}
	}
	requests := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "request" {
			continue
		}
		requests++
		if id, _ := rec["request_id"].(string); id == "" {
			t.Errorf("request log without request_id: %s", line)
		}
	}
	if requests < 4 {
		t.Errorf("%d request log records, want ≥ 4", requests)
	}
}

func TestNeedsReauthGauge(t *testing.T) {
	stack, err := bench.NewStack(t.Context(), bench.StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	c := *stack.Connection
	c.Status = "needs_reauth"
	if err := stack.Store.UpdateConnection(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	m := metrics.New(metrics.Options{Connections: stack.Store})
	srv := httpServer(t, m.Handler())
	body := scrape(t, srv)
	if got := value(t, body, `deskconn_connections_needs_reauth`); got != 1 {
		t.Errorf("needs_reauth = %v, want 1", got)
	}
	if got := value(t, body, `deskconn_connections{status="active"}`); got != 0 {
		t.Errorf("active = %v, want 0", got)
	}
}

func TestObserveBoundsLabels(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{Actions: []string{"get_ticket"}})
	m.ObserveAction(action.Observation{Action: "get_ticket", Outcome: "ok", Duration: time.Millisecond})
	m.ObserveAction(action.Observation{Action: "made-up name {with} \"quotes\"", Outcome: "not_found"})
	m.ObserveZoho(zohodesk.ResponseInfo{Method: "GET", PathTemplate: "/tickets", StatusCode: 500, ErrorCode: "<html>boom</html>", OrgID: "not an org",
		RateLimit: zohodesk.RateLimit{Remaining: 7, HasRemaining: true}})
	m.ObserveZoho(zohodesk.ResponseInfo{Method: "GET", PathTemplate: "/tickets", StatusCode: 200, OrgID: "42",
		RateLimit: zohodesk.RateLimit{Remaining: 99, HasRemaining: true}})
	m.ObserveRefresh("something odd")
	m.ObserveRefresh(metrics.RefreshThrottled)
	body := scrape(t, httpServer(t, m.Handler()))
	for _, c := range []struct {
		series string
		want   float64
	}{
		{`deskconn_actions_total{action="get_ticket",outcome="ok"}`, 1},
		{`deskconn_actions_total{action="other",outcome="not_found"}`, 1},
		{`deskconn_zoho_requests_total{error_code="other",method="GET",path="/tickets",status="500"}`, 1},
		{`deskconn_zoho_credits_remaining{org="other"}`, 7},
		{`deskconn_zoho_credits_remaining{org="42"}`, 99},
		{`deskconn_token_refreshes_total{result="error"}`, 1},
		{`deskconn_token_refreshes_total{result="throttled"}`, 1},
	} {
		if got := value(t, body, c.series); got != c.want {
			t.Errorf("%s = %v, want %v", c.series, got, c.want)
		}
	}
	if strings.Contains(body, "made-up") || strings.Contains(body, "boom") {
		t.Errorf("an unbounded label value leaked into the metrics:\n%s", body)
	}
}

// blockingLimiter holds every call for d.
type blockingLimiter struct{ d time.Duration }

func (l blockingLimiter) Acquire(ctx context.Context, _ string) (func(), error) {
	select {
	case <-time.After(l.d):
		return func() {}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestLimiterRecordsWaits(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{})
	l := m.Limiter(blockingLimiter{d: 5 * time.Millisecond})
	release, err := l.Acquire(t.Context(), "1")
	if err != nil {
		t.Fatal(err)
	}
	release()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Acquire(ctx, "1"); err == nil {
		t.Error("Acquire with a cancelled context succeeded")
	}
	body := scrape(t, httpServer(t, m.Handler()))
	if got := value(t, body, `deskconn_ratelimit_wait_seconds_count`); got != 2 {
		t.Errorf("waits = %v, want 2", got)
	}
	if got := value(t, body, `deskconn_ratelimit_waited_total`); got != 1 {
		t.Errorf("calls that waited = %v, want 1", got)
	}
}

func TestNilMetricsIsNoOp(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.ObserveAction(action.Observation{Action: "x"})
	m.ObserveZoho(zohodesk.ResponseInfo{})
	m.ObserveRefresh(metrics.RefreshOK)
	inner := blockingLimiter{}
	if got := m.Limiter(inner); got != zohodesk.Limiter(inner) {
		t.Error("nil Metrics wrapped the limiter")
	}
	if m.Registry() != nil {
		t.Error("nil Metrics has a registry")
	}
}

func httpServer(t *testing.T, h http.Handler) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestCreditsRemaining: the last X-Rate-Limit-Remaining-v3 reading of an
// organisation is kept for the console's health; other orgs have none.
func TestCreditsRemaining(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{})
	if _, _, ok := m.CreditsRemaining("42"); ok {
		t.Fatal("a reading before any call")
	}
	for _, left := range []int{4990, 4987} {
		m.ObserveZoho(zohodesk.ResponseInfo{Method: "GET", PathTemplate: "/tickets", StatusCode: 200, OrgID: "42",
			RateLimit: zohodesk.RateLimit{Remaining: left, HasRemaining: true}})
	}
	m.ObserveZoho(zohodesk.ResponseInfo{Method: "GET", PathTemplate: "/tickets", StatusCode: 200, OrgID: "42"}) // no header: keeps the last
	if left, at, ok := m.CreditsRemaining("42"); !ok || left != 4987 || at.IsZero() {
		t.Errorf("CreditsRemaining(42) = %d %v %v, want 4987", left, at, ok)
	}
	if _, _, ok := m.CreditsRemaining("43"); ok {
		t.Error("a reading for an org never called")
	}
	var nilM *metrics.Metrics
	if _, _, ok := nilM.CreditsRemaining("42"); ok {
		t.Error("nil Metrics has a reading")
	}
}
