package zohodesk

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
)

func TestTicketsCreate(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/tickets", wantReq{
		method: "POST", path: "/api/v1/tickets", org: true,
		body: `{"subject":"Printer on fire","departmentId":"1892000000006907",
		"contact":{"lastName":"Carol","firstName":"Lucas","email":"carol@zylker.com"},
		"description":"<div>It is burning</div>","priority":"High","channel":"Email",
		"cf":{"cf_modelname":"F3 2017"},"uploads":["1892000000098001"],"secondaryContacts":["1"]}`,
	}, http.StatusOK, fixture(t, "ticket.json"))

	tk, resp, err := c.Tickets.Create(t.Context(), testOrg, &TicketCreateRequest{
		Subject:      "Printer on fire",
		DepartmentID: "1892000000006907",
		Contact:      &TicketContact{LastName: "Carol", FirstName: "Lucas", Email: "carol@zylker.com"},
		Description:  "<div>It is burning</div>",
		Priority:     "High",
		Channel:      "Email",
		CF:           map[string]any{"cf_modelname": "F3 2017"},
		Uploads:      []string{"1892000000098001"},
		Extra:        map[string]any{"secondaryContacts": []string{"1"}, "subject": "ignored: typed field wins"},
	})
	if err != nil {
		t.Fatalf("Tickets.Create: %v", err)
	}
	if tk.ID != "1892000000093001" || tk.TicketNumber != "101" || tk.ThreadCount != "1" || tk.CF["cf_modelname"] != "F3 2017" {
		t.Errorf("Tickets.Create = %+v", tk)
	}
	if len(tk.Raw) == 0 || !hasKey(tk.Raw, "sharedDepartments") {
		t.Errorf("Raw does not keep unnamed fields: %s", tk.Raw)
	}
	if !resp.RateLimit.HasRemaining || resp.RateLimit.Remaining != 4999 || resp.RateLimit.Weight != 1 {
		t.Errorf("RateLimit = %+v", resp.RateLimit)
	}
}

func TestTicketsCreateValidation(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t) // the catch-all handler fails the test on any request
	for name, req := range map[string]*TicketCreateRequest{
		"nil":          nil,
		"no subject":   {DepartmentID: "1", ContactID: "2"},
		"no dept":      {Subject: "s", ContactID: "2"},
		"no contact":   {Subject: "s", DepartmentID: "1"},
		"empty inline": {Subject: "s", DepartmentID: "1", Contact: &TicketContact{FirstName: "x"}},
	} {
		if _, _, err := c.Tickets.Create(t.Context(), testOrg, req); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Tickets.Create error = %v, want ErrInvalid", name, err)
		}
	}
	if _, _, err := c.Tickets.Create(t.Context(), "", &TicketCreateRequest{Subject: "s", DepartmentID: "1", ContactID: "2"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty orgID: error = %v, want ErrInvalid", err)
	}
}

func TestTicketsGet(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/tickets/1892000000093001", wantReq{
		method: "GET", path: "/api/v1/tickets/1892000000093001", org: true, query: q("include", "contacts,assignee"),
	}, http.StatusOK, fixture(t, "ticket.json"))
	tk, _, err := c.Tickets.Get(t.Context(), testOrg, "1892000000093001", &TicketGetOptions{Include: "contacts,assignee"})
	if err != nil {
		t.Fatalf("Tickets.Get: %v", err)
	}
	if tk.Subject != "Printer on fire" || tk.Description != "<div>It is burning</div>" || tk.AssigneeID != "" {
		t.Errorf("Tickets.Get = %+v", tk)
	}
}

func TestTicketsGetNotFound(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/tickets/42", wantReq{method: "GET", path: "/api/v1/tickets/42", org: true}, http.StatusNotFound, fixture(t, "errors/url_not_found.json"))
	tk, _, err := c.Tickets.Get(t.Context(), testOrg, "42", nil)
	if tk != nil || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Tickets.Get = %v, %v; want nil, ErrNotFound", tk, err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != CodeURLNotFound || apiErr.Method != "GET" || apiErr.Path != "/api/v1/tickets/42" {
		t.Errorf("APIError = %+v", apiErr)
	}
}

