// Package demotest starts the demo (server, console and emulator on
// loopback) for tests of the packages it serves, and gives those tests
// their common probes: the server's logs, a dump of its store, and a REST
// call with an API key.
package demotest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/syncbuf"
)

// LogBuffer collects log output written from several goroutines.
type LogBuffer = syncbuf.Buffer

// Start starts the demo in a temporary directory on a free loopback port,
// logging JSON to the returned buffer, and closes it when t ends.
func Start(t testing.TB) (*demo.Demo, *LogBuffer) {
	t.Helper()
	logs := &LogBuffer{}
	d, err := demo.Start(t.Context(), demo.Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d, logs
}

// Dump returns the demo store's whole content (to look for secrets in it).
func Dump(t testing.TB, d *demo.Demo) []byte {
	t.Helper()
	dumper, ok := d.Store.(interface {
		Dump(context.Context) ([]byte, error)
	})
	if !ok {
		t.Fatal("the demo store cannot dump itself")
	}
	b, err := dumper.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Do sends one REST request (with the API key, when not "") and decodes
// its JSON answer (nil for an empty body).
func Do(t testing.TB, method, u, key, body string) (*http.Response, map[string]any) {
	t.Helper()
	resp, b := Send(t, method, u, key, body)
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, u, b)
		}
	}
	return resp, out
}

// Raw sends one REST request as Do does and returns the status and the
// body as it came.
func Raw(t testing.TB, method, u, key, body string) (int, string) {
	t.Helper()
	resp, b := Send(t, method, u, key, body)
	return resp.StatusCode, string(b)
}

// Send sends method u with the API key (when not "") and a JSON body (when
// not ""), and returns the answer (its body already read and closed) and
// its body.
func Send(t testing.TB, method, u, key, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", method, u, err)
	}
	return resp, b
}
