package resilience

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/syncbuf"
	"github.com/deskconn/deskconn/zohodesk"
)

// This file is the harness of the tests that run deskconn as separate
// processes (crash_test.go, replicas_test.go): the real binary, built once
// per test, against one emulator in the test process on loopback, reached
// through --unsafe-zoho-region.

// Identity of the OAuth client the process tests register. The secret is a
// canary: no process may log it.
const (
	procClientID = "1000.PROCTESTCLIENT00000000000000000"
	procSecret   = "proc-client-secret-canary-93c1f0"
)

// Seeded objects of the demo org the process tests write to.
const (
	procDepartment = "1892000000006907"
	procContact    = "1892000000042032"
	procTicket     = "1892000000042033" // the ticket update_ticket changes
)

// buildDeskconn builds ./cmd/deskconn into a temporary directory, with the
// race detector when this test binary has it, and returns its path.
func buildDeskconn(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "deskconn")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/deskconn/deskconn/cmd/deskconn")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/deskconn: %v\n%s", err, out)
	}
	return bin
}

// peakCounter wraps the emulator and records the most Desk API requests
// in flight at once, and counts the ticket creations it received.
type peakCounter struct {
	h             http.Handler
	inflight, max atomic.Int64
	// ticketPosts counts the POST /api/v1/tickets requests received (the
	// create_ticket writes that reached "Zoho").
	ticketPosts atomic.Int64
}

func (p *peakCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/api/v1/tickets" {
		p.ticketPosts.Add(1)
	}
	if strings.HasPrefix(r.URL.Path, "/api/v1/") {
		n := p.inflight.Add(1)
		defer p.inflight.Add(-1)
		for old := p.max.Load(); n > old && !p.max.CompareAndSwap(old, n); old = p.max.Load() {
		}
	}
	p.h.ServeHTTP(w, r)
}

// emuClock is the emulator's clock: the real one plus an offset the test
// advances (to let Zoho's 10-minute token window pass).
type emuClock struct{ offset atomic.Int64 }

func (c *emuClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *emuClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// procEnv is one emulator on loopback and the environment of deskconn
// processes pointed at it: a data directory, a secret key, the unsafe
// region of the emulator and (optionally) a Postgres DSN.
type procEnv struct {
	t      *testing.T
	bin    string
	emu    *emulator.Emulator
	peak   *peakCounter
	emuURL string
	clock  *emuClock
	dir    string
	db     string // --db; "" for DATA_DIR/deskconn.db
	region string // --unsafe-zoho-region value
	vars   []string
	hc     *http.Client // for the emulator and the servers; loopback only

	mu      sync.Mutex
	logs    []*syncbuf.Buffer // every process's stderr, for the canary
	secrets []string          // values no process may log
}

// newProcEnv starts the emulator (auto-consent as SingleOrgUser, the
// client registered for connectBase's callback) and builds deskconn.
func newProcEnv(t *testing.T, o emulator.Options, connectBase, db string) *procEnv {
	t.Helper()
	clock := &emuClock{}
	o.Now = clock.now
	o.AutoConsent = true
	o.DefaultUser = emulator.SingleOrgUser
	o.Clients = []emulator.OAuthClient{{ID: procClientID, Secret: procSecret, RedirectURIs: []string{connectBase + "/oauth/callback"}, Name: "process tests"}}
	emu := emulator.New(o)
	peak := &peakCounter{h: emu}
	srv := httptest.NewServer(peak)
	t.Cleanup(srv.Close)
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 10 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	p := &procEnv{
		t: t, bin: buildDeskconn(t), emu: emu, peak: peak, emuURL: srv.URL, clock: clock, dir: t.TempDir(), db: db,
		region: "us=" + srv.URL + "," + srv.URL + "/api/v1",
		hc:     &http.Client{Transport: tr},
		vars: []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + os.TempDir(),
			"DESKCONN_SECRET_KEY=" + key.Encode(),
			"DESKCONN_CLIENT_SECRET=" + procSecret,
			"DESKCONN_LOG_LEVEL=info",
		},
	}
	p.secrets = []string{procSecret, key.Encode()}
	t.Cleanup(p.checkCanary)
	return p
}

