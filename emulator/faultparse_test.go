package emulator_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
)

func TestParseFault(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want emulator.Fault
	}{
		{`{"kind":"status","status":503,"pathPrefix":"/api/v1/tickets","times":3}`,
			emulator.Fault{Kind: emulator.FaultStatus, Status: 503, PathPrefix: "/api/v1/tickets", Times: 3}},
		{`{"kind":"latency","latency":"250ms"}`, emulator.Fault{Kind: emulator.FaultLatency, Latency: 250 * time.Millisecond}},
		{`{"kind":"latency","latency":2000000}`, emulator.Fault{Kind: emulator.FaultLatency, Latency: 2 * time.Millisecond}},
		{`{"kind":"status","status":429,"retryAfter":7,"errorCode":"TOO_MANY_REQUESTS","method":"post"}`,
			emulator.Fault{Kind: emulator.FaultStatus, Status: 429, RetryAfter: 7, ErrorCode: "TOO_MANY_REQUESTS", Method: "POST"}},
		{`{"kind":"slow_body","slowChunkDelay":"5ms","latency":"1s"}`,
			emulator.Fault{Kind: emulator.FaultSlowBody, SlowChunkDelay: 5 * time.Millisecond, Latency: time.Second}},
		{` {"kind":"reset_before"} `, emulator.Fault{Kind: emulator.FaultResetBeforeBody}},
		{`{"kind":"wrong_content_type","status":401}`, emulator.Fault{Kind: emulator.FaultWrongContentType, Status: 401}},
	}
	for _, tc := range good {
		got, err := emulator.ParseFault([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("ParseFault(%s) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	bad := []struct{ in, want string }{
		{``, "empty"},
		{`{"kind":"status"`, "invalid JSON"},
		{`[1]`, "JSON object"},
		{`{}`, `"kind" is missing`},
		{`{"kind":"explode"}`, `"kind" "explode" is unknown: use one of latency, status`},
		{`{"kind":"status","stauts":500}`, `unknown key "stauts"`},
		{`{"kind":"status","status":"500"}`, `"status" must be a JSON number, not string`},
		{`{"kind":"status","status":42}`, `"status" 42 is not an HTTP status`},
		{`{"kind":"latency","latency":"soon"}`, `"latency" "soon" is not a duration`},
		{`{"kind":"latency","latency":-5}`, `"latency" -5ns is negative`},
		{`{"kind":"latency","latency":true}`, `"latency" true is not a duration`},
		{`{"kind":"latency"}`, `needs "latency"`},
		{`{"kind":"status","times":-1}`, `"times" is -1`},
		{`{"kind":"status","pathPrefix":"api/v1"}`, `"pathPrefix" "api/v1" must start with /`},
		{`{"kind":"status","method":"FETCH"}`, `"method" "FETCH" is not an HTTP method`},
		{`{"kind":"latency","latency":"1s","status":500}`, `"status" applies to kinds status and wrong_content_type`},
		{`{"kind":"reset_after","errorCode":"X"}`, `"errorCode" applies to kind status`},
		{`{"kind":"slow_body","retryAfter":3}`, `"retryAfter" applies to kind status`},
		{`{"kind":"status","retryAfter":-3}`, `"retryAfter" is -3`},
		{`{"kind":"status","slowChunkDelay":"1ms"}`, `"slowChunkDelay" applies to kind slow_body`},
		{`{"kind":"status"} {"kind":"status"}`, "found more after it"},
	}
	for _, tc := range bad {
		_, err := emulator.ParseFault([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFault(%s) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestAdminFaultErrorNamesTheKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	resp, err := http.Post(e.srv.URL+"/__emulator/faults", "application/json", strings.NewReader(`{"kind":"status","status":"500"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `\"status\" must be a JSON number`) {
		t.Fatalf("bad fault: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Post(e.srv.URL+"/__emulator/faults", "application/json", strings.NewReader(`{"kind":"status","status":418,"times":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 418, "INTERNAL_SERVER_ERROR")
	wantStatus(t, e.do("GET", "/api/v1/myinfo", nil), 200, "")
}

// seedFullAgents counts the demo org's active, non-light agents (SEED.md:
// admin, jane, Jade, Lucas, Maya and the unconfirmed Sam; Omar is light and
// Priya disabled). Credits per day grow with them (facts §2.5).
const seedFullAgents = 6

func TestEditionLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts                emulator.Options
		credits, concurrent int
	}{
		{emulator.Options{}, 100000 + 1000*seedFullAgents, 25},
		{emulator.Options{Edition: "FREE"}, 5000, 5},
		{emulator.Options{Edition: "PROFESSIONAL"}, 75000 + 500*seedFullAgents, 15},
		{emulator.Options{Edition: "FREE", DailyCredits: 12, MaxConcurrent: 2}, 12, 2},
	} {
		e := newEnv(t, tc.opts)
		lim, ok := e.emu.Limits(emulator.DemoOrgID)
		if !ok || lim.DailyCredits != tc.credits || lim.MaxConcurrent != tc.concurrent {
			t.Errorf("%+v: limits %+v, want %d credits, %d concurrent", tc.opts, lim, tc.credits, tc.concurrent)
		}
		r := e.do("GET", "/api/v1/myinfo", nil)
		if got := r.header.Get("X-Rate-Limit-Remaining-v3"); got != strconv.Itoa(tc.credits-1) {
			t.Errorf("%+v: remaining = %s, want %d", tc.opts, got, tc.credits-1)
		}
		if tc.opts.Edition != "" {
			r := e.do("GET", "/api/v1/organizations", nil)
			if !strings.Contains(string(r.body), `"edition":"`+tc.opts.Edition+`"`) {
				t.Errorf("organizations does not show edition %s: %s", tc.opts.Edition, r.body)
			}
		}
	}
	if _, ok := emulator.New(emulator.Options{}).Limits("nope"); ok {
		t.Error("Limits of an unknown org reported ok")
	}
}

func TestParseEdition(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"free": "FREE", " Enterprise ": "ENTERPRISE", "ZOHOONE": "ZOHOONE"} {
		if got, err := emulator.ParseEdition(in); err != nil || got != want {
			t.Errorf("ParseEdition(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := emulator.ParseEdition("ULTIMATE"); err == nil || !strings.Contains(err.Error(), "FREE, EXPRESS, STANDARD, PROFESSIONAL, ENTERPRISE, ZOHOONE") {
		t.Errorf("ParseEdition(ULTIMATE) error = %v", err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"free"`) {
			t.Errorf("New with a lower-case edition: recovered %v, want a panic naming it", r)
		}
	}()
	emulator.New(emulator.Options{Edition: "free"})
}
