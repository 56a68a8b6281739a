package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseJSONObject: the body decoder never panics, and what it accepts is
// a JSON object.
func FuzzParseJSONObject(f *testing.F) {
	for _, s := range []string{`{"subject":"x","departmentId":"1"}`, `{}`, `null`, `[]`, `{"a":1} {}`, ``, `{"contact":{"email":"a@b"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseJSONObject(data)
		if err != nil {
			return
		}
		if !json.Valid(bytes.TrimSpace(data)) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		for name := range b.fields {
			b.str(name, 10)
			b.strList(name, 3)
			b.object(name)
			b.timeField(name)
		}
	})
}

// FuzzParseFilePart: the multipart reader never panics and respects the cap.
func FuzzParseFilePart(f *testing.F) {
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--B--\r\n"), "B")
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--B--\r\n"), "B")
	f.Add([]byte("garbage"), "B")
	f.Fuzz(func(t *testing.T, data []byte, boundary string) {
		if boundary == "" {
			return
		}
		_, _, got, err := parseFilePart(bytes.NewReader(data), boundary, 64)
		if err == nil && len(got) > 64 {
			t.Fatalf("returned %d bytes over the 64-byte cap", len(got))
		}
	})
}

// FuzzDeskQuery drives the whole Desk stack with arbitrary query strings:
// every answer is 200/204/404/422 with a JSON body (or none for 204).
func FuzzDeskQuery(f *testing.F) {
	for _, s := range []string{"from=0&limit=10", "limit=101", "assignee=Unassigned&status=Open,Closed", "sortBy=-dueDate", "include=contacts,bogus",
		"fields=subject", "receivedInDays=15", "from=-1", "subject=Refund*", "status=${OPEN}"} {
		f.Add("tickets", s)
	}
	f.Add("agents", "searchStr=*jade*&fieldName=emailId&sortOrder=desc")
	f.Add("tickets/search", "createdTimeRange=2020-01-01T00:00:00.000Z,2030-01-01T00:00:00.000Z")
	f.Add("contacts/search", "email=${notempty}&sortBy=-createdTime")
	f.Add("accounts", "from=1&limit=5&sortBy=-accountName")
	f.Add("accounts/search", "accountName=Zylker*&_all=retail")
	f.Add("contacts/"+DemoContactID+"/tickets", "sortBy=-createdTime&include=assignee")
	f.Add("articles/search", "_all=printer e-42&categoryId="+DemoRootCategoryID+"&sortBy=-modifiedTime")
	f.Add("kbRootCategories/"+DemoRootCategoryID+"/categoryTree", "sortBy=name")
	clock := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	e := New(Options{Now: clock, DailyCredits: 1 << 30})
	_, access, err := e.MintToken(DemoClientID, DemoUser, DemoOrgID, []string{"Desk.tickets.ALL", "Desk.search.READ", "Desk.basic.READ", "Desk.contacts.READ", "Desk.articles.READ"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, query string) {
		if strings.ContainsAny(path, "?#%") {
			return
		}
		u := &url.URL{Path: "/api/v1/" + path, RawQuery: query}
		req := httptest.NewRequest("GET", "http://emu.test/", nil)
		req.URL = u
		req.RequestURI = u.String()
		req.Header.Set("Authorization", "Zoho-oauthtoken "+access)
		req.Header.Set("orgId", DemoOrgID)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNoContent:
			if rec.Body.Len() != 0 {
				t.Fatalf("204 with body")
			}
		case http.StatusOK, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusMethodNotAllowed:
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%d with invalid JSON %q", rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("unexpected status %d: %s", rec.Code, rec.Body.String())
		}
	})
}

// FuzzCreateTicketBody: any JSON body gives 200 (a valid ticket) or a Zoho
// error, never a panic, and a rejected body stores nothing.
func FuzzCreateTicketBody(f *testing.F) {
	f.Add(`{"subject":"x","departmentId":"1892000000006907","contactId":"1892000000042032"}`)
	f.Add(`{"subject":"x","departmentId":"1892000000006907","contact":{"email":"z@z.org"},"uploads":["1"]}`)
	f.Add(`{"subject":null,"dueDate":"nope","cf":[]}`)
	f.Add(`{"subject":"x","departmentId":1892000000006907,"contactId":"1892000000042032","secondaryContacts":[1,"a",{}]}`)
	clock := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	e := New(Options{Now: clock, DailyCredits: 1 << 30})
	_, access, err := e.MintToken(DemoClientID, DemoUser, DemoOrgID, []string{"Desk.tickets.ALL"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		before := e.TicketCount(DemoOrgID)
		req := httptest.NewRequest("POST", "http://emu.test/api/v1/tickets", strings.NewReader(body))
		req.Header.Set("Authorization", "Zoho-oauthtoken "+access)
		req.Header.Set("orgId", DemoOrgID)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		after := e.TicketCount(DemoOrgID)
		if rec.Code == http.StatusOK {
			if after != before+1 {
				t.Fatalf("200 but count %d -> %d", before, after)
			}
			return
		}
		if after != before {
			t.Fatalf("status %d but a ticket was stored", rec.Code)
		}
		var zerr zohoError
		if err := json.Unmarshal(rec.Body.Bytes(), &zerr); err != nil || zerr.ErrorCode == "" {
			t.Fatalf("status %d without a Zoho error body: %q", rec.Code, rec.Body.String())
		}
	})
}

// FuzzParseFault: any input either parses to a fault that would be accepted
// again from its own JSON, or fails with an error that starts with the
// operation; it never panics.
func FuzzParseFault(f *testing.F) {
	for _, s := range []string{`{"kind":"status","status":503,"times":2}`, `{"kind":"latency","latency":"250ms","pathPrefix":"/api/v1/"}`,
		`{"kind":"slow_body","slowChunkDelay":1000000}`, `{"kind":"bogus"}`, `{"kind":"status","status":"x"}`, `[]`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		flt, err := ParseFault(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "parse fault: ") {
				t.Fatalf("error %q does not say what failed", err)
			}
			return
		}
		if !validFaultKind(flt.Kind) || flt.Times < 0 || flt.Latency < 0 || flt.SlowChunkDelay < 0 || flt.RetryAfter < 0 {
			t.Fatalf("accepted an invalid fault %+v from %q", flt, data)
		}
		again, err := json.Marshal(flt)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := ParseFault(again); err != nil || back != flt {
			t.Fatalf("%+v does not round-trip through %s: %+v, %v", flt, again, back, err)
		}
	})
}
