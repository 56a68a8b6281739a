package zohodesk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestOrgIDHeaderSpelling reads the raw request bytes: Go's server would
// canonicalise the header name, hiding a wrong spelling.
func TestOrgIDHeaderSpelling(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		var head strings.Builder
		for {
			line, err := br.ReadString('\n')
			head.WriteString(line)
			if err != nil || line == "\r\n" {
				break
			}
		}
		got <- head.String()
		io.WriteString(conn, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
	}()
	c, err := New(Config{BaseURL: "http://" + ln.Addr().String() + "/api/v1", Tokens: StaticToken(testToken)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Departments.List(t.Context(), testOrg, nil); err != nil {
		t.Fatalf("Departments.List: %v", err)
	}
	head := <-got
	if !strings.Contains(head, "\r\norgId: "+testOrg+"\r\n") {
		t.Errorf("request head lacks the exact header \"orgId\":\n%s", head)
	}
	if !strings.Contains(head, "\r\nAuthorization: Zoho-oauthtoken "+testToken+"\r\n") {
		t.Errorf("request head lacks the Zoho-oauthtoken auth header:\n%s", head)
	}
}

// refreshingTokens counts refreshes and hands out "fresh" afterwards.
type refreshingTokens struct {
	mu        sync.Mutex
	current   string
	refreshes int
	stale     []string
	fail      error
}

func (s *refreshingTokens) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current, nil
}

func (s *refreshingTokens) Refresh(_ context.Context, stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshes++
	s.stale = append(s.stale, stale)
	if s.fail != nil {
		return "", s.fail
	}
	s.current = "fresh"
	return s.current, nil
}

func newTestClient(t *testing.T, srv *httptest.Server, ts TokenSource) *Client {
	t.Helper()
	c, err := New(Config{BaseURL: srv.URL + basePath, Tokens: ts, Retry: RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRefreshOnceOnInvalidOAuth(t *testing.T) {
	t.Parallel()
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
		body, _ := io.ReadAll(r.Body)
		if string(body) != `{"ticketIds":["1"]}` {
			t.Errorf("attempt %d body = %s", len(auths), body)
		}
		if r.Header.Get("Authorization") != "Zoho-oauthtoken fresh" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"errorCode":"INVALID_OAUTH","message":"The OAuth Token you provided is invalid."}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ts := &refreshingTokens{current: "old"}
	c := newTestClient(t, srv, ts)
	// A POST: the refresh retry is safe because Zoho refused the request.
	if _, err := c.Tickets.MoveToTrash(t.Context(), testOrg, []string{"1"}); err != nil {
		t.Fatalf("MoveToTrash: %v", err)
	}
	if ts.refreshes != 1 || ts.stale[0] != "old" || len(auths) != 2 || auths[1] != "Zoho-oauthtoken fresh" {
		t.Errorf("refreshes = %d (stale %v), auths = %v", ts.refreshes, ts.stale, auths)
	}
}

func TestRefreshOnlyOnce(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"errorCode":"INVALID_OAUTH","message":"invalid"}`))
	}))
	defer srv.Close()
	ts := &refreshingTokens{current: "old"}
	c := newTestClient(t, srv, ts)
	_, _, err := c.Tickets.Get(t.Context(), testOrg, "1", nil)
	if !errors.Is(err, ErrUnauthorized) || ts.refreshes != 1 || calls.Load() != 2 {
		t.Errorf("err = %v, refreshes = %d, calls = %d; want ErrUnauthorized, 1, 2", err, ts.refreshes, calls.Load())
	}
}

func TestRefreshFailureKeepsBothCauses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"errorCode":"INVALID_OAUTH"}`))
	}))
	defer srv.Close()
	dead := &OAuthError{Op: "refresh", Code: "invalid_code", StatusCode: 200}
	c := newTestClient(t, srv, &refreshingTokens{current: "old", fail: dead})
	_, _, err := c.Tickets.Get(t.Context(), testOrg, "1", nil)
	if !errors.Is(err, ErrInvalidGrant) || !errors.Is(err, ErrUnauthorized) {
		t.Errorf("err = %v; want ErrInvalidGrant and ErrUnauthorized", err)
	}
	c = newTestClient(t, srv, StaticToken("static"))
	if _, _, err := c.Tickets.Get(t.Context(), testOrg, "1", nil); !errors.Is(err, ErrCannotRefresh) {
		t.Errorf("static token: err = %v, want ErrCannotRefresh", err)
	}
}

