package deskactions

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
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

// listAllSetup serves h (in front of emu) on loopback and returns a registry
// and a target whose Desk client calls it, at most 4 calls at a time.
func listAllSetup(t *testing.T, emu *emulator.Emulator, h http.Handler) (*action.Registry, action.Target) {
	t.Helper()
	srv := httptest.NewServer(h)
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
	return reg, action.Target{Tenant: "t1", Conn: action.Conn{ID: "c1", Name: "demo", DefaultOrgID: emulator.DemoOrgID}, Desk: desk}
}

// TestListAllConcurrentPagesInOrder checks that all: true fetches pages
// concurrently (never more than listAllParallel, and within the client's
// limiter), returns exactly the rows page-by-page listing returns, in the
// same order, and stops within one window of the end.
func TestListAllConcurrentPagesInOrder(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{ExtraTickets: 750, Faults: []emulator.Fault{{Kind: emulator.FaultLatency, PathPrefix: "/api/v1/tickets", Latency: 20 * time.Millisecond}}})
	counter := &inFlight{next: emu}
	reg, target := listAllSetup(t, emu, counter)
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
	// 11 pages: the first alone, then up to 5 in flight (those requested
	// before the short last page arrived are past the end).
	if peak < 2 || peak > 4 {
		t.Errorf("peak concurrent page fetches = %d, want 2..4 (the client's limiter is 4)", peak)
	}
	if n < 11 || n > 11+listAllParallel-1 {
		t.Errorf("page fetches = %d, want 11..%d", n, 11+listAllParallel-1)
	}
}

// TestListAllFailsOnAPageError: a page Zoho refuses in the middle of a
// walk fails the whole call with Zoho's error (no partial list passes for
// a complete one), and the walk ends: no request is left running, and
// none was started more than a window past the refused page, however
// slowly its refusal came.
func TestListAllFailsOnAPageError(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{ExtraTickets: 1750})
	var mu sync.Mutex
	var froms []string
	// The refusal of page 300 waits until every page the walk may request
	// while it waits for page 300 has been answered: answers that arrive
	// while a page is outstanding must not move the window on without end.
	last := 300 + (2*listAllParallel-1)*zohodesk.MaxLimitTickets
	behind := make(map[string]bool)
	for from := 400; from <= last; from += zohodesk.MaxLimitTickets {
		behind[strconv.Itoa(from)] = true
	}
	behindServed := make(chan struct{})
	refuse := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/tickets" {
			emu.ServeHTTP(w, r)
			return
		}
		from := r.URL.Query().Get("from")
		mu.Lock()
		froms = append(froms, from)
		mu.Unlock()
		if from == "300" {
			select {
			case <-behindServed:
			case <-r.Context().Done():
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			w.Write([]byte(`{"errorCode":"INVALID_DATA","message":"page refused by the test"}`))
			return
		}
		emu.ServeHTTP(w, r)
		mu.Lock()
		defer mu.Unlock()
		if behind[from] {
			if delete(behind, from); len(behind) == 0 {
				close(behindServed)
			}
		}
	})
	reg, target := listAllSetup(t, emu, refuse)
	_, err := reg.Invoke(t.Context(), target, "list_tickets", json.RawMessage(`{"all":true}`), action.InvokeOptions{})
	if err == nil || !strings.Contains(err.Error(), "page refused by the test") {
		t.Fatalf("all: true over a refused page = %v, want Zoho's error", err)
	}
	// Invoke returned, so every request of the walk has ended (close waits
	// for them). While page 300 was outstanding at most twice
	// listAllParallel pages from it on were requested; after its refusal,
	// none.
	mu.Lock()
	defer mu.Unlock()
	for _, f := range froms {
		if n, _ := strconv.Atoi(f); n > last {
			t.Errorf("page from=%s requested, past the window of the refused page 300 (last %d; requests: %v)", f, last, froms)
		}
	}
}

