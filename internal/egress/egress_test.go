package egress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestDenyMatrix proves every hostile destination is refused before any
// connection: the dialer records no dial to it and the loopback canary (on
// whose port every loopback spelling points) sees zero connections.
func TestDenyMatrix(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	p := n.canary.port
	// Names that resolve to refused addresses.
	names := map[string][]string{
		"loop.test":       {"127.0.0.1"},
		"loop6.test":      {"::1"},
		"mapped.test":     {"::ffff:127.0.0.1"},
		"ten.test":        {"10.1.2.3"},
		"metadata.test":   {"169.254.169.254"},
		"private172.test": {"172.16.0.1"},
		"private192.test": {"192.168.1.1"},
		"cgnat.test":      {"100.64.0.1"},
		"ula.test":        {"fd12:3456::1"},
		"linklocal6.test": {"fe80::1"},
		"mixed.test":      {"93.184.216.34", "10.0.0.1"}, // one bad address refuses the host
		"mixed6.test":     {"2606:4700::1111", "fc00::1"},
		"zero.test":       {"0.0.0.0"},
		"nat64.test":      {"64:ff9b::a9fe:a9fe"}, // 169.254.169.254
	}
	for h, a := range names {
		n.res.set(h, a)
	}
	f := n.fetcher(Config{})

	tests := []struct {
		name string
		url  string
		want error
	}{
		// Loopback in every spelling, all aimed at the canary's port.
		{"loopback dotted", "http://127.0.0.1:" + p + "/", ErrForbiddenAddress},
		{"loopback other /8", "http://127.9.8.7:" + p + "/", ErrForbiddenAddress},
		{"loopback trailing dot", "http://127.0.0.1.:" + p + "/", ErrForbiddenAddress},
		{"loopback short", "http://127.1:" + p + "/", ErrForbiddenAddress},
		{"loopback decimal", "http://2130706433:" + p + "/", ErrForbiddenAddress},
		{"loopback octal", "http://0177.0.0.1:" + p + "/", ErrForbiddenAddress},
		{"loopback hex", "http://0x7f.1:" + p + "/", ErrForbiddenAddress},
		{"loopback hex whole", "http://0x7f000001:" + p + "/", ErrForbiddenAddress},
		{"loopback zero padded", "http://127.000.000.001:" + p + "/", ErrForbiddenAddress},
		{"loopback percent-encoded", "http://%31%32%37.0.0.1:" + p + "/", ErrInvalidURL}, // Go refuses escapes in IP-like hosts
		{"loopback v6", "http://[::1]:" + p + "/", ErrForbiddenAddress},
		{"loopback v6 long", "http://[0:0:0:0:0:0:0:1]:" + p + "/", ErrForbiddenAddress},
		{"loopback v4-mapped", "http://[::ffff:127.0.0.1]:" + p + "/", ErrForbiddenAddress},
		{"loopback v4-mapped hex", "http://[::ffff:7f00:1]:" + p + "/", ErrForbiddenAddress},
		{"loopback v4-compatible", "http://[::127.0.0.1]:" + p + "/", ErrForbiddenAddress},
		{"loopback NAT64", "http://[64:ff9b::7f00:1]:" + p + "/", ErrForbiddenAddress},
		{"loopback 6to4", "http://[2002:7f00:1::]:" + p + "/", ErrForbiddenAddress},
		{"loopback Teredo", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:" + p + "/", ErrForbiddenAddress},
		{"localhost", "http://localhost:" + p + "/", ErrForbiddenAddress},
		{"localhost upper trailing dot", "http://LOCALHOST.:" + p + "/", ErrForbiddenAddress},
		{"localhost subdomain", "http://app.localhost:" + p + "/", ErrForbiddenAddress},
		{"name to loopback", "http://loop.test:" + p + "/", ErrForbiddenAddress},
		{"name to ::1", "http://loop6.test:" + p + "/", ErrForbiddenAddress},
		{"name to mapped loopback", "http://mapped.test:" + p + "/", ErrForbiddenAddress},
		// Unspecified.
		{"unspecified v4", "http://0.0.0.0:" + p + "/", ErrForbiddenAddress},
		{"unspecified short", "http://0:" + p + "/", ErrForbiddenAddress},
		{"unspecified v6", "http://[::]:" + p + "/", ErrForbiddenAddress},
		{"name to 0.0.0.0", "http://zero.test:" + p + "/", ErrForbiddenAddress},
		// Private, link-local, metadata, CGNAT and friends.
		{"10/8", "http://10.0.0.1/", ErrForbiddenAddress},
		{"172.16/12 low", "http://172.16.0.1/", ErrForbiddenAddress},
		{"172.16/12 high", "http://172.31.255.255/", ErrForbiddenAddress},
		{"192.168/16", "http://192.168.0.1/", ErrForbiddenAddress},
		{"metadata", "http://169.254.169.254/latest/meta-data/", ErrForbiddenAddress},
		{"metadata decimal", "http://2852039166/", ErrForbiddenAddress},
		{"link-local", "http://169.254.1.1/", ErrForbiddenAddress},
		{"CGNAT low", "http://100.64.0.1/", ErrForbiddenAddress},
		{"CGNAT high", "http://100.127.255.255/", ErrForbiddenAddress},
		{"benchmark", "http://198.18.0.1/", ErrForbiddenAddress},
		{"benchmark high", "http://198.19.255.255/", ErrForbiddenAddress},
		{"documentation 192.0.2", "http://192.0.2.1/", ErrForbiddenAddress},
		{"documentation 198.51.100", "http://198.51.100.7/", ErrForbiddenAddress},
		{"documentation 203.0.113", "http://203.0.113.9/", ErrForbiddenAddress},
		{"this network 0/8", "http://0.1.2.3/", ErrForbiddenAddress},
		{"reserved 240/4", "http://240.0.0.1/", ErrForbiddenAddress},
		{"broadcast", "http://255.255.255.255/", ErrForbiddenAddress},
		{"multicast v4", "http://224.0.0.1/", ErrForbiddenAddress},
		{"multicast v4 high", "http://239.255.255.250/", ErrForbiddenAddress},
		{"ULA fc00", "http://[fc00::1]/", ErrForbiddenAddress},
		{"ULA fd", "http://[fdff:ffff::1]/", ErrForbiddenAddress},
		{"link-local v6", "http://[fe80::1]/", ErrForbiddenAddress},
		{"link-local v6 zoned", "http://[fe80::1%25eth0]/", ErrForbiddenAddress},
		{"site-local v6", "http://[fec0::1]/", ErrForbiddenAddress},
		{"multicast v6", "http://[ff02::1]/", ErrForbiddenAddress},
		{"documentation v6", "http://[2001:db8::1]/", ErrForbiddenAddress},
		{"mapped private", "http://[::ffff:10.0.0.1]/", ErrForbiddenAddress},
		{"mapped metadata", "http://[::ffff:169.254.169.254]/", ErrForbiddenAddress},
		{"NAT64 private", "http://[64:ff9b::a00:1]/", ErrForbiddenAddress},
		{"NAT64 local-use", "http://[64:ff9b:1::808:808]/", ErrForbiddenAddress},
		{"6to4 private", "http://[2002:c0a8:101::1]/", ErrForbiddenAddress},
		{"discard v6", "http://[100::1]/", ErrForbiddenAddress},
		{"name to 10/8", "http://ten.test/", ErrForbiddenAddress},
		{"name to metadata", "http://metadata.test/", ErrForbiddenAddress},
		{"name to 172.16", "http://private172.test/", ErrForbiddenAddress},
		{"name to 192.168", "http://private192.test/", ErrForbiddenAddress},
		{"name to CGNAT", "http://cgnat.test/", ErrForbiddenAddress},
		{"name to ULA", "http://ula.test/", ErrForbiddenAddress},
		{"name to fe80", "http://linklocal6.test/", ErrForbiddenAddress},
		{"name to public and private", "http://mixed.test/", ErrForbiddenAddress},
		{"name to public and ULA v6", "http://mixed6.test/", ErrForbiddenAddress},
		{"name to NAT64 metadata", "http://nat64.test/", ErrForbiddenAddress},
		// Schemes and shapes.
		{"file", "file:///etc/passwd", ErrScheme},
		{"ftp", "ftp://files.example/x", ErrScheme},
		{"gopher", "gopher://127.0.0.1:" + p + "/", ErrScheme},
		{"javascript", "javascript:alert(1)", ErrScheme},
		{"no scheme", "//127.0.0.1:" + p + "/", ErrScheme},
		{"userinfo", "http://user:pass@files.example/", ErrInvalidURL},
		{"no host", "http:///path", ErrInvalidURL},
		{"opaque", "http:127.0.0.1", ErrInvalidURL},
		{"port out of range", "http://files.example:70000/", ErrInvalidURL},
		{"unparseable", "http://[::1/", ErrInvalidURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.Open(t.Context(), tc.url)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("Open(%q) succeeded; want %v", tc.url, tc.want)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open(%q) = %v; want %v", tc.url, err, tc.want)
			}
			if err := f.CheckURL(tc.url); err == nil && !strings.Contains(tc.name, "name to") {
				t.Errorf("CheckURL(%q) = nil; a literal or malformed destination must fail without resolving", tc.url)
			}
			var ae *AddressError
			if errors.As(err, &ae) {
				// The message names the host but never a resolved address.
				host := strings.SplitN(strings.TrimPrefix(tc.url, "http://"), "/", 2)[0]
				for _, addr := range names[strings.Split(host, ":")[0]] {
					if strings.Contains(err.Error(), addr) {
						t.Errorf("error %q reveals resolved address %s", err, addr)
					}
				}
			}
		})
	}
	if got := n.dialer.dialList(); len(got) != 0 {
		t.Errorf("denied fetches dialled %v; want no dial at all", got)
	}
	if c := n.canary.conns.Load(); c != 0 {
		t.Errorf("canary saw %d connections; want 0", c)
	}
}

