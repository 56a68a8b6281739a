package filedata

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/egress/egresstest"
	"go.uber.org/goleak"
)

// payload has bytes that encode to '+' and '/' (so the URL-safe alphabet
// differs) and a length that needs padding.
var payload = []byte("hello, world\x00\xfb\xff\xbf\xfe and more!\n")

func wrapLines(s string, width int) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width])
		b.WriteString("\r\n")
		s = s[width:]
	}
	b.WriteString(s)
	return b.String()
}

func readAll(t *testing.T, f *File) []byte {
	t.Helper()
	defer f.Body.Close()
	b, err := io.ReadAll(f.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return b
}

func TestOpenBase64(t *testing.T) {
	t.Parallel()
	std := base64.StdEncoding.EncodeToString(payload)
	if !strings.ContainsAny(std, "+/") || !strings.HasSuffix(std, "=") {
		t.Fatalf("payload does not exercise the alphabets and padding: %s", std)
	}
	tests := []struct {
		name, data, fileName, wantType string
	}{
		{"standard padded", std, "a.txt", "text/plain; charset=utf-8"},
		{"standard raw", base64.RawStdEncoding.EncodeToString(payload), "a.txt", "text/plain; charset=utf-8"},
		{"url-safe padded", base64.URLEncoding.EncodeToString(payload), "a.txt", "text/plain; charset=utf-8"},
		{"url-safe raw", base64.RawURLEncoding.EncodeToString(payload), "a.txt", "text/plain; charset=utf-8"},
		{"wrapped lines", wrapLines(std, 8), "a.txt", "text/plain; charset=utf-8"},
		{"spaces and tabs", " \t" + std[:5] + " " + std[5:9] + "\t\n" + std[9:] + "\n ", "a.txt", "text/plain; charset=utf-8"},
		{"data URL", "data:application/x-custom;base64," + std, "a.txt", "application/x-custom"},
		{"data URL with params", "data:text/csv;charset=utf-8;base64," + std, "a.bin", "text/csv;charset=utf-8"},
		{"data URL upper case", "  DATA:image/png;BASE64," + wrapLines(std, 10), "", "image/png"},
		{"data URL no type", "data:;base64," + std, "report.pdf", "application/pdf"},
		{"data URL octet-stream", "data:application/octet-stream;base64," + std, "report.pdf", "application/pdf"},
		{"no name no type", std, "", "application/octet-stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Open(t.Context(), tc.data, tc.fileName, Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if f.Size != int64(len(payload)) || f.Source != SourceBase64 || f.ContentType != tc.wantType {
				t.Errorf("file = {Size %d, Source %q, ContentType %q}; want {%d, base64, %q}", f.Size, f.Source, f.ContentType, len(payload), tc.wantType)
			}
			wantName := tc.fileName
			if wantName == "" {
				wantName = "attachment"
			}
			if f.Name != wantName {
				t.Errorf("Name = %q; want %q", f.Name, wantName)
			}
			if got := readAll(t, f); !bytes.Equal(got, payload) {
				t.Errorf("body = %q; want %q", got, payload)
			}
		})
	}
}

func TestOpenInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		data   string
		kind   error
		offset int64
	}{
		{"foreign character", "QUJD!", ErrInvalidBase64, 4},
		{"after whitespace", "QU JD\nQUJD\n!!", ErrInvalidBase64, 11},
		{"non-ASCII", "QUJD\u00e9", ErrInvalidBase64, 4},
		{"percent-encoded", "QUJD%3D", ErrInvalidBase64, 4},
		{"data after padding", "QQ==QQ==", ErrInvalidBase64, 4},
		{"three pads", "QQ===", ErrInvalidBase64, 4},
		{"wrong padding", "QQ=", ErrInvalidBase64, 2},
		{"padding without data", "QUJD=", ErrInvalidBase64, 4},
		{"truncated", "QUJDR", ErrInvalidBase64, 5},
		{"truncated with newline", "QUJD\nR\n", ErrInvalidBase64, 7},
		{"data URL bad char", "data:text/plain;base64,QUJD*", ErrInvalidBase64, 27},
		{"data URL leading space", "  data:text/plain;base64,*", ErrInvalidBase64, 25},
		{"data URL no comma", "data:image/png;base64", ErrInvalidBase64, 21},
		{"data URL not base64", "data:text/plain,hello", ErrUnsupported, -1},
		{"data URL empty", "data:text/plain;base64,", ErrEmpty, -1},
		{"empty", "", ErrEmpty, -1},
		{"blank", " \n\t", ErrEmpty, -1},
		{"only padding", "==", ErrInvalidBase64, 0},
		{"other scheme", "ftp://files.example/a.png", ErrUnsupported, -1},
		{"file scheme", "file:///etc/passwd", ErrUnsupported, -1},
		{"URL without fetcher", "https://files.example/a.png", ErrUnsupported, -1},
		{"spec sample with ellipsis", "JVBERi0xLjQKJeLjz9MKMyAwIG9...", ErrInvalidBase64, 27},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Open(t.Context(), tc.data, "x.bin", Options{})
			if err == nil {
				f.Body.Close()
				t.Fatalf("Open(%q) succeeded; want %v", tc.data, tc.kind)
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, tc.kind) {
				t.Fatalf("Open(%q) = %v; want an *Error of kind %v", tc.data, err, tc.kind)
			}
			if e.Offset != tc.offset {
				t.Errorf("Offset = %d; want %d (%v)", e.Offset, tc.offset, err)
			}
			if tc.offset >= 0 && !strings.Contains(e.Message, "byte offset "+strconv.FormatInt(tc.offset, 10)) {
				t.Errorf("message %q does not name offset %d", e.Message, tc.offset)
			}
			fe, ok := FieldError("/fileData", err)
			if !ok || fe.Pointer != "/fileData" || fe.Code != "invalid" || fe.Message != e.Message {
				t.Errorf("FieldError = %+v, %v", fe, ok)
			}
		})
	}
	if _, ok := FieldError("/fileData", errors.New("other")); ok {
		t.Error("FieldError accepted an error that is not an *Error")
	}
}

// TestStreamingValidation bypasses the eager scan: the stream itself
// reports a bad character with its offset, after yielding the good prefix.
func TestStreamingValidation(t *testing.T) {
	t.Parallel()
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("abc"), 2000)) // 8000 chars
	got, err := io.ReadAll(newDecoder(good+"!AAA", 100))
	var e *Error
	if !errors.As(err, &e) || e.Offset != 8100 || !errors.Is(err, ErrInvalidBase64) {
		t.Fatalf("stream error = %v; want ErrInvalidBase64 at offset 8100", err)
	}
	if len(got) == 0 || !bytes.Equal(got, bytes.Repeat([]byte("abc"), 2000)[:len(got)]) {
		t.Errorf("streamed %d bytes before the error; want a correct prefix", len(got))
	}
}

func TestTooLarge(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte{7}, 101)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		_, err := Open(t.Context(), enc.EncodeToString(data), "a.bin", Options{MaxBytes: 100})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "101 bytes") {
			t.Errorf("101 bytes with a 100-byte cap: %v; want ErrTooLarge naming the size", err)
		}
		f, err := Open(t.Context(), enc.EncodeToString(data[:100]), "a.bin", Options{MaxBytes: 100})
		if err != nil {
			t.Fatalf("exactly the cap: %v", err)
		}
		if got := readAll(t, f); len(got) != 100 {
			t.Errorf("read %d bytes", len(got))
		}
	}
}

