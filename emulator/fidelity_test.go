package emulator_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"github.com/deskconn/deskconn/emulator"
)

// The tests in this file hold the emulator to answers recorded from the
// live Zoho Desk and Zoho Accounts (docs/architecture.md, "Facts"; the
// emulator package doc names the source of each).

// ticketNumbers returns the ticketNumber of every row of a ticket list.
func ticketNumbers(t *testing.T, r result) []string {
	t.Helper()
	wantStatus(t, r, 200, "")
	var out []string
	for _, row := range r.json(t)["data"].([]any) {
		out = append(out, row.(map[string]any)["ticketNumber"].(string))
	}
	return out
}

// TestTicketListDefaultOrderIsNewestFirst: without sortBy, GET /tickets
// lists createdTime descending, as a live recording shows.
func TestTicketListDefaultOrderIsNewestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	created := e.do("POST", "/api/v1/tickets", map[string]any{"subject": "Newest", "departmentId": emulator.DemoDepartmentID, "contactId": emulator.DemoContactID})
	wantStatus(t, created, 200, "")
	newest := created.json(t)["ticketNumber"].(string)

	tests := []struct {
		name, query string
		newestFirst bool
	}{
		{"no sortBy", "", true},
		{"-createdTime", "&sortBy=-createdTime", true},
		{"createdTime", "&sortBy=createdTime", false},
		{"ticketNumber", "&sortBy=ticketNumber", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ticketNumbers(t, e.do("GET", "/api/v1/tickets?limit=50"+tc.query, nil))
			if (got[0] == newest) != tc.newestFirst {
				t.Fatalf("first row #%s, newest #%s, want newest first = %v", got[0], newest, tc.newestFirst)
			}
			for i := 1; i < len(got); i++ {
				if desc := len(got[i]) < len(got[i-1]) || (len(got[i]) == len(got[i-1]) && got[i] < got[i-1]); desc != tc.newestFirst {
					t.Fatalf("rows %s then %s: not in the expected order (newest first = %v)", got[i-1], got[i], tc.newestFirst)
				}
			}
		})
	}
	// Paging walks the same order: the second page continues the first.
	first := ticketNumbers(t, e.do("GET", "/api/v1/tickets?limit=2", nil))
	second := ticketNumbers(t, e.do("GET", "/api/v1/tickets?from=2&limit=2", nil))
	all := ticketNumbers(t, e.do("GET", "/api/v1/tickets?limit=4", nil))
	if got := append(first, second...); len(got) != 4 || got[0] != all[0] || got[2] != all[2] || got[3] != all[3] {
		t.Fatalf("pages %v + %v, want %v", first, second, all)
	}
}

// TestTokenThrottleAnswer: the 11th token request within 10 minutes gets
// Zoho's throttle answer, HTTP 400 with the recorded body.
func TestTokenThrottleAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	rt, _, err := e.emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.basic.READ"})
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {emulator.DemoClientID}, "client_secret": {emulator.DemoClientSecret}, "refresh_token": {rt}}
	for i := range 10 {
		if r := e.postForm("/oauth/v2/token", form); r.status != 200 || r.json(t)["access_token"] == nil {
			t.Fatalf("refresh %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := e.postForm("/oauth/v2/token", form)
	if r.status != 400 {
		t.Fatalf("throttled refresh: status %d, want 400; body %s", r.status, r.body)
	}
	want := map[string]any{"error": "Access Denied", "status": "failure",
		"error_description": "You have made too many requests continuously. Please try again after some time."}
	if got := r.json(t); !maps.Equal(got, want) {
		t.Fatalf("throttled refresh body = %v, want %v", got, want)
	}
}

// TestTokenPrefixPerDataCentre: tokens and codes start with the four
// digits of their DC: "1000." in us, "1005." in in (a live India token).
func TestTokenPrefixPerDataCentre(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{DataCenters: emulator.ZohoDataCenters(), OrgLocations: map[string]string{emulator.SecondOrgID: "in"}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	shape := regexp.MustCompile(`^(\d{4})\.[0-9a-f]{32}\.[0-9a-f]{32}$`)
	tests := []struct {
		org, deskHost, prefix string
	}{
		{emulator.DemoOrgID, "desk.zoho.com", "1000"},
		{emulator.SecondOrgID, "desk.zoho.in", "1005"},
	}
	for _, tc := range tests {
		refresh, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, tc.org, []string{"Desk.basic.READ"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{refresh, access} {
			if m := shape.FindStringSubmatch(tok); m == nil || m[1] != tc.prefix {
				t.Errorf("org %s: token %.9s… does not start with %s.", tc.org, tok, tc.prefix)
			}
		}
		req := httptest.NewRequest("GET", srv.URL+"/api/v1/myinfo", nil)
		req.RequestURI, req.Host = "", tc.deskHost
		req.Header.Set("Authorization", "Zoho-oauthtoken "+access)
		req.Header["orgId"] = []string{tc.org}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("org %s at %s: status %d, want 200", tc.org, tc.deskHost, resp.StatusCode)
		}
	}
}
