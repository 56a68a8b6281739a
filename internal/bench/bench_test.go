package bench

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
)

// TestRunAllTiny runs every scenario once with tiny sizes and checks that
// the report has every field with sane values. It never checks timings
// against thresholds: the bench measures, it does not assert.
func TestRunAllTiny(t *testing.T) {
	cfg := Config{
		Scenarios: []string{"all"}, Latency: 2 * time.Millisecond, Concurrency: 2, Requests: 4, Duration: 20 * time.Second,
		ZeroLatencyRequests: 5, SizeMB: 1, Tickets: 450, Storm: 20, FanIn: 30, FanInLimit: OrgConcurrency,
	}
	r, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}

	if r.Machine.GoVersion == "" || r.Machine.CPUs < 1 || r.Settings.Emulator != "in-process" || r.Settings.LatencyMs != 2 {
		t.Errorf("machine/settings = %+v %+v", r.Machine, r.Settings)
	}

	o := r.Overhead
	if o == nil || len(o.Rows) != 18 {
		t.Fatalf("overhead = %+v, want 3 calls × 6 paths", o)
	}
	if o.MCPFloorP50Ms <= 0 {
		t.Errorf("MCP SDK floor p50 = %v ms, want a measured time", o.MCPFloorP50Ms)
	}
	// Both sides of the floor's ratio wait the 2 ms latency.
	if o.MCPFloorRatioP50 <= 0 {
		t.Errorf("MCP SDK floor ratio = %v, want a measured ratio", o.MCPFloorRatioP50)
	}
	if o.ProxyFloorRatioP50 <= 0 {
		t.Errorf("proxy floor ratio = %v, want a measured ratio", o.ProxyFloorRatioP50)
	}
	for i, row := range o.Rows {
		wantPath := []string{PathBare, PathClient, PathRegistry, PathREST, PathMCP, PathMCPBytes}[i%6]
		wantCall := []string{"get_ticket", "list_tickets", "create_ticket"}[i/6]
		if row.Path != wantPath || row.Call != wantCall {
			t.Errorf("row %d is %s/%s, want %s/%s", i, row.Call, row.Path, wantCall, wantPath)
		}
		if row.OK != cfg.Requests || row.Errors != 0 {
			t.Errorf("%s/%s: ok %d errors %d (%s), want %d ok", row.Call, row.Path, row.OK, row.Errors, row.FirstError, cfg.Requests)
		}
		// Every call waits for the emulated latency at least.
		if row.P50Ms < 2 || row.P99Ms < row.P50Ms || row.Throughput <= 0 || row.RatioP50 <= 0 {
			t.Errorf("%s/%s: implausible figures %+v", row.Call, row.Path, row)
		}
		if row.Path == PathBare && (row.RatioP50 != 1 || row.AddedP50Ms != 0) {
			t.Errorf("%s baseline: ratio %v added %v, want 1 and 0", row.Call, row.RatioP50, row.AddedP50Ms)
		}
	}

	if s := r.RefreshStorm; s == nil || s.Actions != 20 || s.OK != 20 || s.Errors != 0 || s.TokenEndpointCalls != 1 || s.DurationMs <= 0 {
		t.Errorf("refresh-storm = %+v, want 20 ok actions and exactly 1 token call", s)
	}

	a := r.Attachment
	if a == nil || a.SizeMiB != 1 || len(a.Rows) != 2 || a.Path != PathREST || a.GoalMiB != AttachmentGoalMiB {
		t.Fatalf("attachment = %+v", a)
	}
	for i, row := range a.Rows {
		if row.Source != []string{"url", "base64"}[i] || row.Result != "ok" || row.UploadedBytes != 1<<20 ||
			row.MBPerSec <= 0 || row.DurationMs <= 0 || row.AllocatedMiB <= 0 || row.PeakHeapGrowthMiB < 0 || !row.GoalMet {
			t.Errorf("attachment row %d = %+v", i, row)
		}
	}

	e := r.Export
	if e == nil || e.Tickets != 750 || e.PageByPage.Tickets != 750 || e.All.Tickets != 750 {
		t.Fatalf("export = %+v, want 750 tickets both ways", e)
	}
	// 750 tickets: 8 pages of 100, one call each, page by page.
	if e.PageByPage.Actions != 8 || e.PageByPage.DeskCalls != 8 || e.All.Actions != 1 || e.All.DeskCalls < 8 || e.Speedup <= 0 {
		t.Errorf("export = %+v", e)
	}

	// overhead-0ms runs whatever the run's latency: none, one in flight.
	z := r.OverheadZero
	if z == nil || len(z.Rows) != 18 || z.LatencyMs != 0 || z.Concurrency != 1 || z.Requests != 5 || o.LatencyMs != 2 || o.Concurrency != 2 || o.Requests != 4 {
		t.Fatalf("overhead-0ms = %+v, overhead settings %v/%v/%v: want 18 rows of 5 calls, 0 ms, 1 in flight", z, o.LatencyMs, o.Concurrency, o.Requests)
	}
	for _, row := range z.Rows {
		if row.OK != 5 || row.Errors != 0 || (row.Path == PathMCP && row.AddedP50Ms <= 0) {
			t.Errorf("overhead-0ms %s/%s: %+v", row.Call, row.Path, row)
		}
	}

	f := r.FanIn
	if f == nil || f.Actions != 30 || f.EmulatorLimit != OrgConcurrency || f.OK != 30 || f.Errors != 0 || f.TooManyRequests != 0 || f.Throughput <= 0 {
		t.Errorf("fan-in = %+v, want 30 ok and no TOO_MANY_REQUESTS", f)
	}

	// Every goal is listed; at this run's 2 ms latency only the
	// attachment's and (by overhead-0ms) MCP's added time are judged (the
	// ratio and export goals are set for 50 ms).
	measured := map[string]bool{GoalAttachmentHeap: true, GoalMCPAdded: true}
	var ids []string
	for _, g := range r.Goals {
		ids = append(ids, g.ID)
		if g.Measured != measured[g.ID] || g.Limit <= 0 || g.Goal == "" || g.Detail == "" {
			t.Errorf("goal %+v: want measured = %v, a limit, a text and a detail", g, measured[g.ID])
		}
		if g.Measured && g.Figure <= 0 && g.ID != GoalAttachmentHeap {
			t.Errorf("goal %s measured %v", g.ID, g.Figure)
		}
	}
	if want := []string{GoalRESTRatio, GoalMCPRatio, GoalMCPAdded, GoalMCPCPU, GoalExportSpeedup, GoalAttachmentHeap, GoalMCPStart}; strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("goals %v, want %v", ids, want)
	}

	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"overhead:", "refresh-storm:", "attachment:", "export:", "fan-in:", "p50 ratio", "mcp", "all: true", "goals:", "mcp-added-0ms", "not measured", "overhead-0ms: the same without latency, 1 in flight, 5 calls each"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back map[string]json.RawMessage
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"machine", "settings", "overhead", "overheadZeroLatency", "refreshStorm", "attachment", "export", "fanIn", "goals"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON report lacks %q", k)
		}
	}
}

