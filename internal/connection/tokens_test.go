package connection_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/storetest"
	"github.com/deskconn/deskconn/zohodesk"
)

// tokenEndpointCalls counts every POST to the token endpoint (code
// exchanges, refreshes, refused ones).
func tokenEndpointCalls(e *emulator.Emulator) int {
	return e.Counters().Requests["POST /oauth/v2/token"]
}

func (e *env) secretOf(c *store.Connection, column string, sealed []byte) string {
	e.t.Helper()
	b, err := e.kr.Open(sealed, seal.AAD{Table: "connections", RowID: c.ID, Column: column})
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

func TestConcurrentExpiredTokenOneRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	c := e.connect("busy")
	first := e.secretOf(c, "access_token", c.SealedAccessToken)
	e.clock.Add(2 * time.Hour) // the access token is expired for both sides
	before := tokenEndpointCalls(e.emu)

	ts := e.m.TokenSource(e.tenant.ID, c.ID)
	const n = 1000
	var wg sync.WaitGroup
	toks := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { toks[i], errs[i] = ts.Token(t.Context()) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if toks[i] != toks[0] || toks[i] == first {
			t.Fatalf("caller %d got a different or stale token", i)
		}
	}
	if got := tokenEndpointCalls(e.emu) - before; got != 1 {
		t.Fatalf("token endpoint calls = %d, want exactly 1", got)
	}
	// And the Desk client works with it.
	client, cc, err := e.m.Client(t.Context(), e.tenant.ID, "busy")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.MyInfo(t.Context(), cc.OrgID, nil); err != nil {
		t.Fatal(err)
	}
	if got := tokenEndpointCalls(e.emu) - before; got != 1 {
		t.Fatalf("token endpoint calls after a Desk call = %d, want 1", got)
	}
}

func TestRefreshStaleAndBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	c := e.connect("b")
	ts := e.m.TokenSource(e.tenant.ID, c.ID)
	cur, err := ts.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	before := tokenEndpointCalls(e.emu)
	// A stale token that is not the stored one: no token call.
	got, err := ts.Refresh(t.Context(), "1000.old.token")
	if err != nil || got != cur {
		t.Fatalf("refresh with an old stale token = %q, %v", got, err)
	}
	if tokenEndpointCalls(e.emu) != before {
		t.Fatal("refresh with an outdated stale token called Zoho")
	}
	// Forced refreshes: the budget (5 per 10 min) allows 5.
	for i := range connection.DefaultTokenBudget {
		next, err := ts.Refresh(t.Context(), cur)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if next == cur {
			t.Fatalf("refresh %d returned the stale token", i)
		}
		cur = next
	}
	_, err = ts.Refresh(t.Context(), cur)
	de := wantCode(t, err, deskconn.CodeRateLimited)
	if de.RetryAfter <= 0 || de.RetryAfter > 10*time.Minute {
		t.Fatalf("retry after = %v", de.RetryAfter)
	}
	if got := tokenEndpointCalls(e.emu) - before; got != connection.DefaultTokenBudget {
		t.Fatalf("token calls = %d, want %d", got, connection.DefaultTokenBudget)
	}
	// The stored refresh token is never replaced by the empty one Zoho sends.
	after, _ := e.m.Get(t.Context(), e.tenant.ID, "b")
	if e.secretOf(after, "refresh_token", after.SealedRefreshToken) != e.secretOf(c, "refresh_token", c.SealedRefreshToken) {
		t.Fatal("the refresh token changed")
	}
	// After the window, refreshing works again.
	e.clock.Add(10*time.Minute + time.Second)
	if _, err := ts.Refresh(t.Context(), cur); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func revokeAtEmulator(t *testing.T, e *env, token string) {
	t.Helper()
	resp, err := http.PostForm(e.srv.URL+"/oauth/v2/token/revoke", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
}

func TestInvalidCodeNeedsReauth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	c := e.connect("dead")
	revokeAtEmulator(t, e, e.secretOf(c, "refresh_token", c.SealedRefreshToken))
	e.clock.Add(2 * time.Hour)
	before := tokenEndpointCalls(e.emu)
	ts := e.m.TokenSource(e.tenant.ID, c.ID)
	_, err := ts.Token(t.Context())
	de := wantCode(t, err, deskconn.CodeNeedsReauth)
	if !strings.Contains(de.Message, "deskconn connections connect dead") {
		t.Errorf("message does not say how to reconnect: %q", de.Message)
	}
	got, _ := e.m.Get(t.Context(), e.tenant.ID, "dead")
	if got.Status != store.StatusNeedsReauth || got.LastError == "" {
		t.Fatalf("status = %s, last error %q", got.Status, got.LastError)
	}
	// No more token calls, from the token source or from new clients.
	for range 5 {
		if _, err := ts.Token(t.Context()); deskconn.ErrorCode(err) != deskconn.CodeNeedsReauth {
			t.Fatalf("later token: %v", err)
		}
		if _, err := ts.Refresh(t.Context(), "x"); deskconn.ErrorCode(err) != deskconn.CodeNeedsReauth {
			t.Fatalf("later refresh: %v", err)
		}
	}
	start := time.Now()
	if _, _, err := e.m.Client(t.Context(), e.tenant.ID, "dead"); deskconn.ErrorCode(err) != deskconn.CodeNeedsReauth {
		t.Fatalf("client: %v", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("failing fast took %v", d)
	}
	if got := tokenEndpointCalls(e.emu) - before; got != 1 {
		t.Fatalf("token endpoint calls = %d, want 1", got)
	}
	// Reconnecting heals it.
	if c2 := e.connectAgain(t, "dead"); c2.Status != store.StatusActive {
		t.Fatalf("after reconnect: %s", c2.Status)
	}
	if _, err := ts.Token(t.Context()); err != nil {
		t.Fatalf("token after reconnect: %v", err)
	}
}

func TestThrottledAndUnavailableNeverRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	c := e.connect("thr")
	rt := e.secretOf(c, "refresh_token", c.SealedRefreshToken)
	ts := e.m.TokenSource(e.tenant.ID, c.ID)
	e.clock.Add(2 * time.Hour)

	// 5xx from the token endpoint: unavailable, status unchanged.
	e.emu.SetFaults(emulator.Fault{Kind: emulator.FaultStatus, PathPrefix: "/oauth/v2/token", Status: 503, Times: 1})
	_, err := ts.Token(t.Context())
	wantCode(t, err, deskconn.CodeUnavailable)
	if got, _ := e.m.Get(t.Context(), e.tenant.ID, "thr"); got.Status != store.StatusActive {
		t.Fatalf("a 5xx changed the status to %s", got.Status)
	}

	// Someone else exhausts Zoho's 10 per 10 minutes for this refresh token.
	for range 10 {
		resp, err := http.PostForm(e.srv.URL+"/oauth/v2/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "client_secret": {testSecret}, "refresh_token": {rt}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	before := tokenEndpointCalls(e.emu)
	_, err = ts.Token(t.Context())
	de := wantCode(t, err, deskconn.CodeRateLimited)
	if de.RetryAfter < 10*time.Minute-time.Second {
		t.Fatalf("retry after = %v, want ≥ 10m", de.RetryAfter)
	}
	if got, _ := e.m.Get(t.Context(), e.tenant.ID, "thr"); got.Status != store.StatusActive {
		t.Fatalf("throttling changed the status to %s", got.Status)
	}
	// Backing off: no token call until the window passes.
	for range 3 {
		_, err = ts.Token(t.Context())
		wantCode(t, err, deskconn.CodeRateLimited)
	}
	if got := tokenEndpointCalls(e.emu) - before; got != 1 {
		t.Fatalf("token calls while throttled = %d, want 1", got)
	}
	e.clock.Add(11 * time.Minute)
	if _, err := ts.Token(t.Context()); err != nil {
		t.Fatalf("after backing off: %v", err)
	}
}

func TestCanaryNoSecretsInDBOrLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	c := e.connect("canary")
	e.clock.Add(2 * time.Hour)
	ts := e.m.TokenSource(e.tenant.ID, c.ID)
	tok, err := ts.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := e.m.Get(t.Context(), e.tenant.ID, "canary")
	secrets := []string{
		testSecret,
		e.secretOf(c, "refresh_token", c.SealedRefreshToken),
		e.secretOf(c, "access_token", c.SealedAccessToken),
		e.secretOf(cur, "access_token", cur.SealedAccessToken),
		tok,
	}
	dump, err := e.st.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	storetest.AssertNoPlaintext(t, dump, secrets...)
	storetest.AssertNoPlaintext(t, []byte(e.logs.String()), secrets...)
	if !strings.Contains(e.logs.String(), "access token refreshed") {
		t.Fatal("the log capture is empty: the canary would prove nothing")
	}
	// Deleting erases the secrets.
	if err := e.m.Delete(t.Context(), e.tenant.ID, "canary"); err != nil {
		t.Fatal(err)
	}
}

func TestReseal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	c := e.connect("rs")
	e.create("pending")
	newKey, _ := seal.GenerateKey()
	kr2, err := seal.NewKeyring(newKey, e.key)
	if err != nil {
		t.Fatal(err)
	}
	n, err := connection.Reseal(t.Context(), e.st, kr2)
	if err != nil || n != 2 {
		t.Fatalf("reseal = %d, %v; want 2 rows", n, err)
	}
	got, _ := e.m.Get(t.Context(), e.tenant.ID, "rs")
	for _, b := range [][]byte{got.SealedClientSecret, got.SealedRefreshToken, got.SealedAccessToken} {
		if id, _ := seal.KeyID(b); id != newKey.ID() {
			t.Fatalf("key id = %q, want %q", id, newKey.ID())
		}
	}
	if b, err := kr2.Open(got.SealedRefreshToken, seal.AAD{Table: "connections", RowID: c.ID, Column: "refresh_token"}); err != nil || string(b) != e.secretOf(c, "refresh_token", c.SealedRefreshToken) {
		t.Fatalf("resealed refresh token does not open to the same value: %v", err)
	}
	if n, err := connection.Reseal(t.Context(), e.st, kr2); err != nil || n != 0 {
		t.Fatalf("second reseal = %d, %v; want 0", n, err)
	}
}