// creatingDuringWalk creates perPage new tickets, through the emulator's
// own API, just before it serves each GET /api/v1/tickets: a busy desk
// whose tickets arrive while list_tickets walks its pages.
type creatingDuringWalk struct {
	emu     *emulator.Emulator
	token   string
	perPage int
	mu      sync.Mutex
	created []string
	sortBys []string
}

func (c *creatingDuringWalk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/api/v1/tickets" {
		c.mu.Lock()
		c.sortBys = append(c.sortBys, r.URL.Query().Get("sortBy"))
		if _, ok := r.URL.Query()["sortOrder"]; ok {
			c.sortBys = append(c.sortBys, "sortOrder sent!")
		}
		for range c.perPage {
			body := `{"subject":"arrived during the walk","departmentId":"` + emulator.DemoDepartmentID + `","contactId":"` + emulator.DemoContactID + `"}`
			req := httptest.NewRequest(http.MethodPost, "/api/v1/tickets", strings.NewReader(body))
			req.Header.Set("Authorization", "Zoho-oauthtoken "+c.token)
			req.Header.Set("orgId", emulator.DemoOrgID)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			c.emu.ServeHTTP(rec, req)
			var v struct{ ID string }
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
				c.mu.Unlock()
				http.Error(w, "test could not create a ticket: "+rec.Body.String(), http.StatusInternalServerError)
				return
			}
			c.created = append(c.created, v.ID)
		}
		c.mu.Unlock()
	}
	c.emu.ServeHTTP(w, r)
}

// TestListAllWhileTicketsAreCreated: issue 10 item 1. Whatever the order,
// all: true returns every ticket that existed when the walk started exactly
// once, in the documented order, always sends an explicit sortBy and never
// sortOrder, and says in "walk" what it did.
func TestListAllWhileTicketsAreCreated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		input     string
		wantOrder string
		parallel  bool
		newest    bool
	}{
		{"default: oldest first, parallel", `{"all":true}`, "createdTime", true, false},
		{"desc: newest first, one page at a time", `{"all":true,"sortOrder":"desc"}`, "-createdTime", false, true},
		{"-ticketNumber", `{"all":true,"params":{"sortBy":"-ticketNumber"}}`, "-ticketNumber", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := emulator.New(emulator.Options{ExtraTickets: 430})
			_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, allScopes)
			if err != nil {
				t.Fatal(err)
			}
			// The tickets that exist before the walk, oldest first.
			var before []string
			for from := 0; ; from += 100 {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/tickets?sortBy=createdTime&limit=100&from="+itoa(from), nil)
				req.Header.Set("Authorization", "Zoho-oauthtoken "+access)
				req.Header.Set("orgId", emulator.DemoOrgID)
				rec := httptest.NewRecorder()
				emu.ServeHTTP(rec, req)
				if rec.Code == http.StatusNoContent {
					break
				}
				var page struct{ Data []struct{ ID string } }
				if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
					t.Fatal(err)
				}
				for _, r := range page.Data {
					before = append(before, r.ID)
				}
			}
			creator := &creatingDuringWalk{emu: emu, token: access, perPage: 7}
			srv := httptest.NewServer(creator)
			t.Cleanup(srv.Close)
			desk, err := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken(access)})
			if err != nil {
				t.Fatal(err)
			}
			reg := action.NewRegistry(action.Options{})
			reg.Add(All(Deps{})...)
			target := action.Target{Tenant: "t1", Conn: action.Conn{ID: "c1", Name: "demo", DefaultOrgID: emulator.DemoOrgID}, Desk: desk}
			raw, err := reg.Invoke(t.Context(), target, "list_tickets", json.RawMessage(tt.input), action.InvokeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if verr := reg.Lookup("list_tickets").ValidateOutput(raw); verr != nil {
				t.Fatalf("output does not match its schema: %v", verr)
			}
			var out ListOutput
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatal(err)
			}
			var got []string
			seen := map[string]bool{}
			for _, r := range out.Data {
				var v struct{ ID string }
				if err := json.Unmarshal(r, &v); err != nil {
					t.Fatal(err)
				}
				if seen[v.ID] {
					t.Fatalf("ticket %s returned twice", v.ID)
				}
				seen[v.ID] = true
				got = append(got, v.ID)
			}
			creator.mu.Lock()
			created, sortBys := slices.Clone(creator.created), slices.Clone(creator.sortBys)
			creator.mu.Unlock()
			for _, s := range sortBys {
				if s != tt.wantOrder {
					t.Fatalf("a page was asked with sortBy %q, want %q on every page", s, tt.wantOrder)
				}
			}
			// Every ticket that existed before is there exactly once, in order.
			isNew := map[string]bool{}
			for _, id := range created {
				isNew[id] = true
			}
			var old []string
			for _, id := range got {
				if !isNew[id] {
					old = append(old, id)
				}
			}
			want := slices.Clone(before)
			if tt.newest {
				slices.Reverse(want)
			}
			if !slices.Equal(old, want) {
				t.Fatalf("the %d tickets that existed before came back as %d rows, or out of order", len(want), len(old))
			}
			if !tt.newest && !slices.Equal(got[:len(before)], before) {
				t.Errorf("oldest first: tickets created during the walk are not all after the existing ones")
			}
			if out.Walk == nil || out.Walk.Order != tt.wantOrder || out.Walk.Parallel != tt.parallel || out.Walk.Note == "" {
				t.Fatalf("walk = %+v, want order %s parallel %v and a note", out.Walk, tt.wantOrder, tt.parallel)
			}
			if tt.newest && out.Walk.DuplicatesDropped == 0 {
				t.Errorf("newest first with tickets arriving: no duplicate dropped, so nothing shifted; the test does not test")
			}
			if !tt.newest && out.Walk.DuplicatesDropped != 0 {
				t.Errorf("oldest first dropped %d duplicates; new tickets must not shift pages", out.Walk.DuplicatesDropped)
			}
			if out.Count != len(got) || out.Truncated {
				t.Errorf("count = %d, truncated = %v for %d rows", out.Count, out.Truncated, len(got))
			}
		})
	}
}

