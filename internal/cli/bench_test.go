package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestBenchCommandJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	getenv := func(string) string { return "" }
	args := []string{"--data-dir", t.TempDir(), "bench", "--scenario", "refresh-storm,fan-in", "--storm", "8", "--fan-in", "12", "--latency", "1ms", "--json"}
	if code := Run(t.Context(), args, strings.NewReader(""), &stdout, &stderr, getenv); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var r struct {
		RefreshStorm *struct{ Actions, OK, TokenEndpointCalls int }
		FanIn        *struct{ Actions, OK, TooManyRequests int }
		Overhead     json.RawMessage
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout.String())
	}
	if r.RefreshStorm == nil || r.RefreshStorm.Actions != 8 || r.RefreshStorm.OK != 8 || r.RefreshStorm.TokenEndpointCalls != 1 {
		t.Errorf("refreshStorm = %+v", r.RefreshStorm)
	}
	if r.FanIn == nil || r.FanIn.Actions != 12 || r.FanIn.OK != 12 || r.FanIn.TooManyRequests != 0 {
		t.Errorf("fanIn = %+v", r.FanIn)
	}
	if r.Overhead != nil {
		t.Errorf("overhead ran though not asked for")
	}
	if !strings.Contains(stderr.String(), "running fan-in") {
		t.Errorf("no progress on stderr: %q", stderr.String())
	}
}

// overhead-0ms measures without latency and one call in flight, whatever
// --latency and --concurrency say, --zero-latency-requests calls per cell,
// and judges MCP's added time with it.
func TestBenchCommandOverheadZero(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"--data-dir", t.TempDir(), "bench", "--scenario", "overhead-0ms", "--zero-latency-requests", "3", "--concurrency", "3", "--json"}
	if code := Run(t.Context(), args, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var r struct {
		Overhead     json.RawMessage
		OverheadZero *struct {
			LatencyMs             float64
			Concurrency, Requests int
			Rows                  []struct{ OK, Errors int }
		} `json:"overheadZeroLatency"`
		Goals []struct {
			ID       string
			Measured bool
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout.String())
	}
	if z := r.OverheadZero; z == nil || z.LatencyMs != 0 || z.Concurrency != 1 || z.Requests != 3 || len(z.Rows) != 18 {
		t.Fatalf("overheadZeroLatency = %+v, want 18 rows of 3 calls at 0 ms, 1 in flight", z)
	}
	if r.Overhead != nil {
		t.Errorf("overhead ran though not asked for")
	}
	measured := map[string]bool{}
	for _, g := range r.Goals {
		measured[g.ID] = g.Measured
	}
	if !measured["mcp-added-0ms"] || measured["rest-ratio"] {
		t.Errorf("goals measured %v: want mcp-added-0ms only", measured)
	}
}

func TestBenchCommandRefusesUnknownScenario(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), []string{"--data-dir", t.TempDir(), "bench", "--scenario", "warp"}, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	if code == 0 || !strings.Contains(stderr.String(), "unknown scenario") {
		t.Errorf("exit %d, stderr %q: want a failure naming the unknown scenario", code, stderr.String())
	}
}

// The events scenario takes its sizes from --events and --event-changes
// and reports its figures in the JSON object.
func TestBenchCommandEventsJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"--data-dir", t.TempDir(), "bench", "--scenario", "events", "--events", "10", "--event-changes", "2", "--json"}
	if code := Run(t.Context(), args, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var r struct {
		Events *struct {
			Ingested, IngestStored int
			IngestPerSec           float64
			Latency                []struct {
				Setting           string
				Changes, Received int
				Result            string
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout.String())
	}
	if e := r.Events; e == nil || e.Ingested != 10 || e.IngestStored != 10 || e.IngestPerSec <= 0 || len(e.Latency) != 2 {
		t.Fatalf("events = %+v", r.Events)
	}
	for _, row := range r.Events.Latency {
		if row.Changes != 2 || row.Received != 2 || row.Result != "ok" {
			t.Errorf("%s: %+v", row.Setting, row)
		}
	}
}

// TestHelperCLIProcess is not a test: run as a child process, it is the
// deskconn command with the arguments in DESKCONN_HELPER_CLI (separated by
// newlines) and this process's standard streams.
func TestHelperCLIProcess(t *testing.T) {
	args := os.Getenv("DESKCONN_HELPER_CLI")
	if args == "" {
		t.Skip("helper process only")
	}
	os.Exit(Run(context.Background(), strings.Split(args, "\n"), os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// The mcp-start scenario starts deskconn mcp processes on the bench's data
// (here this test binary acting as deskconn), each answering its first
// tools/call, and reports their times.
func TestBenchCommandMCPStart(t *testing.T) {
	prev := benchMCPCommand
	benchMCPCommand = func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperCLIProcess$")
		cmd.Env = append(os.Environ(), "DESKCONN_HELPER_CLI="+strings.Join(args, "\n"))
		return cmd
	}
	t.Cleanup(func() { benchMCPCommand = prev })
	var stdout, stderr bytes.Buffer
	args := []string{"--data-dir", t.TempDir(), "bench", "--scenario", "mcp-start", "--mcp-starts", "2", "--mcp-cpu-calls", "40", "--json"}
	if code := Run(t.Context(), args, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var r struct {
		MCPStart *struct {
			Runs                    int
			P50Ms, MinMs            float64
			GoalMs                  float64
			CPUPerCallMs, CPUGoalMs float64
			CPUCalls                int
		}
		Goals []struct {
			ID       string
			Measured bool
			Figure   float64
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout.String())
	}
	if m := r.MCPStart; m == nil || m.Runs != 2 || m.MinMs <= 0 || m.P50Ms < m.MinMs || m.GoalMs != 100 {
		t.Fatalf("mcpStart = %+v", r.MCPStart)
	}
	// The CPU per call of a process that made 40 more calls than another.
	if m := r.MCPStart; m.CPUCalls != 40 || m.CPUPerCallMs <= 0 || m.CPUGoalMs != 0.6 {
		t.Errorf("mcp CPU: %d calls, %v ms each, goal %v; want 40 calls measured against 0.6 ms", m.CPUCalls, m.CPUPerCallMs, m.CPUGoalMs)
	}
	// The scenario's two goals are judged on its figures; the others are
	// listed as not measured.
	measured := map[string]float64{}
	for _, g := range r.Goals {
		if g.Measured {
			measured[g.ID] = g.Figure
		}
	}
	if len(r.Goals) != 7 || len(measured) != 2 || measured["mcp-start"] != r.MCPStart.P50Ms || measured["mcp-stdio-cpu"] != r.MCPStart.CPUPerCallMs {
		t.Errorf("goals = %+v, want 7 with mcp-start and mcp-stdio-cpu measured from the scenario", r.Goals)
	}
}