func TestNoRefreshForOtherUnauthorizedCodes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"errorCode":"SCOPE_MISMATCH"}`))
	}))
	defer srv.Close()
	ts := &refreshingTokens{current: "old"}
	c := newTestClient(t, srv, ts)
	_, _, err := c.Tickets.Get(t.Context(), testOrg, "1", nil)
	if !errors.Is(err, ErrForbidden) || errors.Is(err, ErrUnauthorized) || ts.refreshes != 0 {
		t.Errorf("err = %v, refreshes = %d; want ErrForbidden and no refresh", err, ts.refreshes)
	}
}

func TestRetryByMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		body      string
		call      func(context.Context, *Client) error
		wantCalls int32
	}{
		{"GET 503 retried", 503, "", func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Get(ctx, testOrg, "1", nil)
			return err
		}, 3},
		{"GET 500 retried", 500, `{"errorCode":"INTERNAL_SERVER_ERROR"}`, func(ctx context.Context, c *Client) error { _, _, err := c.Agents.List(ctx, testOrg, nil); return err }, 3},
		{"GET 501 not retried", 501, "", func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Get(ctx, testOrg, "1", nil)
			return err
		}, 1},
		{"GET 429 retried", 429, `{"errorCode":"TOO_MANY_REQUESTS"}`, func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Get(ctx, testOrg, "1", nil)
			return err
		}, 3},
		{"GET 422 not retried", 422, `{"errorCode":"INVALID_DATA"}`, func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Get(ctx, testOrg, "1", nil)
			return err
		}, 1},
		{"POST 503 not retried", 503, "", func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Create(ctx, testOrg, &TicketCreateRequest{Subject: "s", DepartmentID: "1", ContactID: "2"})
			return err
		}, 1},
		{"PATCH 503 not retried", 503, "", func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Update(ctx, testOrg, "1", &TicketUpdateRequest{Status: Set("Open")}, nil)
			return err
		}, 1},
		{"POST 429 TOO_MANY_REQUESTS retried: refused before processing", 429, `{"errorCode":"TOO_MANY_REQUESTS"}`, func(ctx context.Context, c *Client) error {
			_, err := c.Agents.Deactivate(ctx, testOrg, "1")
			return err
		}, 3},
		{"POST 429 THRESHOLD_EXCEEDED not retried", 429, `{"errorCode":"THRESHOLD_EXCEEDED"}`, func(ctx context.Context, c *Client) error {
			_, err := c.Agents.Deactivate(ctx, testOrg, "1")
			return err
		}, 1},
		// Issue 10 item 6: only a code known to mean "refused before acting"
		// lets a POST or PATCH be resent. Zoho documents a concurrency 429
		// and a time-window 429 whose code names are not all known.
		{"POST create 429 TOO_MANY_REQUESTS retried", 429, `{"errorCode":"TOO_MANY_REQUESTS","message":"Too many requests in a simultaneous manner."}`, func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Create(ctx, testOrg, &TicketCreateRequest{Subject: "s", DepartmentID: "1", ContactID: "2"})
			return err
		}, 3},
		{"POST create 429 THRESHOLD_EXCEEDED not retried", 429, `{"errorCode":"THRESHOLD_EXCEEDED"}`, func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Create(ctx, testOrg, &TicketCreateRequest{Subject: "s", DepartmentID: "1", ContactID: "2"})
			return err
		}, 1},
		{"POST create 429 unknown code not retried", 429, `{"errorCode":"RATE_LIMIT_EXCEEDED","message":"Too many requests within a given amount of time."}`, func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Create(ctx, testOrg, &TicketCreateRequest{Subject: "s", DepartmentID: "1", ContactID: "2"})
			return err
		}, 1},
		{"POST create 429 without a code not retried", 429, `<html>Too Many Requests</html>`, func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Create(ctx, testOrg, &TicketCreateRequest{Subject: "s", DepartmentID: "1", ContactID: "2"})
			return err
		}, 1},
		{"PATCH 429 unknown code not retried", 429, `{"errorCode":"TOO_MANY_REQUESTS_IN_WINDOW"}`, func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Update(ctx, testOrg, "1", &TicketUpdateRequest{Status: Set("Open")}, nil)
			return err
		}, 1},
		{"GET 429 unknown code retried: GET is idempotent", 429, `{"errorCode":"RATE_LIMIT_EXCEEDED"}`, func(ctx context.Context, c *Client) error {
			_, _, err := c.Tickets.Get(ctx, testOrg, "1", nil)
			return err
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			err := tt.call(t.Context(), newTestClient(t, srv, StaticToken(testToken)))
			if err == nil || calls.Load() != tt.wantCalls {
				t.Errorf("err = %v after %d calls, want an error after %d", err, calls.Load(), tt.wantCalls)
			}
		})
	}
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var first time.Time
	var gap time.Duration
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"errorCode":"THRESHOLD_EXCEEDED"}`))
		default:
			gap = time.Since(first)
			w.Write([]byte(`{"data":[]}`))
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv, StaticToken(testToken))
	if _, _, err := c.Agents.List(t.Context(), testOrg, nil); err != nil {
		t.Fatalf("Agents.List: %v", err)
	}
	if gap < 900*time.Millisecond {
		t.Errorf("retried after %v, want about Retry-After (1s)", gap)
	}

	long := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.Header().Set(HeaderRemaining, "0")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"errorCode":"THRESHOLD_EXCEEDED","message":"credits exhausted"}`))
	}))
	defer long.Close()
	start := time.Now()
	_, _, err := newTestClient(t, long, StaticToken(testToken)).Agents.List(t.Context(), testOrg, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Hour || !apiErr.RateLimit.HasRemaining || apiErr.RateLimit.Remaining != 0 || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %#v, want THRESHOLD_EXCEEDED with RetryAfter 1h", err)
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Errorf("waited %v for a Retry-After above the cap", time.Since(start))
	}
}

// failingTransport fails the first n round trips without sending anything.
type failingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (f *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.n.Add(-1) >= 0 {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errors.New("dial tcp: connection refused")
	}
	return f.next.RoundTrip(r)
}

func TestPOSTRetriedWhenNeverSent(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Write([]byte(fixture(t, "ticket.json")))
	}))
	defer srv.Close()
	ft := &failingTransport{next: http.DefaultTransport}
	ft.n.Store(2)
	c, err := New(Config{BaseURL: srv.URL + basePath, Tokens: StaticToken(testToken), HTTPClient: &http.Client{Transport: ft}, Retry: RetryPolicy{MinBackoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	tk, _, err := c.Tickets.Create(t.Context(), testOrg, &TicketCreateRequest{Subject: "s", DepartmentID: "1", ContactID: "2"})
	if err != nil || tk.ID == "" || calls.Load() != 1 {
		t.Fatalf("Create = %v, %v after %d server calls; want success after 1", tk, err, calls.Load())
	}

	ft.n.Store(5)
	_, _, err = c.Tickets.Create(t.Context(), testOrg, &TicketCreateRequest{Subject: "s", DepartmentID: "1", ContactID: "2"})
	var te *TransportError
	if !errors.As(err, &te) || te.MaybeSent || te.Attempts != 3 || !errors.Is(err, ErrRequestNotSent) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %#v, want a not-sent TransportError after 3 attempts", err)
	}
}

// hangUpAfterRequest reads the request, then closes the connection
// without answering.
func hangUpAfterRequest(t *testing.T, calls *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}))
}

func TestTransportFailureAfterSend(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := hangUpAfterRequest(t, &calls)
	defer srv.Close()
	c := newTestClient(t, srv, StaticToken(testToken))
	_, _, err := c.Tickets.Create(t.Context(), testOrg, &TicketCreateRequest{Subject: "s", DepartmentID: "1", ContactID: "2"})
	var te *TransportError
	if !errors.As(err, &te) || !te.MaybeSent || calls.Load() != 1 || errors.Is(err, ErrRequestNotSent) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("POST: err = %#v after %d calls; want MaybeSent after 1 call", err, calls.Load())
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error text holds the token: %v", err)
	}

	calls.Store(0)
	_, _, err = c.Tickets.Get(t.Context(), testOrg, "1", nil)
	if !errors.As(err, &te) || calls.Load() != 3 || te.Attempts != 3 {
		t.Errorf("GET: err = %v after %d calls; want 3 attempts", err, calls.Load())
	}
}

func TestContextCancelIsNotUnavailable(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c := newTestClient(t, srv, StaticToken(testToken))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, _, err := c.Tickets.Get(ctx, testOrg, "1", nil)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v, want DeadlineExceeded and not ErrUnavailable", err)
	}
}

func TestRedirectToAnotherHostRefused(t *testing.T) {
	t.Parallel()
	var otherHit atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherHit.Store(true) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/tickets/same" {
			http.Redirect(w, r, "/api/v1/tickets/moved", http.StatusFound)
			return
		}
		if r.URL.Path == "/api/v1/tickets/moved" {
			if r.Header.Get("orgId") != testOrg {
				t.Errorf("same-host redirect lost orgId")
			}
			w.Write([]byte(`{"id":"moved"}`))
			return
		}
		http.Redirect(w, r, other.URL+"/signin", http.StatusFound)
	}))
	defer srv.Close()
	c := newTestClient(t, srv, StaticToken(testToken))
	_, _, err := c.Tickets.Get(t.Context(), testOrg, "1", nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusFound || !strings.Contains(apiErr.Message, "redirect") || otherHit.Load() {
		t.Errorf("err = %v, other host hit = %v; want a refused redirect", err, otherHit.Load())
	}
	tk, _, err := c.Tickets.Get(t.Context(), testOrg, "same", nil)
	if err != nil || tk.ID != "moved" {
		t.Errorf("same-host redirect: %v, %v", tk, err)
	}
}

func TestOnResponseHook(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(HeaderRequestID, fmt.Sprintf("req-%d", calls.Add(1)))
		w.Header().Set(HeaderRequestWeight, "3")
		if calls.Load() == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(fixture(t, "ticket.json")))
	}))
	defer srv.Close()
	var mu sync.Mutex
	var infos []ResponseInfo
	c, err := New(Config{BaseURL: srv.URL + basePath, Tokens: StaticToken(testToken), Retry: RetryPolicy{MinBackoff: time.Millisecond},
		OnResponse: func(i ResponseInfo) { mu.Lock(); infos = append(infos, i); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Tickets.Get(t.Context(), testOrg, "1", nil); err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 {
		t.Fatalf("OnResponse called %d times, want 2", len(infos))
	}
	want := ResponseInfo{Method: "GET", OrgID: testOrg, PathTemplate: "/tickets/{ticketId}", StatusCode: 200, RequestID: "req-2", RateLimit: RateLimit{Weight: 3, HasWeight: true}, Attempt: 2}
	got := infos[1]
	got.Duration = 0
	if got != want {
		t.Errorf("OnResponse = %+v, want %+v", got, want)
	}
	if infos[0].StatusCode != 503 || infos[0].Attempt != 1 {
		t.Errorf("first attempt info = %+v", infos[0])
	}
}

func TestLimiterBoundsConcurrencyPerOrg(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + basePath, Tokens: StaticToken(testToken), Limiter: NewOrgLimiter(2, 1000, 100)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, _, err := c.Agents.List(t.Context(), testOrg, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if peak.Load() != 2 {
		t.Errorf("peak concurrency = %d, want 2", peak.Load())
	}
}

func TestLimiterAcquireHonoursContext(t *testing.T) {
	t.Parallel()
	l := NewOrgLimiter(1, 1000, 10)
	release, err := l.Acquire(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(ctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire on a full org = %v, want DeadlineExceeded", err)
	}
	other, err := l.Acquire(t.Context(), "b")
	if err != nil {
		t.Fatalf("another org must have its own budget: %v", err)
	}
	other()
	release()
	release() // a second call is harmless
	again, err := l.Acquire(t.Context(), "a")
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	again()
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{BaseURL: "https://desk.zoho.com/api/v1"},
		{BaseURL: "desk.zoho.com/api/v1", Tokens: StaticToken("x")},
		{BaseURL: "ftp://desk.zoho.com", Tokens: StaticToken("x")},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	c, err := New(Config{BaseURL: "https://desk.zoho.com/api/v1", Tokens: StaticToken("x")})
	if err != nil || c.BaseURL() != "https://desk.zoho.com/api/v1/" {
		t.Errorf("New = %v, %v", c, err)
	}
}

func TestRetryPolicyBackoff(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MinBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 300 * time.Millisecond, 9: 300 * time.Millisecond} {
		for range 20 {
			if d := p.Backoff(n); d > want || d < want*3/4 {
				t.Errorf("Backoff(%d) = %v, want within [%v, %v]", n, d, want*3/4, want)
			}
		}
	}
}

// TestBodyWithContentLength: a body read into a buffer sized from its
// Content-Length decodes as before, and one cut short of it is an error,
// never a truncated object.
func TestBodyWithContentLength(t *testing.T) {
	t.Parallel()
	const body = `{"id":"7","ticketNumber":"101","subject":"sized"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == basePath+"/tickets/7" {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write([]byte(body))
			return
		}
		// Promise more than is sent, then drop the connection.
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n" + body)
		buf.Flush()
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv, StaticToken("tok"))
	c.retry.MaxAttempts = 1
	tk, _, err := c.Tickets.Get(t.Context(), "1", "7", nil)
	if err != nil || tk.Subject != "sized" || string(tk.Raw) != body {
		t.Fatalf("Get with Content-Length = %+v, %v", tk, err)
	}
	if _, _, err := c.Tickets.Get(t.Context(), "1", "8", nil); err == nil {
		t.Fatal("a body cut short of its Content-Length decoded without an error")
	}
}
