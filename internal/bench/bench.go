// Package bench measures deskconn against the Zoho Desk emulator: what the
// connector adds to each call (overhead), how many token-endpoint calls a
// burst of actions on an expired token causes (refresh-storm), the memory
// and throughput of large attachments (attachment), listing every ticket
// page by page against list_tickets all: true (export), how many
// TOO_MANY_REQUESTS deskconn causes when many actions share an
// organisation's concurrency limit (fan-in), and reading a 500-item ticket
// conversation through list_ticket_conversations against direct paging
// (conversation), and the event pipeline's webhook ingest throughput and
// end-to-end latency to subscribers (events).
//
// It measures and never asserts: Run returns a Report, which prints as an
// aligned table (WriteTable) or one JSON object. Every scenario runs on
// loopback only and is bounded in requests and time.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// Scenario names, in the order "all" runs them.
const (
	ScenarioOverhead     = "overhead"
	ScenarioOverheadZero = "overhead-0ms"
	ScenarioRefreshStorm = "refresh-storm"
	ScenarioAttachment   = "attachment"
	ScenarioExport       = "export"
	ScenarioFanIn        = "fan-in"
	ScenarioConversation = "conversation"
	ScenarioCatalogue    = "catalogue"
	ScenarioEvents       = "events"
	ScenarioMCPStart     = "mcp-start"
)

// Scenarios lists every scenario in run order.
var Scenarios = []string{ScenarioOverhead, ScenarioOverheadZero, ScenarioRefreshStorm, ScenarioAttachment, ScenarioExport, ScenarioFanIn, ScenarioConversation, ScenarioCatalogue, ScenarioEvents, ScenarioMCPStart}

// Config configures Run. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// Scenarios to run (Scenarios' names); empty or "all" runs every one.
	Scenarios []string
	// EmulatorURL is an emulator already running on loopback; "" starts
	// one in process per scenario.
	EmulatorURL string
	// Latency is the emulated Zoho latency of every Desk call (default
	// 50ms; set ZeroLatency for none).
	Latency     time.Duration
	ZeroLatency bool
	// Concurrency is how many calls overhead keeps in flight (default 4).
	Concurrency int
	// Requests is the number of measured calls per overhead cell (default
	// 200: at 50 ms, a p50 of 50 calls moved by ±0.3 ms between runs, a
	// third of the 1 ms that a ratio of 1.02 allows); Duration caps each
	// cell's time (default 20s).
	Requests int
	Duration time.Duration
	// ZeroLatencyRequests is the number of measured calls per cell of
	// overhead-0ms, the overhead scenario without latency and with one call
	// in flight (default 2,000: a cell's p50 is a tenth of a millisecond).
	ZeroLatencyRequests int
	// SizeMB is the attachment size in MiB (default 100: five times the
	// product's 20 MiB cap, which the scenario raises, so that a footprint
	// proportional to the file shows).
	SizeMB int
	// Tickets is the number of extra tickets for export (default 10,000).
	Tickets int
	// Storm is the number of concurrent actions of refresh-storm (default 100).
	Storm int
	// FanIn is the number of concurrent actions of fan-in (default 200) and
	// FanInLimit the emulator's per-org concurrency limit (default 5).
	FanIn      int
	FanInLimit int
	// EventsIngest is the number of Zoho webhook deliveries events ingests
	// (default 500); EventChanges the number of changes whose end-to-end
	// latency it measures in each setting (default 40).
	EventsIngest int
	EventChanges int
	// MCPStarts is how many `deskconn mcp` processes mcp-start times
	// (default 20); MCPCommand returns the command that runs deskconn with
	// the given arguments (nil: mcp-start cannot run).
	MCPStarts  int
	MCPCommand func(ctx context.Context, args ...string) *exec.Cmd
	// MCPCPUCalls is how many calls the mcp CPU figure is taken over
	// (default 2,000).
	MCPCPUCalls int
	// Logger receives the stacks' logs (default: discard).
	Logger *slog.Logger
	// Progress, if set, receives one line as each scenario starts.
	Progress io.Writer
}