// args returns the global flags of every deskconn command of the env.
func (p *procEnv) args(args ...string) []string {
	out := append([]string(nil), args...)
	out = append(out, "--data-dir", p.dir, "--unsafe-zoho-region", p.region)
	if p.db != "" {
		out = append(out, "--db", p.db)
	}
	return out
}

func (p *procEnv) command(ctx context.Context, args ...string) (*exec.Cmd, *syncbuf.Buffer) {
	cmd := exec.CommandContext(ctx, p.bin, p.args(args...)...)
	cmd.Env = p.vars
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	p.mu.Lock()
	p.logs = append(p.logs, stderr)
	p.mu.Unlock()
	return cmd, stderr
}

// cli runs one deskconn command to completion and returns its stdout; a
// non-zero exit fails the test.
func (p *procEnv) cli(args ...string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.t.Context(), 30*time.Second)
	defer cancel()
	cmd, stderr := p.command(ctx, args...)
	out, err := cmd.Output()
	if err != nil {
		p.t.Fatalf("deskconn %s: %v\nstdout %s\nstderr %s", strings.Join(args, " "), err, out, stderr)
	}
	return string(out)
}

// connectAndKey adds connection c, connects it through the CLI (following
// the authorize URL it prints with an HTTP client; the emulator consents at
// once and redirects to the command's own callback listener on
// connectBase) and creates an API key. It returns the key and the
// connection's id.
func (p *procEnv) connectAndKey(connectBase string) (apiKey, connID string) {
	p.t.Helper()
	p.cli("connections", "add", "c", "--client-id", procClientID)
	ctx, cancel := context.WithTimeout(p.t.Context(), 30*time.Second)
	defer cancel()
	cmd, stderr := p.command(ctx, "connections", "connect", "c", "--base-url", connectBase, "--wait", "25s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	re := regexp.MustCompile(`(` + regexp.QuoteMeta(p.emuURL) + `/oauth/v2/auth\?\S+)`)
	sc := bufio.NewScanner(stdout)
	var authURL string
	for authURL == "" && sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			authURL = m[1]
		}
	}
	if authURL == "" {
		cmd.Process.Kill()
		cmd.Wait()
		p.t.Fatalf("connections connect printed no authorize URL of the emulator; stderr %s", stderr)
	}
	resp, err := p.hc.Get(authURL) // → consent → 302 to the command's callback
	if err != nil {
		p.t.Fatalf("follow the authorize URL: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rest, _ := io.ReadAll(stdout)
	if err := cmd.Wait(); err != nil || resp.StatusCode != http.StatusOK {
		p.t.Fatalf("connections connect: %v; callback page %d %q; stdout %s; stderr %s", err, resp.StatusCode, body, rest, stderr)
	}
	if !strings.Contains(string(rest), "active") {
		p.t.Fatalf("connections connect did not end active: %s", rest)
	}
	apiKey = strings.TrimSpace(p.cli("apikeys", "create", "resilience"))
	p.addSecret(apiKey)
	return apiKey, p.show().ID
}

// shown is what `connections show c --json` reports.
type shown struct {
	ID, Status, OrgID, LastError string
}

// show runs `deskconn connections show c --json`.
func (p *procEnv) show() shown {
	p.t.Helper()
	var s shown
	out := p.cli("connections", "show", "c", "--json")
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		p.t.Fatalf("connections show --json: %v: %s", err, out)
	}
	return s
}

// addSecret adds a value that no process may log.
func (p *procEnv) addSecret(v string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.secrets = append(p.secrets, v)
}

// checkCanary fails the test if any process logged a secret (the client
// secret, the sealing key, the API key) or reported a data race.
func (p *procEnv) checkCanary() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, l := range p.logs {
		s := l.String()
		for _, v := range p.secrets {
			if strings.Contains(s, v) {
				p.t.Errorf("process %d logged a secret (%d bytes starting %q)", i, len(v), v[:4])
			}
		}
		if strings.Contains(s, "WARNING: DATA RACE") {
			p.t.Errorf("process %d reported a data race:\n%s", i, s)
		}
	}
}

