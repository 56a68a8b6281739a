package cli

import (
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/internal/syncbuf"
)

// The OAuth client the harness registers with the emulator. The secret is a
// canary: no command may ever print it.
const (
	hClientID = "1000.CLITESTCLIENT000000000000000000"
	hSecret   = "cli-client-secret-canary-5d1e8b"
)

// harness runs deskconn commands in process against one data directory, with
// the production regions table served by the TLS emulator on loopback (the
// command context carries the emulator's HTTP client, see zohoClientKey).
// Everything the commands print is kept for the secret canary, which runs
// when the test ends.
type harness struct {
	t    *testing.T
	dir  string
	emu  *emulator.TLSServer
	base string // http://127.0.0.1:PORT, the base URL the callback goes to
	key  seal.Key
	env  map[string]string

	mu       sync.Mutex
	outputs  []output
	canaries []string // never printed by any command
	apiKeys  []string // printed only where output.mayShowKey
}

// output is what one command printed.
type output struct {
	args       []string
	text       string // stdout + stderr
	mayShowKey bool   // apikeys create and serve --demo print an API key by design
}

type harnessOptions struct {
	consentPage bool   // render the emulator's consent page instead of auto-consent
	user        string // signed-in Zoho user; default the single-org user
	consentOrg  string // org auto-consent binds for a user of several
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	if o.user == "" {
		o.user = emulator.SingleOrgUser
	}
	base := "http://" + freeLoopbackAddr(t)
	emu, err := emulator.StartTLS(emulator.Options{
		AutoConsent:      !o.consentPage,
		DefaultUser:      o.user,
		AutoConsentOrgID: o.consentOrg,
		Clients:          []emulator.OAuthClient{{ID: hClientID, Secret: hSecret, RedirectURIs: []string{base + "/oauth/callback"}, Name: "CLI test"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		t: t, dir: t.TempDir(), emu: emu, base: base, key: key,
		env: map[string]string{
			"DESKCONN_SECRET_KEY":    key.Encode(),
			"DESKCONN_BASE_URL":      base,
			"DESKCONN_CLIENT_SECRET": hSecret,
			"DESKCONN_LOG_LEVEL":     "debug", // the canary reads every log line
		},
		canaries: []string{hSecret, key.Encode()},
	}
	t.Cleanup(h.checkCanary)
	return h
}

// freeLoopbackAddr returns a 127.0.0.1 address with a port that was free a
// moment ago (the emulator must know the redirect URL before anything
// listens on it).
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// ctx returns a context for commands: the test's, carrying the emulator's
// HTTP client for every call to Zoho.
func (h *harness) ctx(parent context.Context) context.Context {
	return context.WithValue(parent, zohoClientKey{}, h.emu.Client())
}

func (h *harness) getenv(k string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.env[k]
}

// setenv changes one environment variable for the commands run after it.
func (h *harness) setenv(k, v string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.env[k] = v
}

// result is the outcome of one finished command.
type result struct {
	code           int
	stdout, stderr string
}

// run runs `deskconn ARGS... --data-dir DIR` to completion with empty stdin.
func (h *harness) run(args ...string) result {
	h.t.Helper()
	return h.runStdin("", args...)
}

// runStdin is run with stdin.
func (h *harness) runStdin(stdin string, args ...string) result {
	h.t.Helper()
	c := h.start(h.t.Context(), stdin, args...)
	return c.wait(h.t, 30*time.Second)
}

// running is a command running in a goroutine.
type running struct {
	stdout, stderr *syncbuf.Buffer
	done           chan int
}

// start runs `deskconn ARGS... --data-dir DIR` in a goroutine until it ends
// or ctx is cancelled.
func (h *harness) start(ctx context.Context, stdin string, args ...string) *running {
	all := append(append([]string(nil), args...), "--data-dir", h.dir)
	r := &running{stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, done: make(chan int, 1)}
	go func() {
		code := Run(h.ctx(ctx), all, strings.NewReader(stdin), r.stdout, r.stderr, h.getenv)
		h.record(args, r.stdout.String()+r.stderr.String())
		r.done <- code
	}()
	return r
}

// wait waits for the command to end and returns its result.
func (r *running) wait(t *testing.T, d time.Duration) result {
	t.Helper()
	select {
	case code := <-r.done:
		return result{code: code, stdout: r.stdout.String(), stderr: r.stderr.String()}
	case <-time.After(d):
		t.Fatalf("command still running after %s; stdout %q stderr %q", d, r.stdout.String(), r.stderr.String())
		return result{}
	}
}

// waitFor waits until the command's stdout matches re and returns the
// submatches; it fails the test if the command ends first.
func (r *running) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if m := re.FindStringSubmatch(r.stdout.String()); m != nil {
			return m
		}
		select {
		case code := <-r.done:
			r.done <- code
			if m := re.FindStringSubmatch(r.stdout.String()); m != nil {
				return m
			}
			t.Fatalf("command exited %d before printing %s; stdout %q stderr %q", code, re, r.stdout.String(), r.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no %s in stdout %q (stderr %q)", re, r.stdout.String(), r.stderr.String())
	return nil
}

func (h *harness) record(args []string, text string) {
	may := len(args) >= 2 && args[0] == "apikeys" && args[1] == "create"
	for _, a := range args {
		if a == "--demo" {
			may = true
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.outputs = append(h.outputs, output{args: args, text: text, mayShowKey: may})
}

// addCanary adds values that no command may print.
func (h *harness) addCanary(vs ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, v := range vs {
		if v != "" {
			h.canaries = append(h.canaries, v)
		}
	}
}

// addAPIKey adds a key that only `apikeys create` and `serve --demo` may print.
func (h *harness) addAPIKey(k string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.apiKeys = append(h.apiKeys, k)
}

// checkCanary fails the test if any command printed a secret.
func (h *harness) checkCanary() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.outputs) == 0 {
		h.t.Error("canary: no command output was recorded")
	}
	for _, o := range h.outputs {
		for _, c := range h.canaries {
			if strings.Contains(o.text, c) {
				h.t.Errorf("canary: `deskconn %s` printed a secret (%d bytes starting %q)", strings.Join(o.args, " "), len(c), c[:4])
			}
		}
		if o.mayShowKey {
			continue
		}
		for _, k := range h.apiKeys {
			if strings.Contains(o.text, k) {
				h.t.Errorf("canary: `deskconn %s` printed an API key", strings.Join(o.args, " "))
			}
		}
	}
}

// openStore opens the harness database (while no command writes to it).
func (h *harness) openStore() *sqlite.Store {
	h.t.Helper()
	st, err := sqlite.Open(h.t.Context(), filepath.Join(h.dir, "deskconn.db"))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { st.Close() })
	return st
}

// conn returns the raw stored row of the default tenant's connection name.
func (h *harness) conn(st store.Store, tenant, name string) *store.Connection {
	h.t.Helper()
	tn, err := st.GetTenantByName(h.t.Context(), tenant)
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := st.GetConnectionByName(h.t.Context(), tn.ID, name)
	if err != nil {
		h.t.Fatalf("connection %s: %v", name, err)
	}
	return c
}

// tokens opens the stored refresh and access tokens of the default tenant's
// connection name with kr and adds them to the canaries.
func (h *harness) tokens(kr *seal.Keyring, name string) (refresh, access string) {
	h.t.Helper()
	c := h.conn(h.openStore(), "default", name)
	open := func(col string, b []byte) string {
		if len(b) == 0 {
			h.t.Fatalf("connection %s has no %s", name, col)
		}
		p, err := kr.Open(b, sealAAD(c.ID, col))
		if err != nil {
			h.t.Fatalf("open %s: %v", col, err)
		}
		return string(p)
	}
	refresh = open("refresh_token", c.SealedRefreshToken)
	access = open("access_token", c.SealedAccessToken)
	h.addCanary(refresh, access)
	return refresh, access
}

// keyring returns the keyring of the harness's first key.
func (h *harness) keyring() *seal.Keyring {
	h.t.Helper()
	kr, err := seal.NewKeyring(h.key)
	if err != nil {
		h.t.Fatal(err)
	}
	return kr
}

var authURLRE = regexp.MustCompile(`(https://accounts\.zoho\.com/oauth/v2/auth\?\S+)`)

// startConnect starts `connections connect NAME` and returns it with the
// authorize URL it printed.
func (h *harness) startConnect(ctx context.Context, name string, extra ...string) (*running, string) {
	h.t.Helper()
	r := h.start(ctx, "", append([]string{"connections", "connect", name}, extra...)...)
	return r, r.waitFor(h.t, authURLRE)[1]
}

// authorize plays the browser at the emulator: GET the authorize URL and,
// on the consent page, submit Accept (approve) or Deny. It returns the
// redirect to the callback.
func (h *harness) authorize(authURL string, approve bool) *url.URL {
	h.t.Helper()
	hc := h.emu.Client()
	resp, err := hc.Get(authURL)
	if err != nil {
		h.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK { // the consent page
		form := url.Values{}
		for _, m := range hiddenInputRE.FindAllStringSubmatch(string(body), -1) {
			form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		if approve {
			form.Set("approve", "1")
		} else {
			form.Set("deny", "1")
		}
		resp, err = hc.PostForm("https://accounts.zoho.com/oauth/v2/auth/consent", form)
		if err != nil {
			h.t.Fatal(err)
		}
		resp.Body.Close()
	}
	if resp.StatusCode != http.StatusFound {
		h.t.Fatalf("authorize: status %d, want 302: %s", resp.StatusCode, body)
	}
	loc, err := resp.Location()
	if err != nil {
		h.t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), h.base+"/oauth/callback?") {
		h.t.Fatalf("redirected to %s, want the callback", loc.Redacted())
	}
	return loc
}

var hiddenInputRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// get GETs a loopback URL (the callback, as the browser would) and returns
// the status and body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", u, err)
	}
	return resp.StatusCode, string(b)
}

// sealAAD is the additional data of a sealed column of a connection row.
func sealAAD(rowID, column string) seal.AAD {
	return seal.AAD{Table: "connections", RowID: rowID, Column: column}
}