// TestDNSRebinding: the resolver answers a public address first and
// 127.0.0.1 afterwards. The fetch resolves once and dials only the address
// it checked; the canary never sees a connection.
func TestDNSRebinding(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	n.res.set("rebind.test", []string{"93.184.216.34"}, []string{"127.0.0.1"})
	f := n.fetcher(Config{})
	url := "http://rebind.test:" + n.canary.port + "/"

	// First fetch: checked public address, dialled as such (the fake
	// internet has no route, so the dial fails without leaving the machine).
	if _, err := f.Open(t.Context(), url); err == nil {
		t.Fatal("first fetch succeeded; the test dialer has no route for it")
	}
	if got, want := n.dialer.dialList(), []string{"93.184.216.34:" + n.canary.port}; !slices.Equal(got, want) {
		t.Fatalf("dials = %v; want exactly the checked address %v", got, want)
	}
	if got := n.res.lookupList(); len(got) != 1 {
		t.Fatalf("lookups = %v; want one resolution per connection", got)
	}
	// Second fetch: the rebound answer is refused before any dial.
	_, err := f.Open(t.Context(), url)
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("after rebinding Open = %v; want ErrForbiddenAddress", err)
	}
	if got := n.dialer.dialList(); len(got) != 1 {
		t.Fatalf("dials = %v; the rebound address must not be dialled", got)
	}
	if c := n.canary.conns.Load(); c != 0 {
		t.Fatalf("canary saw %d connections; want 0", c)
	}
}

