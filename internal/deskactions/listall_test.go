package deskactions

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// inFlight counts concurrent GET /api/v1/tickets requests.
type inFlight struct {
	next http.Handler
	mu   sync.Mutex
	now  int
	peak int
	n    int
}

func (f *inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/api/v1/tickets" {
		f.next.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	f.now++
	f.n++
	f.peak = max(f.peak, f.now)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.now--; f.mu.Unlock() }()
	f.next.ServeHTTP(w, r)
}

// TestListAllConcurrentPagesInOrder checks that all: true fetches pages
// concurrently (never more than listAllParallel, and within the client's
// limiter), returns exactly the rows page-by-page listing returns, in the
// same order, and stops within one wave of the end.
func TestListAllConcurrentPagesInOrder(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{ExtraTickets: 750, Faults: []emulator.Fault{{Kind: emulator.FaultLatency, PathPrefix: "/api/v1/tickets", Latency: 20 * time.Millisecond}}})
	counter := &inFlight{next: emu}
	srv := httptest.NewServer(counter)
	t.Cleanup(srv.Close)
	_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, allScopes)
	if err != nil {
		t.Fatal(err)
	}
	desk, err := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken(access),
		Limiter: zohodesk.NewOrgLimiter(4, 1000, 1000)})
	if err != nil {
		t.Fatal(err)
	}
	reg := action.NewRegistry(action.Options{})
	reg.Add(All(Deps{})...)
	target := action.Target{Tenant: "t1", Conn: action.Conn{ID: "c1", Name: "demo", DefaultOrgID: emulator.DemoOrgID}, Desk: desk}
	list := func(input string) ListOutput {
		t.Helper()
		raw, err := reg.Invoke(t.Context(), target, "list_tickets", json.RawMessage(input), action.InvokeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out ListOutput
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	ids := func(rows []json.RawMessage) []string {
		var out []string
		for _, r := range rows {
			var v struct{ ID string }
			if err := json.Unmarshal(r, &v); err != nil || v.ID == "" {
				t.Fatalf("row without id: %s", r)
			}
			out = append(out, v.ID)
		}
		return out
	}

	var want []string
	for from := 0; ; {
		page := list(`{"params":{"limit":100,"from":` + itoa(from) + `}}`)
		want = append(want, ids(page.Data)...)
		if !page.HasMore {
			break
		}
		from = *page.NextFrom
	}
	if len(want) != 1050 {
		t.Fatalf("page by page: %d tickets, want 1050", len(want))
	}
	counter.mu.Lock()
	counter.peak, counter.n = 0, 0
	counter.mu.Unlock()

	all := list(`{"all":true}`)
	if got := ids(all.Data); !slices.Equal(got, want) {
		t.Fatalf("all: true returned %d ids, not the page-by-page order of %d", len(got), len(want))
	}
	if all.HasMore || all.Truncated || all.Count != 1050 {
		t.Errorf("all: hasMore=%v truncated=%v count=%d", all.HasMore, all.Truncated, all.Count)
	}
	counter.mu.Lock()
	peak, n := counter.peak, counter.n
	counter.mu.Unlock()
	// 11 pages: the first alone, then waves of 5 (the last wave's extra
	// pages are past the end).
	if peak < 2 || peak > 4 {
		t.Errorf("peak concurrent page fetches = %d, want 2..4 (the client's limiter is 4)", peak)
	}
	if n < 11 || n > 11+listAllParallel-1 {
		t.Errorf("page fetches = %d, want 11..%d", n, 11+listAllParallel-1)
	}
}