func TestSniff(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	tests := []struct {
		declared, name string
		head           []byte
		want           string
	}{
		{"image/gif", "a.png", png, "image/gif"},
		{"text/plain; charset=latin1", "", nil, "text/plain; charset=latin1"},
		{"application/octet-stream", "a.pdf", nil, "application/pdf"},
		{"not a type", "a.PNG", nil, "image/png"},
		{"", "a.json", nil, "application/json"},
		{"", "blob", png, "image/png"},
		{"", "blob.unknown-ext-xyz", []byte("plain words"), "text/plain; charset=utf-8"},
		{"", "", []byte{0, 1, 2, 3}, "application/octet-stream"},
	}
	for _, tc := range tests {
		if got := Sniff(tc.declared, tc.name, tc.head); got != tc.want {
			t.Errorf("Sniff(%q, %q, %q) = %q; want %q", tc.declared, tc.name, tc.head, got, tc.want)
		}
	}
}

// TestSniffPeekDoesNotConsume: the type comes from the content and the body
// still starts at byte 0.
func TestSniffPeekDoesNotConsume(t *testing.T) {
	t.Parallel()
	content := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0xAB}, 3000)...)
	f, err := Open(t.Context(), base64.StdEncoding.EncodeToString(content), "blob", Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if f.ContentType != "image/png" {
		t.Errorf("ContentType = %q", f.ContentType)
	}
	if got := readAll(t, f); !bytes.Equal(got, content) {
		t.Errorf("body differs from the content (len %d vs %d)", len(got), len(content))
	}
}

// TestStreamingMemoryFlat decodes 4 MiB and checks the allocations stay
// far below the file's size: the decoded file is never held in memory.
func TestStreamingMemoryFlat(t *testing.T) {
	const size = 4 << 20
	encoded := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("0123456789abcdef"), size/16))
	mime.TypeByExtension(".bin") // load the system MIME table (a one-time cost) before measuring
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := Open(t.Context(), encoded, "big.bin", Options{MaxBytes: size})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	n, err := io.Copy(io.Discard, f.Body)
	f.Body.Close()
	runtime.ReadMemStats(&after)
	if err != nil || n != size || f.Size != size {
		t.Fatalf("copied %d bytes (Size %d), err %v; want %d", n, f.Size, err, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
		t.Errorf("decoding %d bytes allocated %d bytes; want under 64 KiB", size, alloc)
	}
}

// BenchmarkOpenBase64 streams a 50 MB file; B/op and allocs/op stay flat
// (a few KiB) whatever the size.
func BenchmarkOpenBase64(b *testing.B) {
	const size = 50 << 20
	encoded := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("0123456789abcdef"), size/16))
	mime.TypeByExtension(".bin") // load the system MIME table (a one-time cost) first
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		f, err := Open(b.Context(), encoded, "big.bin", Options{MaxBytes: size})
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, f.Body); err != nil || n != size {
			b.Fatalf("copied %d, %v", n, err)
		}
		f.Body.Close()
	}
}

// urlEnv is a loopback file server that an egress.Fetcher may reach (by the
// test-only allow list), plus a loopback canary it may not.
type urlEnv struct {
	srv, canary *httptest.Server
	canaryHits  atomic.Int64
	fetcher     *egress.Fetcher
}

func newURLEnv(t *testing.T, fetcherMax int64) *urlEnv {
	t.Helper()
	e := &urlEnv{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("status") != "" {
			code, _ := strconv.Atoi(q.Get("status"))
			w.WriteHeader(code)
			return
		}
		if ct := q.Get("type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if cd := q.Get("cd"); cd != "" {
			w.Header().Set("Content-Disposition", cd)
		}
		size, _ := strconv.Atoi(q.Get("size"))
		if q.Get("stream") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		w.Write(bytes.Repeat([]byte("z"), size))
		if q.Get("stream") != "" {
			w.(http.Flusher).Flush() // no Content-Length
		}
	}))
	t.Cleanup(e.srv.Close)
	e.canary = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.canaryHits.Add(1)
	}))
	t.Cleanup(e.canary.Close)
	e.fetcher = egress.New(egress.Config{
		UnsafeAllowLoopback: []string{e.srv.Listener.Addr().String()},
		MaxBytes:            fetcherMax,
	})
	return e
}