func TestOpenPublic(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	var gotUA atomic.Value
	n.serve(t, "93.184.216.34", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUA.Store(r.Header.Get("User-Agent"))
		w.Header().Set("Content-Type", "application/pdf")
		fmt.Fprint(w, "%PDF-1.4 hello")
	}))
	n.res.set("files.example", []string{"93.184.216.34"})
	f := n.fetcher(Config{UserAgent: "test-agent"})

	resp, err := f.Open(t.Context(), "http://files.example/dir/report%20v2.pdf?sig=secret")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(body) != "%PDF-1.4 hello" {
		t.Errorf("body = %q", body)
	}
	if resp.ContentType != "application/pdf" || resp.ContentLength != int64(len(body)) ||
		resp.FileName != "report v2.pdf" || resp.FinalURL != "http://files.example/dir/report%20v2.pdf?sig=secret" {
		t.Errorf("response = %+v", resp)
	}
	if ua := gotUA.Load(); ua != "test-agent" {
		t.Errorf("User-Agent = %v", ua)
	}
	if got := n.dialer.dialList(); !slices.Equal(got, []string{"93.184.216.34:80"}) {
		t.Errorf("dials = %v", got)
	}
}

func TestFileNameFromContentDisposition(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	n.serve(t, "93.184.216.34", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", r.URL.Query().Get("cd"))
		fmt.Fprint(w, "x")
	}))
	n.res.set("files.example", []string{"93.184.216.34"})
	f := n.fetcher(Config{})
	tests := []struct{ cd, want string }{
		{`attachment; filename="quarterly.xlsx"`, "quarterly.xlsx"},
		{`attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`, "résumé.pdf"},
		{`attachment; filename="../../etc/passwd"`, "passwd"},
		{`attachment; filename="C:\\temp\\evil.exe"`, "evil.exe"},
		{`attachment; filename=".."`, "download.bin"}, // falls back to the path
		{``, "download.bin"},
	}
	for _, tc := range tests {
		resp, err := f.Open(t.Context(), "http://files.example/download.bin?cd="+urlQueryEscape(tc.cd))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		resp.Body.Close()
		if resp.FileName != tc.want {
			t.Errorf("Content-Disposition %q: FileName = %q; want %q", tc.cd, resp.FileName, tc.want)
		}
	}
}

func urlQueryEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	var hits atomic.Int64
	n.serve(t, "93.184.216.34", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch {
		case r.URL.Path == "/to-private":
			http.Redirect(w, r, "http://internal.test/secret", http.StatusFound)
		case r.URL.Path == "/to-private-literal":
			http.Redirect(w, r, "http://10.0.0.1/", http.StatusFound)
		case r.URL.Path == "/to-canary":
			http.Redirect(w, r, "http://127.0.0.1:"+r.URL.Query().Get("port")+"/", http.StatusFound)
		case r.URL.Path == "/to-canary-name":
			http.Redirect(w, r, "http://localhost:"+r.URL.Query().Get("port")+"/", http.StatusFound)
		case r.URL.Path == "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case r.URL.Path == "/to-userinfo":
			http.Redirect(w, r, "http://u:p@files.example/", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			left, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
			if left == 0 {
				fmt.Fprint(w, "arrived")
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", left-1), http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	n.res.set("files.example", []string{"93.184.216.34"})
	n.res.set("internal.test", []string{"10.0.0.5"})
	f := n.fetcher(Config{})
	port := n.canary.port

	denied := []struct {
		path string
		want error
	}{
		{"/to-private", ErrForbiddenAddress},
		{"/to-private-literal", ErrForbiddenAddress},
		{"/to-canary?port=" + port, ErrForbiddenAddress},
		{"/to-canary-name?port=" + port, ErrForbiddenAddress},
		{"/to-file", ErrScheme},
		{"/to-userinfo", ErrInvalidURL},
		{"/hop/4", ErrTooManyRedirects},
	}
	for _, tc := range denied {
		_, err := f.Open(t.Context(), "http://files.example"+tc.path)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Open = %v; want %v", tc.path, err, tc.want)
		}
	}
	for _, d := range n.dialer.dialList() {
		if d != "93.184.216.34:80" {
			t.Errorf("a refused redirect was dialled: %s", d)
		}
	}
	if c := n.canary.conns.Load(); c != 0 {
		t.Errorf("canary saw %d connections; want 0", c)
	}

	// Exactly MaxRedirects hops are followed.
	hits.Store(0)
	resp, err := f.Open(t.Context(), "http://files.example/hop/3")
	if err != nil {
		t.Fatalf("3 redirects: %v", err)
	}
	resp.Body.Close()
	if h := hits.Load(); h != 4 {
		t.Errorf("3 redirects made %d requests; want 4", h)
	}
	hits.Store(0)
	if _, err := f.Open(t.Context(), "http://files.example/hop/4"); !errors.Is(err, ErrTooManyRedirects) {
		t.Errorf("4 redirects: %v", err)
	}
	if h := hits.Load(); h != 4 {
		t.Errorf("4 redirects made %d requests; want 4 (the 4th redirect is not followed)", h)
	}
	// A negative MaxRedirects follows none.
	none := n.fetcher(Config{MaxRedirects: -1})
	if _, err := none.Open(t.Context(), "http://files.example/hop/1"); !errors.Is(err, ErrTooManyRedirects) {
		t.Errorf("MaxRedirects -1: %v", err)
	}
}

func TestSizeCap(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	n.serve(t, "93.184.216.34", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		chunk := bytes.Repeat([]byte("a"), 100)
		if r.URL.Query().Get("stream") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		for size > 0 {
			k := min(size, len(chunk))
			if _, err := w.Write(chunk[:k]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			size -= k
		}
	}))
	n.res.set("files.example", []string{"93.184.216.34"})
	f := n.fetcher(Config{MaxBytes: 1000})
	if f.MaxBytes() != 1000 {
		t.Fatalf("MaxBytes() = %d", f.MaxBytes())
	}

	// Announced too large: refused before reading.
	_, err := f.Open(t.Context(), "http://files.example/?size=2000")
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Content-Length 2000: %v; want ErrTooLarge", err)
	}

	// Streamed (no Content-Length): fails once the cap is passed.
	resp, err := f.Open(t.Context(), "http://files.example/?size=500000&stream=1")
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if resp.ContentLength != -1 {
		t.Errorf("ContentLength = %d; want -1", resp.ContentLength)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("stream read: %v; want ErrTooLarge", err)
	}
	if len(got) != 1000 {
		t.Errorf("read %d bytes before failing; want exactly the cap, 1000", len(got))
	}
	if _, err := resp.Body.Read(make([]byte, 10)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("read after failure: %v; want the same ErrTooLarge", err)
	}

	// Exactly the cap, both ways, is fine.
	for _, q := range []string{"size=1000", "size=1000&stream=1"} {
		resp, err := f.Open(t.Context(), "http://files.example/?"+q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(b) != 1000 {
			t.Errorf("%s: read %d bytes, err %v", q, len(b), err)
		}
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	n.serve(t, "93.184.216.34", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-headers" {
			<-r.Context().Done()
			return
		}
		// A trickle: one byte, then nothing until the client gives up.
		w.Write([]byte("x"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	n.res.set("files.example", []string{"93.184.216.34"})
	f := n.fetcher(Config{Timeout: 200 * time.Millisecond})

	start := time.Now()
	resp, err := f.Open(t.Context(), "http://files.example/slow-body")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow body: %v; want ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("slow body took %v; the deadline is 200ms", d)
	}

	_, err = f.Open(t.Context(), "http://files.example/slow-headers")
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("slow headers: %v; want ErrTimeout", err)
	}

	// The caller's own cancellation is not reported as our timeout.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.Open(ctx, "http://files.example/slow-headers"); err == nil || errors.Is(err, ErrTimeout) {
		t.Errorf("cancelled context: %v; want a cancellation error", err)
	}
}

func TestStatusError(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	n.serve(t, "93.184.216.34", http.NotFoundHandler())
	n.res.set("files.example", []string{"93.184.216.34"})
	_, err := n.fetcher(Config{}).Open(t.Context(), "http://files.example/missing?token=s3cr3t")
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 404 || !errors.Is(err, ErrStatus) {
		t.Fatalf("Open = %v; want a 404 StatusError", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "/missing") {
		t.Errorf("error %q leaks the URL's path or query", err)
	}
}

func TestErrorsDoNotLeakURL(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	n.res.set("files.example", []string{"93.184.216.34"}) // no route: the dial fails
	_, err := n.fetcher(Config{}).Open(t.Context(), "http://files.example/a/b?sig=s3cr3t")
	if err == nil {
		t.Fatal("Open succeeded without a route")
	}
	if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "files.example") {
		t.Errorf("error %q: want the host named and the query absent", err)
	}
	_, err = n.fetcher(Config{}).Open(t.Context(), "http://nxdomain.test/?sig=s3cr3t")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("unknown host: %v", err)
	}
}