func TestTicketsGetRefusesBadIDs(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t)
	for _, id := range []string{"", ".", ".."} {
		if _, _, err := c.Tickets.Get(t.Context(), testOrg, id, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Tickets.Get(%q) error = %v, want ErrInvalid", id, err)
		}
	}
}

func TestTicketsUpdate(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/tickets/7", wantReq{
		method: "PATCH", path: "/api/v1/tickets/7", org: true, query: q("disableClosureNotification", "true"),
		body: `{"status":"Closed","assigneeId":null,"cf":{"cf_serial":null},"customFields":{"x":null}}`,
	}, http.StatusOK, fixture(t, "ticket.json"))
	tk, _, err := c.Tickets.Update(t.Context(), testOrg, "7", &TicketUpdateRequest{
		Status:     Set("Closed"),
		AssigneeID: Null[string](),
		CF:         map[string]any{"cf_serial": nil},
		Extra:      map[string]any{"customFields": map[string]any{"x": nil}},
	}, &TicketUpdateOptions{DisableClosureNotification: true})
	if err != nil {
		t.Fatalf("Tickets.Update: %v", err)
	}
	if tk.ID != "1892000000093001" {
		t.Errorf("Tickets.Update id = %q", tk.ID)
	}
	if _, _, err := c.Tickets.Update(t.Context(), testOrg, "7", &TicketUpdateRequest{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty update error = %v, want ErrInvalid", err)
	}
}

func TestTicketsMoveToTrash(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/tickets/moveToTrash", wantReq{
		method: "POST", path: "/api/v1/tickets/moveToTrash", org: true, body: `{"ticketIds":["1","2"]}`,
	}, http.StatusNoContent, "")
	resp, err := c.Tickets.MoveToTrash(t.Context(), testOrg, []string{"1", "2"})
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("Tickets.MoveToTrash = %v, %v", resp, err)
	}
	for _, ids := range [][]string{nil, {""}} {
		if _, err := c.Tickets.MoveToTrash(t.Context(), testOrg, ids); !errors.Is(err, ErrInvalid) {
			t.Errorf("MoveToTrash(%q) error = %v, want ErrInvalid", ids, err)
		}
	}
}

func TestTicketsList(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/tickets", wantReq{
		method: "GET", path: "/api/v1/tickets", org: true,
		query: q("from", "10", "limit", "5", "departmentId", "9", "assignee", "Unassigned", "status", "Open,On Hold", "sortBy", "-createdTime", "include", "contacts"),
	}, http.StatusOK, fixture(t, "tickets.json"))
	got, _, err := c.Tickets.List(t.Context(), testOrg, &TicketListOptions{
		ListOptions: ListOptions{From: 10, Limit: 5}, DepartmentID: "9", Assignee: "Unassigned",
		Status: "Open,On Hold", SortBy: "-createdTime", Include: "contacts",
	})
	if err != nil {
		t.Fatalf("Tickets.List: %v", err)
	}
	if len(got) != 1 || got[0].ID != "1892000000093001" || !hasKey(got[0].Raw, "lastThread") {
		t.Errorf("Tickets.List = %+v", got)
	}
}

// TestTicketsListRaw: ListRaw sends what List sends and returns each ticket
// as the bytes Zoho sent (List's Raw), for an empty list too.
func TestTicketsListRaw(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	want := wantReq{method: "GET", path: "/api/v1/tickets", org: true, query: q("from", "10", "limit", "5", "status", "Open")}
	serve(t, mux, "/api/v1/tickets", want, http.StatusOK, fixture(t, "tickets.json"))
	opts := &TicketListOptions{ListOptions: ListOptions{From: 10, Limit: 5}, Status: "Open"}
	raw, _, err := c.Tickets.ListRaw(t.Context(), testOrg, opts)
	if err != nil {
		t.Fatalf("Tickets.ListRaw: %v", err)
	}
	typed, _, err := c.Tickets.List(t.Context(), testOrg, opts)
	if err != nil || len(raw) != 1 || len(typed) != 1 || string(raw[0]) != string(typed[0].Raw) {
		t.Fatalf("ListRaw = %s, List = %+v (%v); want the same object", raw, typed, err)
	}
	if _, _, err := c.Tickets.ListRaw(t.Context(), "", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("ListRaw without an org: %v, want ErrInvalid", err)
	}

	c2, mux2, _ := setup(t)
	serve(t, mux2, "/api/v1/tickets", wantReq{method: "GET", path: "/api/v1/tickets", org: true}, http.StatusNoContent, "")
	if got, _, err := c2.Tickets.ListRaw(t.Context(), testOrg, nil); err != nil || len(got) != 0 {
		t.Fatalf("ListRaw of 204 = %s, %v; want empty", got, err)
	}
}