// server is one running `deskconn serve`.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncbuf.Buffer
	done   chan struct{}
}

var servingRE = regexp.MustCompile(`deskconn is serving on (http://\S+)`)

// serve starts `deskconn serve --addr 127.0.0.1:0` and waits until it
// listens. The process is killed at test cleanup if still running.
func (p *procEnv) serve() *server {
	p.t.Helper()
	// The crash and replica tests retry hundreds of keys at once with one
	// API key: the per-key limits (tested in restapi) would answer 429.
	cmd, stderr := p.command(context.Background(), "serve", "--addr", "127.0.0.1:0", "--key-rate", "-1", "--key-concurrency", "-1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: stderr, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(s.done)
	}()
	p.t.Cleanup(s.kill)
	select {
	case s.url = <-urls:
	case <-s.done:
		p.t.Fatalf("deskconn serve exited before serving: %s", stderr)
	case <-time.After(30 * time.Second):
		s.kill()
		p.t.Fatalf("deskconn serve did not start within 30s: %s", stderr)
	}
	return s
}

// kill sends SIGKILL and waits for the process to be gone; calling it
// again is harmless.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// callResult is the answer to one REST action call: status 0 means no
// answer (the server died, or the caller's deadline passed).
type callResult struct {
	status int
	body   string
	err    error
}

// call POSTs input to action name of connection c at the server, with
// idemKey as Idempotency-Key when not empty.
func (p *procEnv) call(ctx context.Context, s *server, apiKey, name, input, idemKey string) callResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/v1/connections/c/actions/"+name, strings.NewReader(input))
	if err != nil {
		return callResult{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return callResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return callResult{status: resp.StatusCode, body: string(b), err: err}
}

// createInput is create_ticket's input for idempotency key key: the key is
// the subject, so the emulator's tickets can be matched to keys.
func createInput(key string) string {
	return `{"payload":{"subject":"` + key + `","departmentId":"` + procDepartment + `","contactId":"` + procContact + `"}}`
}

// outputID returns the "id" of a create_ticket output.
func outputID(body string) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal([]byte(body), &v) != nil {
		return ""
	}
	return v.ID
}

// ticketsBySubject lists every live ticket of the demo org whose subject
// starts with prefix, by subject. It reads the emulator through the Desk
// API as another user (admin), so deskconn's connection is untouched.
func (p *procEnv) ticketsBySubject(prefix string) map[string][]string {
	p.t.Helper()
	_, access, err := p.emu.MintToken(procClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.tickets.ALL"})
	if err != nil {
		p.t.Fatal(err)
	}
	desk, err := zohodesk.New(zohodesk.Config{BaseURL: p.emuURL + "/api/v1", Tokens: zohodesk.StaticToken(access), HTTPClient: p.hc,
		Limiter: zohodesk.NewOrgLimiter(1, 100, 1)})
	if err != nil {
		p.t.Fatal(err)
	}
	out := map[string][]string{}
	for tk, err := range desk.Tickets.ListAll(p.t.Context(), emulator.DemoOrgID, &zohodesk.TicketListOptions{ListOptions: zohodesk.ListOptions{Limit: 100}, SortBy: "createdTime"}) {
		if err != nil {
			p.t.Fatalf("list the emulator's tickets: %v", err)
		}
		if strings.HasPrefix(tk.Subject, prefix) {
			out[tk.Subject] = append(out[tk.Subject], tk.ID)
		}
	}
	return out
}

// tokenRequests is the number of refresh-token grants the emulator served
// (every refresh token: the connection has one).
func (p *procEnv) tokenRequests() int {
	n := 0
	for _, c := range p.emu.Counters().TokenRequests {
		n += c
	}
	return n
}

// tail returns the last n bytes of s, for failure messages.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("...%s", s[len(s)-n:])
}
