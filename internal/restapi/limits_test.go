package restapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/restapi"
)

// holdInBackground starts the hold action with key on conn in a goroutine
// and returns once it runs; the returned channel gets its response.
func (e *actEnv) holdInBackground(t *testing.T, key deskconn.Secret, conn, body string) <-chan actResp {
	t.Helper()
	done := make(chan actResp, 1)
	go func() {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/connections/"+conn+"/actions/hold", strings.NewReader(body))
		if err != nil {
			done <- actResp{status: -1, body: []byte(err.Error())}
			return
		}
		req.Header.Set("Authorization", "Bearer "+key.Reveal())
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			done <- actResp{status: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- actResp{status: resp.StatusCode, header: resp.Header, body: b}
	}()
	select {
	case <-e.held:
	case r := <-done:
		t.Fatalf("hold ended before it started: %d %s", r.status, r.body)
	}
	return done
}

func wantRefused(t *testing.T, what string, r actResp, status int, code deskconn.Code) {
	t.Helper()
	p := r.problem(t)
	if r.status != status || p.Code != code || r.header.Get("Retry-After") == "" || p.RetryAfter < 1 {
		t.Errorf("%s: %d %s (Retry-After %q), want %d %s with Retry-After", what, r.status, r.body, r.header.Get("Retry-After"), status, code)
	}
}

// TestBodyBudgetInFlight: a request whose body does not fit the budget
// of bodies in flight is answered 503 with Retry-After, and fits again
// once the others are answered. Requests without a body are not counted.
func TestBodyBudgetInFlight(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{limits: restapi.Limits{BodyBytesInFlight: 1000}})
	body := `{"data":"` + strings.Repeat("x", 580) + `"}` // 600 bytes
	held := e.holdInBackground(t, e.keyA, "main", body)

	wantRefused(t, "second 600-byte body", e.run(t, "main", "blob", body, nil), http.StatusServiceUnavailable, deskconn.CodeUnavailable)
	// Another tenant's key shares the budget: it protects the process.
	r := e.do(t, http.MethodPost, "/v1/connections/other/actions/blob", e.keyB, strings.NewReader(body), nil)
	wantRefused(t, "other key's 600-byte body", r, http.StatusServiceUnavailable, deskconn.CodeUnavailable)
	if r := e.run(t, "main", "blob", `{"data":"small"}`, nil); r.status != http.StatusOK {
		t.Errorf("a body that fits: %d %s", r.status, r.body)
	}
	if r := e.do(t, http.MethodGet, "/v1/actions", e.keyA, nil, nil); r.status != http.StatusOK {
		t.Errorf("a request without a body: %d %s", r.status, r.body)
	}

	close(e.release)
	if r := <-held; r.status != http.StatusOK {
		t.Fatalf("held request: %d %s", r.status, r.body)
	}
	if r := e.run(t, "main", "blob", body, nil); r.status != http.StatusOK {
		t.Errorf("after the budget was freed: %d %s", r.status, r.body)
	}
}

// TestKeyConcurrencyLimit: an API key over its requests in flight gets 429
// with Retry-After; another key is not affected.
func TestKeyConcurrencyLimit(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{limits: restapi.Limits{KeyConcurrency: 1}})
	held := e.holdInBackground(t, e.keyA, "main", `{"data":"a"}`)

	wantRefused(t, "second request of the same key", e.run(t, "main", "echo", `{"text":"hi"}`, nil), http.StatusTooManyRequests, deskconn.CodeRateLimited)
	if r := e.do(t, http.MethodPost, "/v1/connections/other/actions/echo", e.keyB, strings.NewReader(`{"text":"hi"}`), nil); r.status != http.StatusOK {
		t.Errorf("another key: %d %s", r.status, r.body)
	}
	close(e.release)
	if r := <-held; r.status != http.StatusOK {
		t.Fatalf("held request: %d %s", r.status, r.body)
	}
	if r := e.run(t, "main", "echo", `{"text":"hi"}`, nil); r.status != http.StatusOK {
		t.Errorf("after the first request ended: %d %s", r.status, r.body)
	}
}

// TestKeyRateLimit: on a frozen clock, a key gets its burst, then 429 with
// a Retry-After that says when the next request is allowed; another key
// has its own allowance.
func TestKeyRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := newActEnv(t, actOpts{limits: restapi.Limits{KeyRate: 0.01, KeyBurst: 2}, now: func() time.Time { return now }})
	for i := range 2 {
		if r := e.run(t, "main", "echo", `{"text":"hi"}`, nil); r.status != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i, r.status, r.body)
		}
	}
	r := e.run(t, "main", "echo", `{"text":"hi"}`, nil)
	wantRefused(t, "request over the burst", r, http.StatusTooManyRequests, deskconn.CodeRateLimited)
	if got := r.header.Get("Retry-After"); got != "100" {
		t.Errorf("Retry-After = %q, want 100 (one request per 100 s)", got)
	}
	if r := e.do(t, http.MethodPost, "/v1/connections/other/actions/echo", e.keyB, strings.NewReader(`{"text":"hi"}`), nil); r.status != http.StatusOK {
		t.Errorf("another key: %d %s", r.status, r.body)
	}
}

// TestStalledBodyIsCutOff: a client that sends half a body and goes
// silent is answered 408 and its connection closed once the body read
// timeout passes; the test waits for the server to close the connection.
func TestStalledBodyIsCutOff(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{limits: restapi.Limits{BodyReadTimeout: 50 * time.Millisecond}})
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A guard against a hang, not a synchronisation: the server answers
	// long before it.
	if err := conn.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /v1/connections/main/actions/blob HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"data\":\"ab", e.keyA.Reveal())
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	got := actResp{status: resp.StatusCode, header: resp.Header, body: b}
	if p := got.problem(t); got.status != http.StatusRequestTimeout || p.Code != deskconn.CodeInvalid || !strings.Contains(p.Detail, "stalled") {
		t.Errorf("stalled body: %d %s, want 408", got.status, b)
	}
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after the answer the connection is still open (read %d, %v)", n, err)
	}
}

// TestOversizedBodyRefusedUnread: a body declared larger than the cap is
// answered 413 at once, without waiting for (or reading) any of it.
func TestOversizedBodyRefusedUnread(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A guard against a hang, not a synchronisation.
	if err := conn.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /v1/connections/main/actions/blob HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", e.keyA.Reveal(), restapi.DefaultMaxActionBodyBytes+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}