// TestTicketsListRawBodies: ListRaw keeps each row's bytes, drops null
// rows, and refuses what segjson.Unmarshal refuses (trailing data, a
// malformed row, a data member that is not a list) with a *DecodeError.
func TestTicketsListRawBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want []string // nil: a *DecodeError
	}{
		{`{"data":[{"id":"1"}, null ,{"id":"2","x":[1, 2]}]}`, []string{`{"id":"1"}`, `{"id":"2","x":[1, 2]}`}},
		{`{"data":null}`, []string{}},
		{`{"data":[]} `, []string{}},
		{`{"data":[{"id":"1"}]} {}`, nil},
		{`{"data":[{"id":"1"}]}x`, nil},
		{`{"data":[{"id":}]}`, nil},
		{`{"data":{"id":"1"}}`, nil},
	} {
		c, mux, _ := setup(t)
		mux.HandleFunc("/api/v1/tickets", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, tc.body)
		})
		got, _, err := c.Tickets.ListRaw(t.Context(), testOrg, nil)
		if tc.want == nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("ListRaw of %s = %s, %v; want a *DecodeError", tc.body, got, err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ListRaw of %s = %s, %v; want %q", tc.body, got, err, tc.want)
			continue
		}
		for i := range got {
			if string(got[i]) != tc.want[i] {
				t.Errorf("ListRaw of %s: row %d = %s, want %s", tc.body, i, got[i], tc.want[i])
			}
		}
		// Rows share the body: appending to one must not write over the next.
		if len(got) == 2 {
			grown := append(got[0], `XXXXXXXXXXXX`...)
			if string(got[1]) != tc.want[1] || string(grown[:len(got[0])]) != tc.want[0] {
				t.Errorf("ListRaw of %s: appending to row 0 changed row 1 to %s", tc.body, got[1])
			}
		}
	}
}

func TestTicketsListEmpty204(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/tickets", wantReq{method: "GET", path: "/api/v1/tickets", org: true}, http.StatusNoContent, "")
	got, resp, err := c.Tickets.List(t.Context(), testOrg, nil)
	if err != nil || len(got) != 0 || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("Tickets.List = %v, %v, %v; want empty", got, resp, err)
	}
}

func TestTicketsListLimitOutOfRange(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t)
	for _, lo := range []ListOptions{{Limit: MaxLimitTickets + 1}, {Limit: -1}, {From: -1}} {
		if _, _, err := c.Tickets.List(t.Context(), testOrg, &TicketListOptions{ListOptions: lo}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Tickets.List(%+v) error = %v, want ErrInvalid", lo, err)
		}
	}
}

func TestTicketsSearch(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/tickets/search", wantReq{
		method: "GET", path: "/api/v1/tickets/search", org: true,
		query: q("subject", "Print*", "status", "${OPEN}", "_all", "fire", "customField1", "cf_modelname:F3", "limit", "10", "sortBy", "relevance"),
	}, http.StatusOK, fixture(t, "tickets_search.json"))
	res, _, err := c.Tickets.Search(t.Context(), testOrg, &TicketSearchOptions{
		ListOptions: ListOptions{Limit: 10}, Subject: "Print*", Status: "${OPEN}", All: "fire",
		CustomFields: []string{"cf_modelname:F3"}, SortBy: "relevance",
	})
	if err != nil {
		t.Fatalf("Tickets.Search: %v", err)
	}
	if res.Count != "1" || len(res.Tickets) != 1 {
		t.Errorf("Tickets.Search = %+v", res)
	}
	if _, _, err := c.Tickets.Search(t.Context(), testOrg, &TicketSearchOptions{ListOptions: ListOptions{From: MaxFromSearch + 1}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("search beyond the window: error = %v, want ErrInvalid", err)
	}
}