func TestOpenURL(t *testing.T) {
	t.Parallel()
	e := newURLEnv(t, 0)
	opts := Options{Fetcher: e.fetcher, MaxBytes: 1000}

	f, err := Open(t.Context(), " "+strings.Replace(e.srv.URL, "http", "HTTP", 1)+"/files/pic.gif?size=600&type=image/gif\n", "", opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if f.Source != SourceURL || f.Size != 600 || f.Name != "pic.gif" || f.ContentType != "image/gif" {
		t.Errorf("file = %+v", f)
	}
	if got := readAll(t, f); len(got) != 600 {
		t.Errorf("read %d bytes; want 600", len(got))
	}

	// The given name wins; unknown length is -1; the type falls back to the name.
	f, err = Open(t.Context(), e.srv.URL+"/x?size=10&stream=1&type=application/octet-stream", "report.pdf", opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if f.Name != "report.pdf" || f.ContentType != "application/pdf" || f.Size != -1 {
		t.Errorf("file = %+v", f)
	}
	readAll(t, f)

	// Announced over our cap (below the fetcher's): refused up front.
	_, err = Open(t.Context(), e.srv.URL+"/x?size=1001", "a.bin", opts)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1001 bytes") {
		t.Errorf("Content-Length over the cap: %v", err)
	}
	// Streamed over our cap: the body fails with an *Error.
	f, err = Open(t.Context(), e.srv.URL+"/x?size=5000&stream=1", "a.bin", opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := io.ReadAll(f.Body)
	f.Body.Close()
	var fe *Error
	if !errors.As(err, &fe) || !errors.Is(err, ErrTooLarge) || len(got) != 1000 {
		t.Errorf("streamed over the cap: read %d bytes, err %v; want 1000 then ErrTooLarge", len(got), err)
	}
}

func TestOpenURLErrors(t *testing.T) {
	t.Parallel()
	e := newURLEnv(t, 600)
	opts := Options{Fetcher: e.fetcher, MaxBytes: 1000}
	_, canaryPort, _ := net.SplitHostPort(e.canary.Listener.Addr().String())
	tests := []struct {
		name, url string
		kinds     []error
		advice    string
	}{
		{"loopback canary", "http://127.0.0.1:" + canaryPort + "/", []error{ErrFetch, egress.ErrForbiddenAddress}, "publicly reachable"},
		{"metadata", "http://169.254.169.254/latest/meta-data/", []error{ErrFetch, egress.ErrForbiddenAddress}, "publicly reachable"},
		{"decimal loopback", "http://2130706433:" + canaryPort + "/", []error{ErrFetch, egress.ErrForbiddenAddress}, "publicly reachable"},
		{"credentials", "https://user:pw@files.example/a", []error{ErrFetch, egress.ErrInvalidURL}, "without credentials"},
		{"not found", e.srv.URL + "/x?status=404", []error{ErrFetch, egress.ErrStatus}, "answers with the file"},
		{"over the fetcher's cap", e.srv.URL + "/x?size=601", []error{ErrTooLarge, egress.ErrTooLarge}, "smaller file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(t.Context(), tc.url, "a.bin", opts)
			for _, k := range tc.kinds {
				if !errors.Is(err, k) {
					t.Errorf("Open = %v; want it to match %v", err, k)
				}
			}
			if fe, ok := FieldError("/fileData", err); !ok || !strings.Contains(fe.Message, tc.advice) {
				t.Errorf("field error %+v; want a message containing %q", fe, tc.advice)
			}
		})
	}
	if h := e.canaryHits.Load(); h != 0 {
		t.Errorf("canary got %d requests; want 0", h)
	}
	// Streaming past the fetcher's (smaller) cap fails mid-body as an *Error.
	f, err := Open(t.Context(), e.srv.URL+"/x?size=900&stream=1", "a.bin", opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	_, err = io.ReadAll(f.Body)
	f.Body.Close()
	var fe *Error
	if !errors.As(err, &fe) || !errors.Is(err, ErrTooLarge) || !errors.Is(err, egress.ErrTooLarge) {
		t.Errorf("stream past the fetcher cap: %v", err)
	}
}

func ExampleOpen() {
	f, err := Open(context.Background(), "data:text/plain;base64,aGVsbG8=", "hello.txt", Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Body.Close()
	b, _ := io.ReadAll(f.Body)
	fmt.Println(f.Name, f.ContentType, f.Size, f.Source, string(b))
	// Output: hello.txt text/plain 5 base64 hello
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestSpecSampleURL runs the connector spec's URL sample unchanged against
// the fake internet (nothing leaves loopback).
func TestSpecSampleURL(t *testing.T) {
	t.Parallel()
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 100)...)
	inet := egresstest.New(t)
	inet.Handle("example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/files/error_screenshot.png" {
			http.NotFound(w, r)
			return
		}
		w.Write(png)
	}))
	fetcher := egress.New(inet.Config(egress.Config{}))
	f, err := Open(t.Context(), "https://example.com/files/error_screenshot.png", "error_screenshot.png", Options{Fetcher: fetcher})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if f.Source != SourceURL || f.ContentType != "image/png" || f.Name != "error_screenshot.png" || f.Size != int64(len(png)) {
		t.Errorf("file = %+v", f)
	}
	if got := readAll(t, f); !bytes.Equal(got, png) {
		t.Errorf("body differs")
	}
}

