package cli

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/syncbuf"
	"github.com/deskconn/deskconn/zohodesk"
)

func TestParseUnsafeRegion(t *testing.T) {
	t.Parallel()
	ok := []struct {
		in   string
		want zohodesk.Region
	}{
		{"us=http://127.0.0.1:8443,http://127.0.0.1:8443/api/v1",
			zohodesk.Region{Location: "us", AccountsURL: "http://127.0.0.1:8443", DeskAPIBase: "http://127.0.0.1:8443/api/v1"}},
		{" emu-1=HTTPS://Emu.Example:9/ , https://desk.emu.example/api/v1/ ",
			zohodesk.Region{Location: "emu-1", AccountsURL: "https://emu.example:9", DeskAPIBase: "https://desk.emu.example/api/v1"}},
		{"eu=http://[::1]:80,http://[::1]:81",
			zohodesk.Region{Location: "eu", AccountsURL: "http://[::1]:80", DeskAPIBase: "http://[::1]:81"}},
	}
	for _, tc := range ok {
		got, err := parseUnsafeRegion(tc.in)
		if err != nil {
			t.Errorf("parseUnsafeRegion(%q) = %v", tc.in, err)
			continue
		}
		got.Name = ""
		if got != tc.want {
			t.Errorf("parseUnsafeRegion(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	bad := []struct{ in, wantMsg string }{
		{"", "LOCATION=ACCOUNTS_URL,DESK_API_BASE"},
		{"us", "LOCATION=ACCOUNTS_URL,DESK_API_BASE"},
		{"=http://a,http://b", "LOCATION must be"},
		{"US=http://a,http://b", "LOCATION must be"},
		{"a_b=http://a,http://b", "LOCATION must be"},
		{"abcdefghijklmnopq=http://a,http://b", "LOCATION must be"},
		{"us=http://a", "location us"},
		{"us=http://a,http://b,http://c", "location us"},
		{"us=http://a/oauth,http://b", "ACCOUNTS_URL must have no path"},
		{"us=ftp://a,http://b", "ACCOUNTS_URL must start with http"},
		{"us=http://,http://b", "ACCOUNTS_URL must have a host"},
		{"us=http:opaque,http://b", "ACCOUNTS_URL must have a host"},
		{"us=http://a?x=1,http://b", "ACCOUNTS_URL must not have a query"},
		{"us=http://a,http://b#f", "DESK_API_BASE must not have a query or fragment"},
		{"us=http://a,/api/v1", "DESK_API_BASE must start with http"},
		{"us=http://a,http://b:port", "DESK_API_BASE is not a URL"},
		{"us=http://user:hunter2@a,http://b", "ACCOUNTS_URL must not carry user info"},
		{"us=http://a,http://user:hunter2@b", "DESK_API_BASE must not carry user info"},
	}
	for _, tc := range bad {
		_, err := parseUnsafeRegion(tc.in)
		if err == nil {
			t.Errorf("parseUnsafeRegion(%q) accepted it", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("parseUnsafeRegion(%q) = %q, want it to say %q", tc.in, err, tc.wantMsg)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parseUnsafeRegion(%q) = %q quotes the password", tc.in, err)
		}
	}
}

// FuzzParseUnsafeRegion: any accepted entry is usable as it is: the regions
// table finds it by location and by accounts server, with its Desk base.
func FuzzParseUnsafeRegion(f *testing.F) {
	f.Add("us=http://127.0.0.1:8443,http://127.0.0.1:8443/api/v1")
	f.Add("eu=https://accounts.emu:1/,https://desk.emu/api/v1/")
	f.Add("x=http://u:p@h,http://h")
	f.Add("us=http://a,http://b,http://c")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseUnsafeRegion(s)
		if err != nil {
			return
		}
		regions := zohodesk.NewRegions(r)
		byLoc, err := regions.ByLocation(r.Location)
		if err != nil || byLoc != r {
			t.Fatalf("ByLocation(%q) = %+v, %v; want %+v", r.Location, byLoc, err, r)
		}
		byAcc, err := regions.ByAccountsServer(r.AccountsURL)
		if err != nil || byAcc.AccountsURL != r.AccountsURL {
			t.Fatalf("ByAccountsServer(%q) = %+v, %v", r.AccountsURL, byAcc, err)
		}
		if desk, err := regions.Desk(r.Location); err != nil || desk != r.DeskAPIBase {
			t.Fatalf("Desk(%q) = %q, %v; want %q", r.Location, desk, err, r.DeskAPIBase)
		}
	})
}

func TestOpenRegions(t *testing.T) {
	t.Parallel()
	var log syncbuf.Buffer
	regions, err := openRegions([]string{"us=http://127.0.0.1:1,http://127.0.0.1:1/api/v1", "emu=http://127.0.0.1:2,http://127.0.0.1:2/api/v1"}, newLogger(&Env{Stderr: &log, Getenv: func(string) string { return "" }}))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := regions.ByLocation("us"); err != nil || r.AccountsURL != "http://127.0.0.1:1" {
		t.Errorf("us = %+v, %v; want the override", r, err)
	}
	if _, err := regions.ByAccountsServer("https://accounts.zoho.com"); !errors.Is(err, zohodesk.ErrUnknownRegion) {
		t.Errorf("the replaced production us accounts server is still accepted: %v", err)
	}
	if r, err := regions.ByLocation("eu"); err != nil || r.AccountsURL != "https://accounts.zoho.eu" {
		t.Errorf("eu = %+v, %v; want production", r, err)
	}
	if _, err := regions.ByLocation("emu"); err != nil {
		t.Errorf("emu: %v", err)
	}
	if n := strings.Count(log.String(), "UNSAFE"); n != 2 {
		t.Errorf("%d UNSAFE warnings, want one per entry; log:\n%s", n, log.String())
	}

	none, err := openRegions(nil, newLogger(&Env{Stderr: &log, Getenv: func(string) string { return "" }}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := none.All(), zohodesk.DefaultRegions().All(); len(got) != len(want) {
		t.Errorf("without entries: %d regions, want the %d production ones", len(got), len(want))
	}
	if _, err := openRegions([]string{"us=http://a,http://b", "nope"}, newLogger(&Env{Stderr: &log, Getenv: func(string) string { return "" }})); err == nil || !strings.Contains(err.Error(), "entry 2") {
		t.Errorf("a bad second entry = %v, want an error naming entry 2", err)
	}
}

// unsafeEnv is an emulator on plain-HTTP loopback with the CLI test client
// registered for base's callback, and the environment of commands run
// against it in dir.
type unsafeEnv struct {
	emu    *emulator.Emulator
	url    string
	base   string
	dir    string
	region string // the --unsafe-zoho-region value for the emulator
	vars   map[string]string
}

func newUnsafeEnv(t *testing.T) *unsafeEnv {
	t.Helper()
	base := "http://" + freeLoopbackAddr(t)
	emu := emulator.New(emulator.Options{AutoConsent: true, DefaultUser: emulator.SingleOrgUser,
		Clients: []emulator.OAuthClient{{ID: hClientID, Secret: hSecret, RedirectURIs: []string{base + "/oauth/callback"}, Name: "CLI test"}}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &unsafeEnv{emu: emu, url: srv.URL, base: base, dir: t.TempDir(),
		region: "us=" + srv.URL + "," + srv.URL + "/api/v1",
		vars:   map[string]string{"DESKCONN_SECRET_KEY": key.Encode(), "DESKCONN_CLIENT_SECRET": hSecret, "DESKCONN_BASE_URL": base}}
}

// start runs `deskconn ARGS... --data-dir DIR` in a goroutine, without the
// TLS emulator's client in the context: Zoho calls go where the regions
// table says.
func (u *unsafeEnv) start(ctx context.Context, args ...string) *running {
	all := append(append([]string(nil), args...), "--data-dir", u.dir)
	r := &running{stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, done: make(chan int, 1)}
	go func() {
		r.done <- Run(ctx, all, strings.NewReader(""), r.stdout, r.stderr, func(k string) string { return u.vars[k] })
	}()
	return r
}

func (u *unsafeEnv) run(t *testing.T, args ...string) result {
	t.Helper()
	return u.start(t.Context(), args...).wait(t, 30*time.Second)
}

// With --unsafe-zoho-region (or its environment variable) the whole CLI
// flow runs against a plain-HTTP emulator: the authorize URL points at it,
// the callback's accounts server is accepted, and actions reach its Desk.
func TestUnsafeZohoRegionConnects(t *testing.T) {
	for _, viaEnv := range []bool{false, true} {
		t.Run(map[bool]string{false: "flag", true: "env"}[viaEnv], func(t *testing.T) {
			u := newUnsafeEnv(t)
			var flags []string
			if viaEnv {
				u.vars[unsafeRegionsEnv] = "emu=http://127.0.0.1:9,http://127.0.0.1:9/api/v1; " + u.region
			} else {
				flags = []string{"--unsafe-zoho-region", u.region}
			}
			if r := u.run(t, append([]string{"connections", "add", "c", "--client-id", hClientID}, flags...)...); r.code != 0 {
				t.Fatalf("connections add: %d %s", r.code, r.stderr)
			}
			conn := u.start(t.Context(), append([]string{"connections", "connect", "c", "--wait", "20s"}, flags...)...)
			authURL := conn.waitFor(t, regexp.MustCompile(`(http://127\.0\.0\.1:\d+/oauth/v2/auth\?\S+)`))[1]
			if !strings.HasPrefix(authURL, u.url+"/oauth/v2/auth?") {
				t.Fatalf("authorize URL %s, want the emulator's", authURL)
			}
			if code, body := get(t, authURL); code != http.StatusOK || !strings.Contains(body, "connection c is active") {
				t.Fatalf("following the authorize URL: %d %q", code, body)
			}
			r := conn.wait(t, 30*time.Second)
			if r.code != 0 || !strings.Contains(r.stdout, "Status:        active") {
				t.Fatalf("connections connect: %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, "UNSAFE") || !strings.Contains(r.stderr, "location=us") {
				t.Errorf("no UNSAFE warning naming the location in stderr:\n%s", r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, hSecret) {
				t.Error("connect printed the client secret")
			}
			before := u.emu.Counters().Requests["GET /api/v1/tickets/1892000000042033"]
			in := filepath.Join(t.TempDir(), "in.json")
			if err := os.WriteFile(in, []byte(`{"ticketId":"1892000000042033"}`), 0o600); err != nil {
				t.Fatal(err)
			}
			out := u.run(t, append([]string{"run", "get_ticket", "--input", in}, flags...)...)
			if out.code != 0 || !strings.Contains(out.stdout, `"1892000000042033"`) {
				t.Fatalf("run get_ticket: %d\nstdout %s\nstderr %s", out.code, out.stdout, out.stderr)
			}
			if got := u.emu.Counters().Requests["GET /api/v1/tickets/1892000000042033"]; got != before+1 {
				t.Errorf("the emulator saw %d GETs of the ticket, want %d", got, before+1)
			}
		})
	}
}

// Without --unsafe-zoho-region only the production table is accepted: the
// authorize URL is Zoho's, and a callback naming the emulator as accounts
// server is refused before anything is sent to it.
func TestWithoutUnsafeZohoRegionOnlyProduction(t *testing.T) {
	u := newUnsafeEnv(t)
	if r := u.run(t, "connections", "add", "c", "--client-id", hClientID); r.code != 0 {
		t.Fatalf("connections add: %d %s", r.code, r.stderr)
	}
	conn := u.start(t.Context(), "connections", "connect", "c", "--wait", "20s")
	authURL := conn.waitFor(t, authURLRE)[1] // https://accounts.zoho.com/...: never dialled
	au, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"code": {"1000.forgedcode"}, "state": {au.Query().Get("state")}, "location": {"us"}, "accounts-server": {u.url}}
	code, body := get(t, u.base+"/oauth/callback?"+q.Encode())
	if code != http.StatusBadRequest {
		t.Errorf("callback from the emulator's accounts server: %d %q, want 400", code, body)
	}
	r := conn.wait(t, 30*time.Second)
	if r.code == 0 {
		t.Errorf("connect succeeded with an accounts server outside the production table:\n%s", r.stdout)
	}
	if n := u.emu.Counters().CodeExchanges; n != 0 {
		t.Errorf("the emulator received %d code exchanges, want 0: nothing may be sent to an unknown accounts server", n)
	}
	if strings.Contains(r.stderr, "UNSAFE") {
		t.Errorf("an UNSAFE warning without the flag:\n%s", r.stderr)
	}
}

func TestUnsafeZohoRegionRefusesBadEntry(t *testing.T) {
	u := newUnsafeEnv(t)
	r := u.run(t, "connections", "list", "--unsafe-zoho-region", "us=http://admin:hunter2@127.0.0.1:1,http://127.0.0.1:1")
	if r.code == 0 || !strings.Contains(r.stderr, "--unsafe-zoho-region (entry 1)") {
		t.Errorf("bad entry: %d %q, want a failure naming the flag", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "hunter2") {
		t.Error("the refusal quotes the password of the URL")
	}
}

func TestServeHelpDocumentsUnsafeZohoRegion(t *testing.T) {
	t.Parallel()
	var out syncbuf.Buffer
	if code := Run(t.Context(), []string{"serve", "--help"}, strings.NewReader(""), &out, &out, func(string) string { return "" }); code != 0 {
		t.Fatalf("serve --help: %d", code)
	}
	for _, want := range []string{"--unsafe-zoho-region", unsafeRegionsEnv, "us=http://127.0.0.1:8443,http://127.0.0.1:8443/api/v1", "postgres://"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help does not mention %q:\n%s", want, out.String())
		}
	}
}