func TestRunRefusesUnknownScenario(t *testing.T) {
	t.Parallel()
	if _, err := Run(t.Context(), Config{Scenarios: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "unknown scenario") {
		t.Errorf("Run(nope) = %v, want an unknown scenario error", err)
	}
}

func TestStackRefusesNonLoopbackEmulator(t *testing.T) {
	t.Parallel()
	// Refused before any dial.
	if _, err := NewStack(t.Context(), StackOptions{EmulatorURL: "http://192.0.2.1:8443"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("NewStack(non-loopback) = %v, want a loopback error", err)
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	d := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, d(i))
	}
	tests := []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{d(7)}, 99, d(7)},
		{hundred, 50, d(50)},
		{hundred, 99, d(99)},
		{hundred, 100, d(100)},
		{[]time.Duration{d(1), d(2), d(3)}, 50, d(2)},
	}
	for _, tt := range tests {
		if got := percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("percentile(%d samples, %v) = %v, want %v", len(tt.in), tt.p, got, tt.want)
		}
	}
}

// TestRunAgainstExternalEmulator drives an emulator through its URL and
// admin endpoints only, as `deskconn bench --emulator URL` does.
func TestRunAgainstExternalEmulator(t *testing.T) {
	emu := emulator.New(emulator.Options{AutoConsent: true, MaxConcurrent: OrgConcurrency})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	r, err := Run(t.Context(), Config{
		Scenarios: []string{ScenarioRefreshStorm, ScenarioFanIn, ScenarioExport}, EmulatorURL: srv.URL,
		Latency: time.Millisecond, Storm: 10, FanIn: 20, Tickets: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Settings.Emulator != srv.URL {
		t.Errorf("settings.emulator = %q", r.Settings.Emulator)
	}
	if s := r.RefreshStorm; s.OK != 10 || s.TokenEndpointCalls != 1 {
		t.Errorf("refresh-storm = %+v", s)
	}
	if f := r.FanIn; f.OK != 20 || f.TooManyRequests != 0 || f.EmulatorLimit != 0 {
		t.Errorf("fan-in = %+v", f)
	}
	// The seeded demo org: 300 tickets either way.
	if e := r.Export; e.Tickets != 300 || e.PageByPage.Tickets != 300 || e.All.Tickets != 300 {
		t.Errorf("export = %+v", e)
	}
	// The bench talked to this emulator, not one of its own.
	if emu.RefreshTokenCount(emulator.DemoClientID, emulator.DemoUser) == 0 {
		t.Error("no refresh token was issued by the external emulator")
	}
}

// TestAttachmentMemoryGoal runs the attachment scenario with a 64 MiB file
// (85 MiB of base64 sent to the REST API): both uploads must reach the
// Desk upload endpoint whole with the memory goal met. It bounds what the
// process allocated during each upload, which bounds the peak heap growth
// whatever the garbage collector's timing.
func TestAttachmentMemoryGoal(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 64 MiB twice")
	}
	// Not parallel: the measure is process-wide.
	r, err := Run(t.Context(), Config{Scenarios: []string{ScenarioAttachment}, ZeroLatency: true, SizeMB: 64})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range r.Attachment.Rows {
		t.Logf("%s: allocated %.1f MiB, peak heap growth %.1f MiB", row.Source, row.AllocatedMiB, row.PeakHeapGrowthMiB)
		if row.Result != "ok" || row.UploadedBytes != 64<<20 || row.AllocatedMiB >= AttachmentGoalMiB || !row.GoalMet {
			t.Errorf("%s upload of 64 MiB: %+v, want it whole with under %d MiB allocated", row.Source, row, AttachmentGoalMiB)
		}
	}
}