// TestListTicketsAlwaysSendsSortBy: Zoho's default order (newest first) is
// not list_tickets' documented default (oldest first), so every page names
// its order; sortOrder is never forwarded.
func TestListTicketsAlwaysSendsSortBy(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{})
	_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, allScopes)
	if err != nil {
		t.Fatal(err)
	}
	queries := make(chan url.Values, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/tickets" {
			queries <- r.URL.Query()
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	desk, err := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken(access)})
	if err != nil {
		t.Fatal(err)
	}
	reg := action.NewRegistry(action.Options{})
	reg.Add(All(Deps{})...)
	target := action.Target{Tenant: "t1", Conn: action.Conn{ID: "c1", Name: "demo", DefaultOrgID: emulator.DemoOrgID}, Desk: desk}
	for _, tc := range []struct{ input, want string }{
		{`{}`, "createdTime"},
		{`{"sortOrder":"asc"}`, "createdTime"},
		{`{"sortOrder":"-"}`, "-createdTime"},
		{`{"sortOrder":"desc"}`, "-createdTime"},
		{`{"params":{"sortBy":"dueDate"}}`, "dueDate"},
		{`{"params":{"sortBy":"dueDate"},"sortOrder":"desc"}`, "-dueDate"},
		{`{"params":{"sortBy":"-recentThread"}}`, "-recentThread"},
	} {
		if _, err := reg.Invoke(t.Context(), target, "list_tickets", json.RawMessage(tc.input), action.InvokeOptions{}); err != nil {
			t.Fatalf("%s: %v", tc.input, err)
		}
		if q := <-queries; q.Get("sortBy") != tc.want || q.Has("sortOrder") {
			t.Errorf("%s: query %v, want sortBy=%s and no sortOrder", tc.input, q, tc.want)
		}
	}
}
