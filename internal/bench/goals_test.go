package bench

import (
	"strings"
	"testing"
)

// overheadOf returns overhead rows for the three calls on every path, each
// path's ratio and added p50 given for get, list and create.
func overheadOf(ratios, added map[string][3]float64) *OverheadReport {
	o := &OverheadReport{Concurrency: 1, MCPFloorP50Ms: 0.2, MCPFloorRatioP50: 1.007, ProxyFloorRatioP50: 1.005}
	for i, call := range []string{"get_ticket", "list_tickets", "create_ticket"} {
		for _, path := range []string{PathBare, PathClient, PathRegistry, PathREST, PathMCP, PathMCPBytes} {
			row := OverheadRow{Call: call, Path: path, OK: 10, RatioP50: 1}
			if r, ok := ratios[path]; ok {
				row.RatioP50 = r[i]
			}
			if a, ok := added[path]; ok {
				row.AddedP50Ms = a[i]
			}
			o.Rows = append(o.Rows, row)
		}
	}
	return o
}

func goalByID(t *testing.T, goals []Goal, id string) Goal {
	t.Helper()
	for _, g := range goals {
		if g.ID == id {
			return g
		}
	}
	t.Fatalf("no goal %s in %+v", id, goals)
	return Goal{}
}

func TestJudgeGoals(t *testing.T) {
	t.Parallel()
	at50 := Settings{LatencyMs: 50, Concurrency: 4}
	at0 := Settings{LatencyMs: 0, Concurrency: 1}
	failing := overheadOf(map[string][3]float64{PathREST: {1.01, 1.01, 1.01}}, nil)
	failing.Rows[3].Errors = 1 // get_ticket over REST
	tests := []struct {
		name     string
		report   Report
		id       string
		measured bool
		met      bool
		figure   float64
		detail   string
	}{
		{"REST ratio at the limit", Report{Settings: at50, Overhead: overheadOf(map[string][3]float64{PathREST: {1.01, 1.019, 1.02}}, nil)},
			GoalRESTRatio, true, true, 1.02, "create_ticket 1.020; a proxy that does nothing 1.005"},
		{"REST ratio over", Report{Settings: at50, Overhead: overheadOf(map[string][3]float64{PathREST: {1.021, 1.0, 1.0}}, nil)},
			GoalRESTRatio, true, false, 1.021, "get_ticket 1.021"},
		{"REST ratio with a failed call", Report{Settings: at50, Overhead: failing},
			GoalRESTRatio, true, false, 1.01, "calls failed"},
		{"MCP ratio names the server's share and the SDK's", Report{Settings: at50, Overhead: overheadOf(map[string][3]float64{PathMCP: {1.03, 1.0, 1.0}, PathMCPBytes: {1.015, 1.0, 1.0}}, nil)},
			GoalMCPRatio, true, false, 1.03, "(mcp-bytes) 1.015; the floors: the SDK alone 1.007, a proxy that does nothing 1.005, both 1.012"},
		{"ratio needs the goals' latency", Report{Settings: at0, Overhead: overheadOf(nil, nil)},
			GoalRESTRatio, false, false, 0, "default latency (50ms)"},
		{"not at another latency either", Report{Settings: Settings{LatencyMs: 2, Concurrency: 4}, Overhead: overheadOf(nil, nil)},
			GoalMCPRatio, false, false, 0, "default latency"},
		{"MCP added under the limit", Report{Settings: at0, Overhead: overheadOf(nil, map[string][3]float64{PathMCP: {0.3, 0.49, 0.4}})},
			GoalMCPAdded, true, true, 0.49, "1 in flight"},
		{"MCP added at the limit is over", Report{Settings: at0, Overhead: overheadOf(nil, map[string][3]float64{PathMCP: {0.3, 0.5, 0.4}})},
			GoalMCPAdded, true, false, 0.5, "list_tickets 0.50"},
		{"MCP added needs no latency", Report{Settings: at50, Overhead: overheadOf(nil, nil)},
			GoalMCPAdded, false, false, 0, "overhead-0ms scenario (or overhead with --latency 0"},
		{"overhead-0ms judges MCP added in a 50 ms run", Report{Settings: at50, Overhead: overheadOf(nil, map[string][3]float64{PathMCP: {1, 1, 1}}),
			OverheadZero: overheadOf(nil, map[string][3]float64{PathMCP: {0.3, 0.4, 0.45}, PathMCPBytes: {0.2, 0.25, 0.3}})},
			GoalMCPAdded, true, true, 0.45, "(mcp-bytes) 0.30 ms, the SDK floor 0.20 ms; 1 in flight"},
		{"overhead-0ms rather than overhead at 0 ms", Report{Settings: at0, Overhead: overheadOf(nil, map[string][3]float64{PathMCP: {0.6, 0.6, 0.6}}),
			OverheadZero: overheadOf(nil, map[string][3]float64{PathMCP: {0.3, 0.4, 0.7}})},
			GoalMCPAdded, true, false, 0.7, "create_ticket 0.70"},
		{"export met", Report{Settings: at50, Export: &ExportReport{Tickets: 10300, Speedup: 4.6, PageByPage: ExportMethod{DeskCalls: 104}, All: ExportMethod{DeskCalls: 108}}},
			GoalExportSpeedup, true, true, 4.6, "108 against 104 (+4)"},
		{"export with a call too many", Report{Settings: at50, Export: &ExportReport{Tickets: 10300, Speedup: 4.6, PageByPage: ExportMethod{DeskCalls: 104}, All: ExportMethod{DeskCalls: 109}}},
			GoalExportSpeedup, true, false, 4.6, "(+5)"},
		{"export too slow", Report{Settings: at50, Export: &ExportReport{Tickets: 10300, Speedup: 4.49, PageByPage: ExportMethod{DeskCalls: 104}, All: ExportMethod{DeskCalls: 104}}},
			GoalExportSpeedup, true, false, 4.49, "(+0)"},
		{"export not run", Report{Settings: at50}, GoalExportSpeedup, false, false, 0, "export scenario"},
		{"export at another latency", Report{Settings: at0, Export: &ExportReport{Tickets: 10300, Speedup: 4.6, PageByPage: ExportMethod{DeskCalls: 104}, All: ExportMethod{DeskCalls: 104}}},
			GoalExportSpeedup, false, false, 0, "default latency"},
		{"stdio CPU", Report{MCPStart: &MCPStartReport{CPUPerCallMs: 0.61, CPUCalls: 2000, CPUMet: false, Runs: 20, P50Ms: 22, Met: true}},
			GoalMCPCPU, true, false, 0.61, "2000 calls"},
		{"mcp start", Report{MCPStart: &MCPStartReport{CPUPerCallMs: 0.5, CPUCalls: 2000, CPUMet: true, Runs: 20, P50Ms: 22, Met: true}},
			GoalMCPStart, true, true, 22, "20 runs"},
		{"attachment: the worst upload counts", Report{Attachment: &AttachmentReport{SizeMiB: 100, Path: PathREST, Rows: []AttachmentRow{{PeakHeapGrowthMiB: 0.8, GoalMet: true}, {PeakHeapGrowthMiB: 17, GoalMet: false}}}},
			GoalAttachmentHeap, true, false, 17, "100 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			goals := tt.report.judgeGoals()
			if len(goals) != 7 {
				t.Fatalf("%d goals, want 7: %+v", len(goals), goals)
			}
			g := goalByID(t, goals, tt.id)
			if g.Measured != tt.measured || g.Met != tt.met || g.Figure != tt.figure || !strings.Contains(g.Detail, tt.detail) {
				t.Errorf("goal = %+v, want measured %v, met %v, figure %v, detail containing %q", g, tt.measured, tt.met, tt.figure, tt.detail)
			}
		})
	}
}