// TestEnvironmentProxyIgnored: with HTTP(S)_PROXY pointing at the canary,
// the fetch still goes straight to the (checked) target.
func TestEnvironmentProxyIgnored(t *testing.T) {
	n := newTestNet(t)
	t.Setenv("HTTP_PROXY", n.canary.srv.URL)
	t.Setenv("HTTPS_PROXY", n.canary.srv.URL)
	t.Setenv("http_proxy", n.canary.srv.URL)
	n.serve(t, "93.184.216.34", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "direct")
	}))
	n.res.set("files.example", []string{"93.184.216.34"})
	resp, err := n.fetcher(Config{}).Open(t.Context(), "http://files.example/")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "direct" || n.canary.conns.Load() != 0 {
		t.Errorf("body %q, canary connections %d; want direct and 0", b, n.canary.conns.Load())
	}
}

// TestUnsafeAllowLoopback uses the real default resolver and dialer against
// a loopback server that the allow list names by address and port.
func TestUnsafeAllowLoopback(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "allowed")
	}))
	t.Cleanup(srv.Close)
	c := newCanary(t)
	var logs bytes.Buffer
	addr := srv.Listener.Addr().String()
	f := New(Config{
		UnsafeAllowLoopback: []string{addr, "10.0.0.1"},
		Logger:              slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if !strings.Contains(logs.String(), "UnsafeAllowLoopback") || !strings.Contains(logs.String(), "WARN") {
		t.Errorf("no warning logged: %q", logs.String())
	}
	resp, err := f.Open(t.Context(), srv.URL+"/x")
	if err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "allowed" {
		t.Errorf("body = %q", b)
	}
	// Another port on the same address is still refused.
	if _, err := f.Open(t.Context(), c.srv.URL); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("canary port: %v; want ErrForbiddenAddress", err)
	}
	if c.conns.Load() != 0 {
		t.Errorf("canary saw %d connections", c.conns.Load())
	}
	// The allow list never unlocks a non-loopback address.
	if _, err := f.Open(t.Context(), "http://10.0.0.1/"); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("10.0.0.1 in the allow list: %v; want ErrForbiddenAddress", err)
	}
}