// fakeNet resolves and dials without the network: unknown.example is not
// found by a resolver at a private address, refused.example resolves to a
// public address whose port refuses, private.example resolves to a private
// address.
type fakeNet struct{}

func (fakeNet) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	switch host {
	case "refused.example":
		return []netip.Addr{netip.MustParseAddr("93.184.216.9")}, nil
	case "private.example":
		return []netip.Addr{netip.MustParseAddr("10.1.2.3")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, Server: "10.53.0.1:53", IsNotFound: true}
}

func (fakeNet) dial(_ context.Context, network, address string) (net.Conn, error) {
	return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
}

// TestOpenURLUnreachableIsUniform checks that a refused address, an unknown
// host and a host that refuses the connection read the same to the caller
// (nothing that maps the internal network or the resolver), while the
// fetcher's log keeps the details.
func TestOpenURLUnreachableIsUniform(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	fetcher := egress.New(egress.Config{Resolver: fakeNet{}, Dialer: fakeNet{}.dial,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))})
	opts := Options{Fetcher: fetcher}
	var first string
	for _, u := range []string{"http://unknown.example/a.pdf", "http://refused.example/a.pdf",
		"http://private.example/a.pdf", "http://10.0.0.1/a.pdf", "http://169.254.169.254/latest/"} {
		_, err := Open(t.Context(), u, "a.pdf", opts)
		if !errors.Is(err, ErrFetch) {
			t.Fatalf("%s: %v; want ErrFetch", u, err)
		}
		fe, ok := FieldError("/fileData", err)
		if !ok {
			t.Fatalf("%s: %v is not a field error", u, err)
		}
		for _, leak := range []string{"10.53.0.1", "no such host", "refused", "private", "10.1.2.3", "link-local", "example"} {
			if strings.Contains(fe.Message, leak) {
				t.Errorf("%s: message %q shows %q", u, fe.Message, leak)
			}
		}
		if !strings.Contains(fe.Message, "not allowed or not reachable") {
			t.Errorf("%s: message %q", u, fe.Message)
		}
		if first == "" {
			first = fe.Message
		} else if fe.Message != first {
			t.Errorf("%s: message %q differs from %q", u, fe.Message, first)
		}
	}
	mu.Lock()
	got := logs.String()
	mu.Unlock()
	for _, detail := range []string{"no such host", "connection refused", "private"} {
		if !strings.Contains(got, detail) {
			t.Errorf("log lacks %q:\n%s", detail, got)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