// refusingClientTransport answers every token-endpoint call with Zoho's
// "invalid_client" (HTTP 200, as Zoho sends grant errors) once refuse is
// set: what Zoho answers from a data centre the client is not enabled for.
type refusingClientTransport struct {
	refuse atomic.Bool
}

func (rt *refusingClientTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if rt.refuse.Load() && r.Method == http.MethodPost && r.URL.Path == "/oauth/v2/token" {
		if r.Body != nil {
			r.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"error":"invalid_client"}`)), Request: r}, nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestInvalidClientSaysEnableMultiDC: issue 10 item 7. Both the refresh and
// the sign-in tell the person to enable multi-DC for the client in Zoho's
// API console, not only to reconnect.
func TestInvalidClientSaysEnableMultiDC(t *testing.T) {
	t.Parallel()
	rt := &refusingClientTransport{}
	e := newEnv(t, envOpts{
		emu:   emulator.Options{DefaultUser: emulator.SingleOrgUser},
		mopts: func(o *connection.Options) { o.HTTPClient = &http.Client{Transport: rt} },
	})
	c := e.connect("mdc")
	rt.refuse.Store(true)
	e.clock.Add(2 * time.Hour)

	_, err := e.m.TokenSource(e.tenant.ID, c.ID).Token(t.Context())
	de := wantCode(t, err, deskconn.CodeNeedsReauth)
	for _, want := range []string{"enable multi-DC", "API console", "Settings tab", "deskconn connections connect mdc"} {
		if !strings.Contains(de.Message, want) {
			t.Errorf("refresh message %q lacks %q", de.Message, want)
		}
	}
	if !errors.Is(err, zohodesk.ErrInvalidClient) {
		t.Errorf("refresh error %v does not wrap ErrInvalidClient", err)
	}

	u, err := e.m.AuthorizeURL(t.Context(), e.tenant.ID, "mdc", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.m.Callback(t.Context(), e.authorize(u))
	de = wantCode(t, err, deskconn.CodeForbidden)
	for _, want := range []string{"enable multi-DC", "Settings tab", "invalid_client"} {
		if !strings.Contains(de.Message, want) {
			t.Errorf("sign-in message %q lacks %q", de.Message, want)
		}
	}
	if strings.Contains(de.Message, testSecret) {
		t.Errorf("message leaks the client secret: %q", de.Message)
	}
}

// lockCounting counts refresh-lock acquisitions.
type lockCounting struct {
	store.Store
	locks atomic.Int64
}

func (l *lockCounting) WithRefreshLock(ctx context.Context, connID string, fn func(context.Context) error) error {
	l.locks.Add(1)
	return l.Store.WithRefreshLock(ctx, connID, fn)
}

// TestWarm: a new process that warms its connection answers its first
// Token from the stored access token without taking the refresh lock; an
// access token about to expire is not warmed, and the first Token
// refreshes it as before.
func TestWarm(t *testing.T) {
	t.Parallel()
	var opts connection.Options
	counting := &lockCounting{}
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}, mopts: func(o *connection.Options) {
		counting.Store = o.Store
		o.Store = counting
		opts = *o
	}})
	c := e.connect("warm")
	stored := e.secretOf(c, "access_token", c.SealedAccessToken)

	fresh, err := connection.New(opts) // another process on the same store
	if err != nil {
		t.Fatal(err)
	}
	fresh.Warm(c)
	before := counting.locks.Load()
	tok, err := fresh.TokenSource(e.tenant.ID, c.ID).Token(t.Context())
	if err != nil || tok != stored {
		t.Fatalf("Token after Warm = %q, %v; want the stored token", tok, err)
	}
	if n := counting.locks.Load() - before; n != 0 {
		t.Errorf("Token after Warm took the refresh lock %d times, want 0", n)
	}

	e.clock.Add(time.Hour - time.Minute) // inside RefreshAhead of the expiry
	later, err := connection.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	later.Warm(c)
	calls := tokenEndpointCalls(e.emu)
	tok, err = later.TokenSource(e.tenant.ID, c.ID).Token(t.Context())
	if err != nil || tok == stored {
		t.Fatalf("Token of an expiring warmed token = %q, %v; want a refreshed one", tok, err)
	}
	if counting.locks.Load()-before != 1 || tokenEndpointCalls(e.emu)-calls != 1 {
		t.Errorf("expiring token: %d locks, %d token calls; want 1 and 1", counting.locks.Load()-before, tokenEndpointCalls(e.emu)-calls)
	}
}
