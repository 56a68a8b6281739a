package egress

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestPost(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	var mu sync.Mutex
	var got []string
	n.serve(t, "93.184.216.34", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Sig")+" "+string(body))
		mu.Unlock()
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "http://hooks.example/elsewhere", http.StatusFound)
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	n.res.set("hooks.example", []string{"93.184.216.34"})
	n.res.set("internal.example", []string{"10.0.0.7"})
	f := n.fetcher(Config{})
	tests := []struct {
		name   string
		url    string
		status int
		err    error
	}{
		{"acknowledged", "http://hooks.example/hook", http.StatusNoContent, nil},
		{"refused by the subscriber", "http://hooks.example/down", http.StatusServiceUnavailable, nil},
		{"redirect not followed", "http://hooks.example/moved", http.StatusFound, nil},
		{"private address", "http://internal.example/hook", 0, ErrForbiddenAddress},
		{"loopback literal", "http://127.0.0.1/hook", 0, ErrForbiddenAddress},
	}
	for _, tt := range tests {
		status, err := f.Post(t.Context(), tt.url, http.Header{"X-Sig": {"s1"}}, []byte(`{"id":"evt_1"}`))
		if status != tt.status || !errors.Is(err, tt.err) {
			t.Errorf("%s: Post = %d, %v; want %d, %v", tt.name, status, err, tt.status, tt.err)
		}
		if err != nil && strings.Contains(err.Error(), "/hook") {
			t.Errorf("%s: error %q reveals the URL's path", tt.name, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || got[0] != `POST /hook s1 {"id":"evt_1"}` {
		t.Errorf("the subscriber saw %q, want three POSTs with header and body (no redirect followed)", got)
	}
}

// TestPostKeepAlive: a KeepAlive fetcher posts to the same host over the
// connection it checked and dialled (not one dial per POST, as without
// it), and when the host name later resolves to a forbidden address, a
// new connection is refused while no request reaches that address.
func TestPostKeepAlive(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{false, true} {
		n := newTestNet(t)
		n.serve(t, "93.184.216.34", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}))
		n.res.set("hooks.example", []string{"93.184.216.34"})
		f := n.fetcher(Config{KeepAlive: keep})
		const posts = 10
		for range posts {
			if status, err := f.Post(t.Context(), "http://hooks.example/hook", nil, []byte(`{}`)); err != nil || status != http.StatusNoContent {
				t.Fatalf("KeepAlive %v: Post = %d, %v", keep, status, err)
			}
		}
		dials := len(n.dialer.dialList())
		switch {
		case !keep && dials != posts:
			t.Errorf("without KeepAlive: %d dials for %d POSTs, want one each", dials, posts)
		case keep && dials > posts/2:
			// One is the rule; a second can be dialled when a POST starts
			// before the previous connection is back in the pool.
			t.Errorf("with KeepAlive: %d dials for %d POSTs, want the connection reused", dials, posts)
		}
		if !keep {
			continue
		}
		// The name now points inside: kept connections still go to the
		// checked public address, and a new one is refused.
		n.res.set("hooks.example", []string{"10.0.0.7"})
		f.client.CloseIdleConnections()
		if _, err := f.Post(t.Context(), "http://hooks.example/hook", nil, []byte(`{}`)); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("after the name moved to a private address: Post = %v, want %v", err, ErrForbiddenAddress)
		}
		for _, d := range n.dialer.dialList() {
			if strings.HasPrefix(d, "10.") {
				t.Errorf("dialled %s, a private address", d)
			}
		}
	}
}