// pagedTickets serves total tickets in pages and records the from values.
func pagedTickets(t *testing.T, mux *http.ServeMux, pattern string, total int, froms *[]int) {
	t.Helper()
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		from, _ := strconv.Atoi(r.URL.Query().Get("from"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		*froms = append(*froms, from)
		if from >= total {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		body := `{"data":[`
		for i := from; i < min(from+limit, total); i++ {
			if i > from {
				body += ","
			}
			body += `{"id":"` + strconv.Itoa(i) + `"}`
		}
		w.Write([]byte(body + `]}`))
	})
}

func TestTicketsListAll(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var froms []int
	pagedTickets(t, mux, "/api/v1/tickets", 5, &froms)
	var ids []string
	for tk, err := range c.Tickets.ListAll(t.Context(), testOrg, &TicketListOptions{ListOptions: ListOptions{Limit: 2}}) {
		if err != nil {
			t.Fatalf("ListAll: %v", err)
		}
		ids = append(ids, tk.ID)
	}
	if len(ids) != 5 || ids[4] != "4" {
		t.Errorf("ListAll ids = %v", ids)
	}
	if want := []int{0, 2, 4}; !equalInts(froms, want) {
		t.Errorf("pages fetched from %v, want %v", froms, want)
	}
}

func TestTicketsListAllExactMultipleEndsOn204(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var froms []int
	pagedTickets(t, mux, "/api/v1/tickets", 4, &froms)
	n := 0
	for _, err := range c.Tickets.ListAll(t.Context(), testOrg, &TicketListOptions{ListOptions: ListOptions{Limit: 2}}) {
		if err != nil {
			t.Fatalf("ListAll: %v", err)
		}
		n++
	}
	if n != 4 || !equalInts(froms, []int{0, 2, 4}) {
		t.Errorf("got %d items from pages %v", n, froms)
	}
}

func TestTicketsListAllBreakStopsFetching(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var froms []int
	pagedTickets(t, mux, "/api/v1/tickets", 100, &froms)
	n := 0
	for range c.Tickets.ListAll(t.Context(), testOrg, &TicketListOptions{ListOptions: ListOptions{Limit: 2}}) {
		n++
		if n == 3 {
			break
		}
	}
	if !equalInts(froms, []int{0, 2}) {
		t.Errorf("after break at item 3, pages fetched from %v, want [0 2]", froms)
	}
}

func TestTicketsListAllStopsOnCancel(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var froms []int
	pagedTickets(t, mux, "/api/v1/tickets", 100, &froms)
	ctx, cancel := contextWithCancel(t)
	var lastErr error
	n := 0
	for _, err := range c.Tickets.ListAll(ctx, testOrg, &TicketListOptions{ListOptions: ListOptions{Limit: 2}}) {
		if err != nil {
			lastErr = err
			break
		}
		n++
		if n == 2 {
			cancel()
		}
	}
	if !errors.Is(lastErr, errCanceled) || n != 2 || len(froms) != 1 {
		t.Errorf("after cancel: err = %v, items = %d, pages = %v", lastErr, n, froms)
	}
}

func TestTicketsSearchAllStopsAtWindow(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var froms []int
	pagedTickets(t, mux, "/api/v1/tickets/search", 5000, &froms)
	n := 0
	for _, err := range c.Tickets.SearchAll(t.Context(), testOrg, &TicketSearchOptions{ListOptions: ListOptions{From: 900}}) {
		if err != nil {
			t.Fatalf("SearchAll: %v", err)
		}
		n++
	}
	if n != 100 || froms[len(froms)-1] > MaxFromSearch {
		t.Errorf("SearchAll got %d items, pages %v", n, froms)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTicketAssignee(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       string // AssigneeObject, "" for nil
	}{
		{"object", `{"id":"1","assignee":{"id":"7","firstName":"Ann","email":"ann@zylker.com"}}`, `{"id":"7","firstName":"Ann","email":"ann@zylker.com"}`},
		{"null", `{"id":"1","assignee":null}`, ""},
		{"absent", `{"id":"1"}`, ""},
		{"beside a number where Zoho's strings are", `{"id":"1","threadCount":3,"assignee":{"id":"7"}}`, `{"id":"7"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tk Ticket
			if err := json.Unmarshal([]byte(tc.body), &tk); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if got := string(tk.AssigneeObject()); got != tc.want {
				t.Errorf("AssigneeObject() = %q, want %q", got, tc.want)
			}
		})
	}
}
