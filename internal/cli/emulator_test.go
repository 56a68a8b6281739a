package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestEmulatorCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"emulator", "--addr", "127.0.0.1:0", "--client-id", "1000.TEST", "--client-secret", "s3cret",
			"--redirect-uri", "http://127.0.0.1:9/cb", "--auto-consent"}, strings.NewReader(""), &out, io.Discard, func(string) string { return "" })
	}()
	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatalf("no base URL printed: %q", out.String())
	}
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
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
