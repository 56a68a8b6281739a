package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/web"
)

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startDemo(t *testing.T) (*demo.Demo, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	d, err := demo.Start(t.Context(), demo.Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d, logs
}

func dumpStore(t *testing.T, d *demo.Demo) []byte {
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

// do sends one REST request with an API key and decodes its JSON answer.
func do(t *testing.T, method, u, key, body string) (*http.Response, map[string]any) {
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
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, u, b)
		}
	}
	return resp, out
}

// startReplica starts a second server with the console on the demo's
// store and manager, as a second replica behind a load balancer would be.
// Its clock is now's value.
func startReplica(t *testing.T, d *demo.Demo, now *atomic.Pointer[time.Time]) (*web.Console, string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv, err := restapi.New(restapi.Options{
		Manager: d.Manager, APIKeys: apikey.New(d.Store), BaseURL: base,
		Now: func() time.Time { return *now.Load() },
	})
	if err != nil {
		t.Fatal(err)
	}
	console, err := web.Mount(srv, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	return console, base
}