func TestUnsafeAllowLoopbackByName(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "by name")
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	n.res.set("localhost", []string{"127.0.0.1"})
	f := n.fetcher(Config{UnsafeAllowLoopback: []string{"LocalHost:" + port}})
	resp, err := f.Open(t.Context(), "http://localhost:"+port+"/")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	resp.Body.Close()
	if _, err := f.Open(t.Context(), "http://localhost:"+n.canary.port+"/"); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("localhost on another port: %v", err)
	}
	if got := n.dialer.dialList(); !slices.Equal(got, []string{"127.0.0.1:" + port}) {
		t.Errorf("dials = %v", got)
	}
}

// TestControlHook checks the default dialer's last line of defence: the
// socket may connect only to the address approved for that dial.
func TestControlHook(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	if err := controlApproved(ctx, "tcp4", "127.0.0.1:80", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("unapproved dial: %v", err)
	}
	approved := context.WithValue(ctx, approvedKey{}, "93.184.216.34:443")
	if err := controlApproved(approved, "tcp4", "127.0.0.1:443", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("dial to another address: %v", err)
	}
	if err := controlApproved(approved, "tcp4", "93.184.216.34:443", nil); err != nil {
		t.Errorf("approved dial: %v", err)
	}
	// Through the real dialer: an unapproved loopback dial never connects.
	c := newCanary(t)
	f := New(Config{})
	if _, err := f.dial(ctx, "tcp", c.srv.Listener.Addr().String()); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("default dialer without approval: %v", err)
	}
	if c.conns.Load() != 0 {
		t.Errorf("canary saw %d connections", c.conns.Load())
	}
}

func TestHTTPS(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "secure")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-certificate case logs a handshake error
	srv.StartTLS()
	t.Cleanup(srv.Close)
	n.dialer.route("93.184.216.34:443", srv)
	n.res.set("example.com", []string{"93.184.216.34"})
	f := n.fetcher(Config{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig})
	resp, err := f.Open(t.Context(), "https://example.com/files/error_screenshot.png")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "secure" || resp.FileName != "error_screenshot.png" {
		t.Errorf("body %q, file name %q", b, resp.FileName)
	}
	// Without the test CA the certificate is refused.
	if _, err := n.fetcher(Config{}).Open(t.Context(), "https://example.com/"); err == nil {
		t.Error("untrusted certificate accepted")
	}
}

func TestClassifyBoundaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		refused bool
	}{
		{"1.1.1.1", false},
		{"93.184.216.34", false},
		{"9.255.255.255", false},
		{"10.0.0.0", true},
		{"10.255.255.255", true},
		{"11.0.0.0", false},
		{"100.63.255.255", false},
		{"100.64.0.0", true},
		{"100.127.255.255", true},
		{"100.128.0.0", false},
		{"126.255.255.255", false},
		{"127.0.0.0", true},
		{"128.0.0.0", false},
		{"169.253.255.255", false},
		{"169.254.0.0", true},
		{"169.255.0.0", false},
		{"172.15.255.255", false},
		{"172.16.0.0", true},
		{"172.32.0.0", false},
		{"192.167.255.255", false},
		{"192.169.0.0", false},
		{"198.17.255.255", false},
		{"198.18.0.0", true},
		{"198.20.0.0", false},
		{"223.255.255.255", false},
		{"224.0.0.0", true},
		{"255.255.255.255", true},
		{"::ffff:8.8.8.8", false},
		{"::ffff:192.168.0.1", true},
		{"2606:4700::1111", false},
		{"2a00:1450:4001::200e", false},
		{"64:ff9b::808:808", false},
		{"64:ff9b::c0a8:1", true},
		{"2002:808:808::1", false},
		{"2002:a9fe:a9fe::1", true},
		{"2001::1", true},
		{"2001:200::1", false},
		{"2001:db8::", true},
		{"::2", true},
		{"1::", true},
		{"4000::1", true},
		{"fbff::1", true},
		{"fc00::", true},
		{"fe00::", true},
		{"ff00::", true},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			got := classify(netip.MustParseAddr(tc.addr))
			if (got != "") != tc.refused {
				t.Errorf("classify(%s) = %q; refused want %v", tc.addr, got, tc.refused)
			}
		})
	}
}
