package cli

import (
	"context"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn/internal/bench"
)

// newBenchCmd measures deskconn against the emulator (internal/bench).
func newBenchCmd(env *Env) *cobra.Command {
	cfg := bench.DefaultConfig()
	var (
		scenario string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure deskconn against the Zoho Desk emulator (overhead, refresh storm, attachments, export, fan-in, conversation, catalogue, events, mcp-start)",
		Long: `bench measures what deskconn adds to Zoho Desk calls and how it behaves under load, against
an emulator it starts in process (or one already running on loopback, --emulator URL, started
with --auto-consent). It measures and never asserts: it prints an aligned table, or with --json
one JSON object. Scenarios (--scenario):

  overhead       get_ticket, list_tickets, create_ticket by a bare net/http client, the zohodesk
                 client, registry.Invoke, the REST server and MCP over streamable HTTP (by the Go
                 SDK's client, mcp, and by posting JSON-RPC and reading the answer's bytes as the
                 REST client does, mcp-bytes): p50, p99, throughput and the ratio to the bare call;
                 and the floors: a do-nothing MCP SDK tool, and a do-nothing reverse proxy
  overhead-0ms   the same without latency and with one call in flight, whatever --latency and
                 --concurrency say (--zero-latency-requests calls per cell): what each path adds
  refresh-storm  --storm concurrent actions on a connection whose token just expired: token calls
  attachment     a --size MiB file (default 100) by URL and by base64 through the REST API:
                 peak heap growth against the 16 MiB goal, and MB/s
  export         every ticket of an org with --tickets extra tickets, page by page vs all: true
  fan-in         --fan-in concurrent actions against a per-org limit of --fan-in-limit:
                 TOO_MANY_REQUESTS caused by deskconn and throughput
  conversation   a 500-item ticket conversation read through list_ticket_conversations (pages,
                 all: true, full text) vs direct paging: Desk calls, time, peak heap growth
  catalogue      what an MCP client holds in context: tools/list in bytes (full and read-only)
                 against the 30 KB budget, and the size of list, get and conversation results
  events         --events Zoho webhook deliveries into the SQLite event log (events/s against
                 2,000), then --event-changes tickets created/updated through Zoho's API until a
                 signed loopback subscriber receives each (p50, p99 against 50 ms), without and
                 with a slow (200 ms) subscriber; in-process emulator only
  mcp-start      --mcp-starts new "deskconn mcp" processes (this binary) on the bench's data: time
                 from the process's start to its first tools/call's answer (p50 against 100 ms)

Everything runs on loopback; see docs/benchmarks.md for how to read the figures.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Scenarios = strings.Split(scenario, ",")
			cfg.ZeroLatency = cfg.Latency == 0
			cfg.Progress = env.Stderr
			cfg.MCPCommand = benchMCPCommand
			r, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return r.WriteJSON(env.Stdout)
			}
			return r.WriteTable(env.Stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&scenario, "scenario", "all", "all, or a comma-separated list of: "+strings.Join(bench.Scenarios, ", "))
	f.StringVar(&cfg.EmulatorURL, "emulator", "", "URL of an emulator already running on loopback (default: start one in process)")
	f.DurationVar(&cfg.Latency, "latency", cfg.Latency, "emulated Zoho latency per Desk call (0 for none)")
	f.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "overhead: calls in flight")
	f.IntVar(&cfg.Requests, "requests", cfg.Requests, "overhead: measured calls per call and path")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "overhead: time cap per call and path")
	f.IntVar(&cfg.ZeroLatencyRequests, "zero-latency-requests", cfg.ZeroLatencyRequests, "overhead-0ms: measured calls per call and path")
	f.IntVar(&cfg.SizeMB, "size", cfg.SizeMB, "attachment: file size in MiB")
	f.IntVar(&cfg.Tickets, "tickets", cfg.Tickets, "export: extra tickets in the org (in-process emulator)")
	f.IntVar(&cfg.Storm, "storm", cfg.Storm, "refresh-storm: concurrent actions")
	f.IntVar(&cfg.FanIn, "fan-in", cfg.FanIn, "fan-in: concurrent actions")
	f.IntVar(&cfg.FanInLimit, "fan-in-limit", cfg.FanInLimit, "fan-in: the emulator's concurrent calls per org (in-process emulator)")
	f.IntVar(&cfg.EventsIngest, "events", cfg.EventsIngest, "events: webhook deliveries ingested")
	f.IntVar(&cfg.EventChanges, "event-changes", cfg.EventChanges, "events: changes timed end to end, per setting")
	f.IntVar(&cfg.MCPStarts, "mcp-starts", cfg.MCPStarts, "mcp-start: deskconn mcp processes timed")
	f.IntVar(&cfg.MCPCPUCalls, "mcp-cpu-calls", cfg.MCPCPUCalls, "mcp-start: calls the mcp CPU figure is taken over")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of the table")
	return cmd
}

// benchMCPCommand runs this binary with args, for the mcp-start scenario.
// Tests replace it: their binary is a test binary.
var benchMCPCommand = func(ctx context.Context, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.CommandContext(ctx, exe, args...)
}