// DefaultConfig returns the defaults of `deskconn bench`.
func DefaultConfig() Config {
	return Config{Latency: 50 * time.Millisecond, Concurrency: 4, Requests: 200, Duration: 20 * time.Second, ZeroLatencyRequests: 2000,
		SizeMB: 100, Tickets: 10_000, Storm: 100, FanIn: 200, FanInLimit: 5, EventsIngest: 500, EventChanges: 40, MCPStarts: 20,
		MCPCPUCalls: defaultMCPCPUCalls}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ZeroLatency {
		c.Latency = 0
	} else if c.Latency <= 0 {
		c.Latency = d.Latency
	}
	if c.Concurrency <= 0 {
		c.Concurrency = d.Concurrency
	}
	if c.Requests <= 0 {
		c.Requests = d.Requests
	}
	if c.Duration <= 0 {
		c.Duration = d.Duration
	}
	if c.ZeroLatencyRequests <= 0 {
		c.ZeroLatencyRequests = d.ZeroLatencyRequests
	}
	if c.SizeMB <= 0 {
		c.SizeMB = d.SizeMB
	}
	if c.Tickets < 0 {
		c.Tickets = 0
	} else if c.Tickets == 0 {
		c.Tickets = d.Tickets
	}
	if c.Storm <= 0 {
		c.Storm = d.Storm
	}
	if c.FanIn <= 0 {
		c.FanIn = d.FanIn
	}
	if c.FanInLimit <= 0 {
		c.FanInLimit = d.FanInLimit
	}
	if c.EventsIngest <= 0 {
		c.EventsIngest = d.EventsIngest
	}
	if c.EventChanges <= 0 {
		c.EventChanges = d.EventChanges
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Report is the result of Run. Scenarios that did not run are nil.
type Report struct {
	Machine  Machine         `json:"machine"`
	Settings Settings        `json:"settings"`
	Overhead *OverheadReport `json:"overhead,omitempty"`
	// OverheadZero is overhead-0ms: the overhead scenario without
	// latency, one call in flight, whatever the run's latency.
	OverheadZero *OverheadReport     `json:"overheadZeroLatency,omitempty"`
	RefreshStorm *RefreshStormReport `json:"refreshStorm,omitempty"`
	Attachment   *AttachmentReport   `json:"attachment,omitempty"`
	Export       *ExportReport       `json:"export,omitempty"`
	FanIn        *FanInReport        `json:"fanIn,omitempty"`
	Conversation *ConversationReport `json:"conversation,omitempty"`
	Catalogue    *CatalogueReport    `json:"catalogue,omitempty"`
	Events       *EventsReport       `json:"events,omitempty"`
	MCPStart     *MCPStartReport     `json:"mcpStart,omitempty"`
	// Goals are the performance goals judged on this report (see Goal),
	// every one listed, measured or not.
	Goals []Goal `json:"goals"`
}

// Machine describes where the run happened.
type Machine struct {
	GoVersion  string `json:"goVersion"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}

// Settings echo the configuration the figures were measured with.
type Settings struct {
	Emulator    string  `json:"emulator"` // "in-process" or its URL
	LatencyMs   float64 `json:"latencyMs"`
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
}

// Run runs the configured scenarios in order and returns their report. It
// stops at the first scenario that cannot be set up (the emulator is not
// reachable, the connection cannot be made) or when ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	want := cfg.Scenarios
	if len(want) == 0 || slices.Contains(want, "all") {
		want = Scenarios
	}
	for _, s := range want {
		if !slices.Contains(Scenarios, s) {
			return nil, fmt.Errorf("unknown scenario %q (want all or one of %s)", s, strings.Join(Scenarios, ", "))
		}
	}
	emu := "in-process"
	if cfg.EmulatorURL != "" {
		emu = cfg.EmulatorURL
	}
	r := &Report{
		Machine:  Machine{GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0)},
		Settings: Settings{Emulator: emu, LatencyMs: ms(cfg.Latency), Concurrency: cfg.Concurrency, Requests: cfg.Requests},
	}
	for _, s := range Scenarios {
		if !slices.Contains(want, s) {
			continue
		}
		if s == ScenarioMCPStart && cfg.MCPCommand == nil && !slices.Contains(cfg.Scenarios, s) {
			continue
		}
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "bench: running %s\n", s)
		}
		var err error
		switch s {
		case ScenarioOverhead:
			r.Overhead, err = runOverhead(ctx, cfg)
		case ScenarioOverheadZero:
			r.OverheadZero, err = runOverhead(ctx, cfg.zeroLatency())
		case ScenarioRefreshStorm:
			r.RefreshStorm, err = runRefreshStorm(ctx, cfg)
		case ScenarioAttachment:
			r.Attachment, err = runAttachment(ctx, cfg)
		case ScenarioExport:
			r.Export, err = runExport(ctx, cfg)
		case ScenarioFanIn:
			r.FanIn, err = runFanIn(ctx, cfg)
		case ScenarioConversation:
			r.Conversation, err = runConversation(ctx, cfg)
		case ScenarioCatalogue:
			r.Catalogue, err = runCatalogue(ctx, cfg)
		case ScenarioEvents:
			r.Events, err = runEvents(ctx, cfg)
		case ScenarioMCPStart:
			if cfg.MCPCommand == nil {
				// Only a binary that is deskconn can time deskconn mcp:
				// "all" leaves it out elsewhere (tests, the library).
				if slices.Contains(cfg.Scenarios, ScenarioMCPStart) {
					err = fmt.Errorf("no command to start deskconn mcp with (Config.MCPCommand)")
				}
				break
			}
			r.MCPStart, err = MCPStart(ctx, StackOptions{EmulatorURL: cfg.EmulatorURL, Logger: cfg.Logger}, cfg.MCPStarts, cfg.MCPCPUCalls, cfg.MCPCommand)
		}
		if err != nil {
			r.Goals = r.judgeGoals()
			return r, fmt.Errorf("scenario %s: %w", s, err)
		}
	}
	r.Goals = r.judgeGoals()
	return r, nil
}

// zeroLatency is c for overhead-0ms: no emulated latency, one call in
// flight, ZeroLatencyRequests calls per cell.
func (c Config) zeroLatency() Config {
	c.Latency, c.ZeroLatency, c.Concurrency, c.Requests = 0, true, 1, c.ZeroLatencyRequests
	return c
}

// stackOptions are the StackOptions every scenario starts from.
func (c Config) stackOptions() StackOptions {
	// A bench measures speed, not Zoho's daily credits: long runs
	// (--requests in the thousands) would otherwise end in
	// THRESHOLD_EXCEEDED answers.
	return StackOptions{EmulatorURL: c.EmulatorURL, Latency: c.Latency, Logger: c.Logger, DailyCredits: 1 << 30}
}

// WriteJSON writes r as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteTable writes r as aligned tables, one per scenario that ran.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	flush := func() {
		_ = tw.Flush()
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "deskconn bench — %s %s/%s, %d CPUs (GOMAXPROCS %d); emulator %s, latency %s, concurrency %d\n\n",
		r.Machine.GoVersion, r.Machine.OS, r.Machine.Arch, r.Machine.CPUs, r.Machine.GOMAXPROCS, r.Settings.Emulator,
		time.Duration(r.Settings.LatencyMs*float64(time.Millisecond)), r.Settings.Concurrency)
	if o := r.Overhead; o != nil {
		writeOverhead(w, "overhead: the same calls by each path; ratio and added latency against the bare net/http call", o)
	}
	if o := r.OverheadZero; o != nil {
		writeOverhead(w, fmt.Sprintf("overhead-0ms: the same without latency, %d in flight, %d calls each: what each path adds (goal: MCP under %.1f ms)", o.Concurrency, o.Requests, MCPAddedGoalMs), o)
	}
	if s := r.RefreshStorm; s != nil {
		fmt.Fprintln(w, "refresh-storm: concurrent actions on one connection whose access token just expired (goal: 1 token call)")
		p("actions\tok\terrors\ttoken-endpoint calls\tduration ms\t\n")
		p("%d\t%d\t%d\t%d\t%.1f\t\n", s.Actions, s.OK, s.Errors, s.TokenEndpointCalls, s.DurationMs)
		flush()
	}
	if a := r.Attachment; a != nil {
		fmt.Fprintf(w, "attachment: one %d MiB file by URL and by base64 through the %s path (goal: peak heap growth under %.0f MiB)\n", a.SizeMiB, a.Path, a.GoalMiB)
		p("source\tresult\tduration ms\tMB/s\tpeak heap growth MiB\tallocated MiB\tgoal\t\n")
		for _, row := range a.Rows {
			p("%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t\n", row.Source, row.Result, row.DurationMs, row.MBPerSec, row.PeakHeapGrowthMiB, row.AllocatedMiB, metText(row.GoalMet))
		}
		flush()
	}
	if e := r.Export; e != nil {
		fmt.Fprintf(w, "export: every ticket of an org with %d tickets\n", e.Tickets)
		p("method\ttickets\tDesk calls\tduration ms\tspeedup\t\n")
		p("page by page\t%d\t%d\t%.1f\t%.2f\t\n", e.PageByPage.Tickets, e.PageByPage.DeskCalls, e.PageByPage.DurationMs, 1.0)
		p("all: true\t%d\t%d\t%.1f\t%.2f\t\n", e.All.Tickets, e.All.DeskCalls, e.All.DurationMs, e.Speedup)
		flush()
	}
	if f := r.FanIn; f != nil {
		fmt.Fprintf(w, "fan-in: %d concurrent actions, emulator limit %s concurrent calls per org (goal: 0 TOO_MANY_REQUESTS)\n", f.Actions, limitText(f.EmulatorLimit))
		p("actions\tok\terrors\tTOO_MANY_REQUESTS\tduration ms\tactions/s\t\n")
		p("%d\t%d\t%d\t%d\t%.1f\t%.1f\t\n", f.Actions, f.OK, f.Errors, f.TooManyRequests, f.DurationMs, f.Throughput)
		flush()
	}
	if c := r.Conversation; c != nil {
		fmt.Fprintf(w, "conversation: every item of a %d-item ticket conversation\n", c.Items)
		p("method\titems\tactions\tDesk calls\tduration ms\tpeak heap growth MiB\tresult\t\n")
		for _, row := range c.Rows {
			p("%s\t%d\t%d\t%d\t%.1f\t%.1f\t%s\t\n", row.Method, row.Items, row.Actions, row.DeskCalls, row.DurationMs, row.PeakHeapGrowthMiB, row.Result)
		}
		flush()
	}
	if c := r.Catalogue; c != nil {
		fmt.Fprintf(w, "catalogue: what an MCP client holds in context (compact JSON bytes)\n")
		p("tools/list\ttools\tbytes\tbudget\tgoal\t\n")
		p("full\t%d\t%d\t%d\t%s\t\n", c.Tools, c.ToolsListBytes, c.BudgetBytes, metText(c.GoalMet))
		p("read-only\t\t%d\t\t\t\n", c.ReadOnlyToolsListBytes)
		flush()
		p("tool result\tstructured bytes\ttext bytes\tresult\t\n")
		for _, row := range c.Results {
			p("%s\t%d\t%d\t%s\t\n", row.Call, row.StructuredBytes, row.TextBytes, row.Result)
		}
		flush()
	}
	if m := r.MCPStart; m != nil {
		fmt.Fprintf(w, "mcp-start: a new deskconn mcp process until its first tools/call (list_tickets) answers (goal: p50 under %.0f ms)\n", m.GoalMs)
		p("runs	p50 ms	min ms	max ms	goal	\n")
		p("%d\t%.1f\t%.1f\t%.1f\t%s\t\n", m.Runs, m.P50Ms, m.MinMs, m.MaxMs, metText(m.Met))
		flush()
		fmt.Fprintf(w, "mcp CPU: the deskconn mcp process's CPU time per list_tickets call (10 rows), over %d calls: %.3f ms (goal: at most %.1f ms) %s\n",
			m.CPUCalls, m.CPUPerCallMs, m.CPUGoalMs, metText(m.CPUMet))
	}
	if e := r.Events; e != nil {
		fmt.Fprintf(w, "events: Zoho webhook deliveries into the SQLite event log (goal: %.0f events/s)\n", e.IngestGoal)
		p("deliveries\tin flight\tstored\tduration ms\tevents/s\tCPU µs/event\tgoal\t\n")
		p("%d\t%d\t%d\t%.1f\t%.1f\t%.0f\t%s\t\n", e.Ingested, e.IngestInFlight, e.IngestStored, e.IngestMs, e.IngestPerSec, e.IngestCPUPerEventUs, metText(e.IngestGoalMet))
		flush()
		fmt.Fprintf(w, "events: a change through Zoho's API until a signed subscriber receives it (goal: p50 under %.0f ms)\n", e.LatencyP50Goal)
		p("setting\tchanges\treceived\tp50 ms\tp99 ms\tslow subscriber received\tgoal\tresult\t\n")
		for _, row := range e.Latency {
			p("%s\t%d\t%d\t%.2f\t%.2f\t%d\t%s\t%s\t\n", row.Setting, row.Changes, row.Received, row.P50Ms, row.P99Ms, row.SlowReceived, metText(row.GoalMet), row.Result)
		}
		flush()
	}
	if len(r.Goals) > 0 {
		writeGoals(w, r.Goals)
	}
	return nil
}

func metText(met bool) string {
	if met {
		return "met"
	}
	return "NOT met"
}

func limitText(n int) string {
	if n <= 0 {
		return "(external emulator's)"
	}
	return fmt.Sprint(n)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runParallel runs fn n times with conc goroutines, stopping early when
// budget elapses or ctx ends, and returns each call's latency and the
// number of errors, the time taken and the first error (as an example).
func runParallel(ctx context.Context, n, conc int, budget time.Duration, fn func(ctx context.Context) error) (lat []time.Duration, errs int, elapsed time.Duration, firstErr error) {
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	var (
		next    atomic.Int64
		mu      sync.Mutex
		wg      sync.WaitGroup
		errOnce sync.Once
	)
	start := time.Now()
	for range min(conc, n) {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				t0 := time.Now()
				err := fn(ctx)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					errs++
					errOnce.Do(func() { firstErr = err })
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return lat, errs, time.Since(start), firstErr
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method, or 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

// errText describes err in one line for the report.
func errText(err error) string {
	if err == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(err.Error())
	s := b.String()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

var errMismatch = errors.New("the two methods returned different ticket counts")
