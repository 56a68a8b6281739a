package egresstest_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/egress/egresstest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestInternet(t *testing.T) {
	t.Parallel()
	inet := egresstest.New(t)
	addr := inet.Handle("Example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		fmt.Fprintf(w, "%s %s", scheme, r.URL.Path)
	}))
	inet.Resolve("internal.example", "10.0.0.7")
	f := egress.New(inet.Config(egress.Config{}))

	for _, tc := range []struct{ url, want string }{
		{"https://example.com/files/error_screenshot.png", "https /files/error_screenshot.png"},
		{"http://example.com/a", "http /a"},
	} {
		resp, err := f.Open(t.Context(), tc.url)
		if err != nil {
			t.Fatalf("Open(%s): %v", tc.url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tc.want {
			t.Errorf("Open(%s) body = %q; want %q", tc.url, b, tc.want)
		}
	}
	if _, err := f.Open(t.Context(), "https://internal.example/"); !errors.Is(err, egress.ErrForbiddenAddress) {
		t.Errorf("private name: %v; want ErrForbiddenAddress", err)
	}
	if _, err := f.Open(t.Context(), "https://unknown.example/"); err == nil {
		t.Error("unknown host fetched")
	}
	want := []string{addr.String() + ":443", addr.String() + ":80"}
	if got := inet.Dials(); !slices.Equal(got, want) {
		t.Errorf("Dials() = %v; want %v (nothing else is dialled)", got, want)
	}
	if got := inet.Lookups(); len(got) != 4 {
		t.Errorf("Lookups() = %v; want 4", got)
	}
	// A fetcher without this Internet's CA refuses the test certificate.
	plain := inet.Config(egress.Config{})
	plain.TLSClientConfig = nil
	if _, err := egress.New(plain).Open(t.Context(), "https://example.com/"); err == nil {
		t.Error("certificate from the test CA accepted without trusting it")
	}
}
