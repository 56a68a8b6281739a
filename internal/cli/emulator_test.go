package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/syncbuf"
)

// startEmulatorCmd runs `deskconn emulator --addr 127.0.0.1:0 args...` and
// returns its base URL, its stdout and a func that stops it and checks it
// exited 0.
func startEmulatorCmd(t *testing.T, args ...string) (base string, out *syncbuf.Buffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out = &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"emulator", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), out, io.Discard, func(string) string { return "" })
	}()
	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("no base URL printed: %q", out.String())
	}
	stopped := false
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit code %d", code)
		}
	}
	t.Cleanup(stop)
	return base, out, stop
}

func TestEmulatorCommand(t *testing.T) {
	base, out, stop := startEmulatorCmd(t, "--client-id", "1000.TEST", "--client-secret", "s3cret",
		"--redirect-uri", "http://127.0.0.1:9/cb", "--auto-consent")
	if !strings.Contains(out.String(), "1000.TEST") {
		t.Fatalf("client not printed: %q", out.String())
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/oauth/v2/auth?client_id=1000.TEST&response_type=code&scope=Desk.basic.READ&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "http://127.0.0.1:9/cb?") {
		t.Fatalf("auto consent: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	stop()
}

// TestEmulatorCommandLimitsAndFaults starts the emulator with a FREE
// edition, a credit budget and two faults, and checks each over HTTP.
func TestEmulatorCommandLimitsAndFaults(t *testing.T) {
	base, out, _ := startEmulatorCmd(t, "--edition", "free", "--daily-credits", "50",
		"--fault", `{"kind":"status","status":503,"pathPrefix":"/api/v1/myinfo","times":1}`,
		"--fault", `{"kind":"status","status":429,"retryAfter":9,"pathPrefix":"/api/v1/departments"}`)
	for _, want := range []string{"Limits:   FREE edition, 50 credits/day, 5 concurrent calls", `"status":503`, `"retryAfter":9`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
	resp, err := http.Post(base+"/__emulator/tokens", "application/json", strings.NewReader(
		`{"clientId":"`+emulator.DemoClientID+`","user":"`+emulator.DemoUser+`","orgId":"`+emulator.DemoOrgID+`","scopes":["Desk.basic.READ"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Access string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.Access == "" {
		t.Fatalf("mint token: %v", err)
	}
	get := func(path string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Zoho-oauthtoken "+tok.Access)
		req.Header.Set("orgId", emulator.DemoOrgID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get("/api/v1/myinfo"); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("first myinfo = %d, want the 503 fault", r.StatusCode)
	}
	if r := get("/api/v1/myinfo"); r.StatusCode != http.StatusOK || r.Header.Get("X-Rate-Limit-Remaining-v3") != "49" {
		t.Errorf("second myinfo = %d, remaining %q; want 200 and 49 of --daily-credits 50", r.StatusCode, r.Header.Get("X-Rate-Limit-Remaining-v3"))
	}
	for range 2 { // times 0: every request
		if r := get("/api/v1/departments"); r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "9" {
			t.Errorf("departments = %d, Retry-After %q; want the 429 fault", r.StatusCode, r.Header.Get("Retry-After"))
		}
	}
}

// TestEmulatorFlagErrors: a bad flag stops the command before it listens,
// with exit code 1 and a message that names the flag and what to change.
func TestEmulatorFlagErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--fault", `{"kind":"status","status":"503"}`}, []string{"--fault #1", `"status" must be a JSON number`, "example: --fault"}},
		{[]string{"--fault", `{"kind":"latency","latency":"250ms"}`, "--fault", `{"kind":"boom"}`}, []string{"--fault #2", `"kind" "boom" is unknown`, "use one of latency, status"}},
		{[]string{"--fault", `{"kind":"status","staus":503}`}, []string{"--fault #1", `unknown key "staus"`, "the keys are kind, pathPrefix"}},
		{[]string{"--fault", `kind=status`}, []string{"--fault #1", "invalid JSON"}},
		{[]string{"--edition", "ultimate"}, []string{"--edition", `"ultimate"`, "use one of FREE, EXPRESS"}},
		{[]string{"--daily-credits", "-5"}, []string{"--daily-credits -5", "use 0"}},
		{[]string{"--daily-credits", "lots"}, []string{"--daily-credits", `"lots"`}},
		{[]string{"--max-concurrent", "-1"}, []string{"--max-concurrent -1", "use 0"}},
		{[]string{"--latency", "-1s"}, []string{"--latency -1s", ">= 0"}},
		{[]string{"--tickets", "-3"}, []string{"--tickets -3"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			// A bound in case validation is missing and the emulator starts.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			var stdout, stderr syncbuf.Buffer
			code := Run(ctx, append([]string{"emulator", "--addr", "127.0.0.1:0"}, tc.args...), strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if strings.Contains(stdout.String(), "listening") {
				t.Errorf("started despite the bad flag: %s", stdout.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q lacks %q", stderr.String(), w)
				}
			}
		})
	}
}

func TestEmulatorFlagOptions(t *testing.T) {
	t.Parallel()
	ef := emulatorFlags{clientID: "c", latency: 40 * time.Millisecond, edition: "Professional", dailyCredits: 7, maxConcurrent: 3,
		faults: []string{`{"kind":"status","status":500,"times":1}`, `{"kind":"latency","latency":"1s","pathPrefix":"/oauth/"}`}}
	opts, err := ef.options()
	if err != nil {
		t.Fatal(err)
	}
	want := []emulator.Fault{
		{Kind: emulator.FaultStatus, Status: 500, Times: 1, Latency: 40 * time.Millisecond}, // --latency applies to faulted requests too
		{Kind: emulator.FaultLatency, Latency: time.Second, PathPrefix: "/oauth/"},          // its own latency wins
		{Kind: emulator.FaultLatency, Latency: 40 * time.Millisecond},                       // last: it matches everything
	}
	if !slices.Equal(opts.Faults, want) {
		t.Errorf("faults = %+v\nwant %+v", opts.Faults, want)
	}
	if opts.Edition != "PROFESSIONAL" || opts.DailyCredits != 7 || opts.MaxConcurrent != 3 {
		t.Errorf("limits = %q %d %d", opts.Edition, opts.DailyCredits, opts.MaxConcurrent)
	}
	if len(opts.Clients) != 1 || !slices.Equal(opts.Clients[0].RedirectURIs, []string{emulator.DemoRedirectURI}) {
		t.Errorf("clients = %+v", opts.Clients)
	}
}

// TestEmulatorFidelityFlags: --search-delay and --trashed-tickets set the
// emulator's options; bad values name the flag and what to use.
func TestEmulatorFidelityFlags(t *testing.T) {
	t.Parallel()
	ef := emulatorFlags{clientID: "c", searchDelay: 30 * time.Second, trashed: "visible", requireUploadLength: true}
	opts, err := ef.options()
	if err != nil {
		t.Fatal(err)
	}
	if opts.SearchDelay != 30*time.Second || opts.TrashedTickets != emulator.TrashedVisible || !opts.RequireUploadLength {
		t.Errorf("search delay %s, trashed %q, require upload length %v", opts.SearchDelay, opts.TrashedTickets, opts.RequireUploadLength)
	}
	ef = emulatorFlags{clientID: "c", trashed: "404"}
	if opts, err := ef.options(); err != nil || opts.TrashedTickets != emulator.TrashedNotFound || opts.SearchDelay != 0 {
		t.Errorf("defaults: %q %s %v", opts.TrashedTickets, opts.SearchDelay, err)
	}
	for _, tc := range []struct {
		ef   emulatorFlags
		want []string
	}{
		{emulatorFlags{clientID: "c", searchDelay: -time.Second}, []string{"--search-delay -1s", ">= 0"}},
		{emulatorFlags{clientID: "c", trashed: "gone"}, []string{"--trashed-tickets", `"gone"`, "404", "visible"}},
	} {
		_, err := tc.ef.options()
		if err == nil {
			t.Fatalf("%+v: no error", tc.ef)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
	}
}
