package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn/zohodesk"
)

// The paths overhead compares, in order.
const (
	PathBare     = "net/http"
	PathClient   = "zohodesk"
	PathRegistry = "registry"
	PathREST     = "rest"
	PathMCP      = "mcp"
	PathMCPBytes = "mcp-bytes"
)

// OverheadReport is the result of the overhead scenario.
type OverheadReport struct {
	// LatencyMs, Concurrency and Requests are what the rows were measured
	// with: the emulated latency, the calls in flight and the measured
	// calls per row.
	LatencyMs   float64       `json:"latencyMs"`
	Concurrency int           `json:"concurrency"`
	Requests    int           `json:"requests"`
	Rows        []OverheadRow `json:"rows"`
	// MCPFloorP50Ms is the p50 of a call to a tool that does nothing,
	// served by the official MCP Go SDK over streamable HTTP on loopback
	// and called by its client, as the mcp path calls deskconn: the least
	// any server built on the SDK adds on that path. The mcp rows' added
	// p50 minus it is deskconn's own share.
	MCPFloorP50Ms float64 `json:"mcpFloorP50Ms"`
	// MCPFloorRatioP50 is, when Zoho's latency is emulated, the p50 ratio
	// the SDK alone gives a call of that latency: a tool that waits the
	// latency and returns nothing, called as above, against a bare net/http
	// call to a handler that waits as long: the SDK's own share of every
	// mcp row's ratio, whatever the server behind the tool does.
	MCPFloorRatioP50 float64 `json:"mcpFloorRatioP50,omitempty"`
	// ProxyFloorRatioP50 is, when Zoho's latency is emulated, the p50 ratio
	// a reverse proxy that does nothing (net/http/httputil on loopback,
	// with deskconn's transport) gives the bare call to a handler that
	// waits the latency: what the two loopback hops of any server between
	// the caller and Zoho cost, the least of every rest and mcp row's
	// ratio whatever the server does.
	ProxyFloorRatioP50 float64 `json:"proxyFloorRatioP50,omitempty"`
}

// OverheadRow is one call made by one path. Ratios and added latencies are
// against the bare net/http row of the same call (1 and 0 for that row).
type OverheadRow struct {
	Call       string  `json:"call"`
	Path       string  `json:"path"`
	OK         int     `json:"ok"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
	P50Ms      float64 `json:"p50Ms"`
	P99Ms      float64 `json:"p99Ms"`
	Throughput float64 `json:"throughputPerSec"`
	RatioP50   float64 `json:"ratioP50"`
	AddedP50Ms float64 `json:"addedP50Ms"`
	AddedP99Ms float64 `json:"addedP99Ms"`
}

// The ticket every get_ticket reads (seeded in every emulator).
const benchTicket = "1892000000042032"

// overheadCall is one operation, expressed for every path.
type overheadCall struct {
	name   string
	action string
	input  string
	bare   func(ctx context.Context, b *bareClient) error
	client func(ctx context.Context, c *zohodesk.Client, org string) error
}

func overheadCalls() []overheadCall {
	createPayload := map[string]any{"subject": "bench ticket", "departmentId": "1892000000006907", "contactId": "1892000000042032"}
	createJSON, _ := json.Marshal(createPayload)
	return []overheadCall{
		{
			name: "get_ticket", action: "get_ticket", input: `{"ticketId":"` + benchTicket + `"}`,
			bare: func(ctx context.Context, b *bareClient) error {
				return b.do(ctx, http.MethodGet, "/tickets/"+benchTicket, nil)
			},
			client: func(ctx context.Context, c *zohodesk.Client, org string) error {
				_, _, err := c.Tickets.Get(ctx, org, benchTicket, nil)
				return err
			},
		},
		{
			name: "list_tickets", action: "list_tickets", input: `{"params":{"limit":10}}`,
			bare: func(ctx context.Context, b *bareClient) error {
				return b.do(ctx, http.MethodGet, "/tickets?limit=10", nil)
			},
			client: func(ctx context.Context, c *zohodesk.Client, org string) error {
				_, _, err := c.Tickets.List(ctx, org, &zohodesk.TicketListOptions{ListOptions: zohodesk.ListOptions{Limit: 10}})
				return err
			},
		},
		{
			name: "create_ticket", action: "create_ticket", input: `{"payload":` + string(createJSON) + `}`,
			bare: func(ctx context.Context, b *bareClient) error {
				return b.do(ctx, http.MethodPost, "/tickets", createJSON)
			},
			client: func(ctx context.Context, c *zohodesk.Client, org string) error {
				_, _, err := c.Tickets.Create(ctx, org, &zohodesk.TicketCreateRequest{Subject: "bench ticket", DepartmentID: "1892000000006907", ContactID: "1892000000042032"})
				return err
			},
		},
	}
}

// bareClient calls the emulator with nothing but net/http: the baseline.
type bareClient struct {
	hc    *http.Client
	base  string
	token string
	org   string
}

func (b *bareClient) do(ctx context.Context, method, path string, body []byte) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Zoho-oauthtoken "+b.token)
	req.Header["orgId"] = []string{b.org}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	return nil
}

// loopbackTransport is the transport deskconn calls Zoho with, so the bare
// baseline reuses connections exactly as deskconn does.
func loopbackTransport() *http.Transport { return zohodesk.NewTransport() }

// newBareClient returns a bare client of base (the API root) that sends
// token and org as deskconn's client does.
func newBareClient(base, token, org string) *bareClient {
	return &bareClient{hc: &http.Client{Transport: loopbackTransport(), Timeout: 60 * time.Second}, base: base, token: token, org: org}
}

// bearer adds an API key to every request.
type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

func runOverhead(ctx context.Context, cfg Config) (*OverheadReport, error) {
	s, err := NewStack(ctx, cfg.stackOptions())
	if err != nil {
		return nil, err
	}
	defer s.Close()
	token, err := s.AccessToken(ctx)
	if err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	bare := newBareClient(s.EmulatorURL+"/api/v1", token, s.OrgID)
	desk, _, err := s.Manager.Client(ctx, s.TenantID, s.Connection.ID)
	if err != nil {
		return nil, fmt.Errorf("desk client: %w", err)
	}
	api := &http.Client{Transport: bearer{key: s.APIKey.Reveal(), next: loopbackTransport()}, Timeout: 60 * time.Second}
	mc := mcp.NewClient(&mcp.Implementation{Name: "deskconn-bench", Version: "dev"}, nil)
	session, err := mc.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: s.ServerURL + "/mcp/" + s.Connection.Name, HTTPClient: api, DisableStandaloneSSE: true}, nil)
	if err != nil {
		return nil, fmt.Errorf("connect MCP client: %w", err)
	}
	defer session.Close()

	rest := func(ctx context.Context, name, input string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.ServerURL+"/v1/connections/"+s.Connection.Name+"/actions/"+name, bytes.NewReader([]byte(input)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := api.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("REST %s: HTTP %d: %.200s", name, resp.StatusCode, b)
		}
		return nil
	}
	callMCP := func(ctx context.Context, name, input string) error {
		var args map[string]any
		if err := json.Unmarshal([]byte(input), &args); err != nil {
			return err
		}
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			return err
		}
		if res.IsError {
			return fmt.Errorf("MCP %s: tool error: %s", name, toolText(res))
		}
		return nil
	}

	// callMCPBytes makes the same call in the same session as callMCP, but
	// posts the JSON-RPC request itself and reads the answer's bytes
	// without decoding them, as rest does: what the server adds, without
	// the Go SDK client's decoding of the result. Its request ids are
	// strings, unlike the SDK client's numbers, and unique: the session
	// refuses an id already in flight.
	mcpURL := s.ServerURL + "/mcp/" + s.Connection.Name
	var lastID atomic.Int64
	callMCPBytes := func(ctx context.Context, name, input string) error {
		id := strconv.Quote("bytes-" + strconv.FormatInt(lastID.Add(1), 10))
		body := `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":` + strconv.Quote(name) + `,"arguments":` + input + `}}`
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, mcpURL, strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", session.ID())
		req.Header.Set("Mcp-Protocol-Version", session.InitializeResult().ProtocolVersion)
		resp, err := api.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"result":{"content":`)) || bytes.Contains(b, []byte(`"isError":true`)) {
			return fmt.Errorf("MCP %s: HTTP %d: %.200s", name, resp.StatusCode, b)
		}
		return nil
	}

	rep := &OverheadReport{LatencyMs: ms(cfg.Latency), Concurrency: cfg.Concurrency, Requests: cfg.Requests}
	if rep.MCPFloorP50Ms, err = mcpFloor(ctx, cfg, 0); err != nil {
		return nil, fmt.Errorf("MCP SDK floor: %w", err)
	}
	if cfg.Latency > 0 {
		if rep.MCPFloorRatioP50, rep.ProxyFloorRatioP50, err = floorRatios(ctx, cfg); err != nil {
			return nil, fmt.Errorf("floors at %s: %w", cfg.Latency, err)
		}
	}
	for _, c := range overheadCalls() {
		paths := []struct {
			name string
			fn   func(ctx context.Context) error
		}{
			{PathBare, func(ctx context.Context) error { return c.bare(ctx, bare) }},
			{PathClient, func(ctx context.Context) error { return c.client(ctx, desk, s.OrgID) }},
			{PathRegistry, func(ctx context.Context) error {
				_, err := s.Invoke(ctx, c.action, json.RawMessage(c.input))
				return err
			}},
			{PathREST, func(ctx context.Context) error { return rest(ctx, c.action, c.input) }},
			{PathMCP, func(ctx context.Context) error { return callMCP(ctx, c.action, c.input) }},
			{PathMCPBytes, func(ctx context.Context) error { return callMCPBytes(ctx, c.action, c.input) }},
		}
		var base OverheadRow
		for _, p := range paths {
			// Warm connections, caches and the token before measuring.
			runParallel(ctx, cfg.Concurrency, cfg.Concurrency, cfg.Duration, p.fn)
			lat, errs, elapsed, first := runParallel(ctx, cfg.Requests, cfg.Concurrency, cfg.Duration, p.fn)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			slices.Sort(lat)
			row := OverheadRow{Call: c.name, Path: p.name, OK: len(lat), Errors: errs, FirstError: errText(first),
				P50Ms: ms(percentile(lat, 50)), P99Ms: ms(percentile(lat, 99))}
			if elapsed > 0 {
				row.Throughput = float64(len(lat)) / elapsed.Seconds()
			}
			if p.name == PathBare {
				base = row
			}
			if base.P50Ms > 0 {
				row.RatioP50 = row.P50Ms / base.P50Ms
			}
			row.AddedP50Ms = row.P50Ms - base.P50Ms
			row.AddedP99Ms = row.P99Ms - base.P99Ms
			rep.Rows = append(rep.Rows, row)
		}
	}
	return rep, nil
}

// mcpFloor measures the p50 of calls to a tool that waits wait and returns
// nothing, on an MCP Go SDK server over streamable HTTP on loopback, by the
// SDK's client with the settings of the mcp path.
func mcpFloor(ctx context.Context, cfg Config, wait time.Duration) (float64, error) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "floor", Version: "dev"}, nil)
	srv.AddTool(&mcp.Tool{Name: "nothing", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, _ *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if err := waitFor(ctx, wait); err != nil {
				return nil, err
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "{}"}}}, nil
		})
	hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	defer hs.Close()
	mc := mcp.NewClient(&mcp.Implementation{Name: "deskconn-bench", Version: "dev"}, nil)
	session, err := mc.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: hs.URL, HTTPClient: &http.Client{Transport: loopbackTransport()}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		return 0, err
	}
	defer session.Close()
	call := func(ctx context.Context) error {
		_, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "nothing", Arguments: map[string]any{}})
		return err
	}
	return p50Of(ctx, cfg, call)
}

// floorRatios measures, at the emulated latency, the SDK's floor and the
// proxy's (see OverheadReport.MCPFloorRatioP50 and ProxyFloorRatioP50)
// against a bare call to a handler that waits the latency.
func floorRatios(ctx context.Context, cfg Config) (mcpRatio, proxyRatio float64, err error) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if waitFor(r.Context(), cfg.Latency) == nil {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "{}")
		}
	}))
	defer hs.Close()
	target, err := url.Parse(hs.URL)
	if err != nil {
		return 0, 0, err
	}
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: loopbackTransport(),
	})
	defer proxy.Close()

	bare := newBareClient(hs.URL, "", "")
	base, err := p50Of(ctx, cfg, func(ctx context.Context) error { return bare.do(ctx, http.MethodGet, "/", nil) })
	if err != nil {
		return 0, 0, fmt.Errorf("bare call: %w", err)
	}
	proxied := newBareClient(proxy.URL, "", "")
	viaProxy, err := p50Of(ctx, cfg, func(ctx context.Context) error { return proxied.do(ctx, http.MethodGet, "/", nil) })
	if err != nil {
		return 0, 0, fmt.Errorf("call through the proxy: %w", err)
	}
	floor, err := mcpFloor(ctx, cfg, cfg.Latency)
	if err != nil {
		return 0, 0, fmt.Errorf("MCP SDK floor: %w", err)
	}
	return floor / base, viaProxy / base, nil
}

// p50Of warms fn up, then returns the p50 of cfg.Requests calls of it in
// milliseconds.
func p50Of(ctx context.Context, cfg Config, fn func(ctx context.Context) error) (float64, error) {
	runParallel(ctx, cfg.Concurrency, cfg.Concurrency, cfg.Duration, fn)
	lat, _, _, first := runParallel(ctx, cfg.Requests, cfg.Concurrency, cfg.Duration, fn)
	if len(lat) == 0 {
		return 0, fmt.Errorf("no call answered: %v", first)
	}
	slices.Sort(lat)
	return ms(percentile(lat, 50)), nil
}

// waitFor waits d, or less if ctx ends first (then its error).
func waitFor(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func toolText(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			if len(t.Text) > 200 {
				return t.Text[:200]
			}
			return t.Text
		}
	}
	return "(no text)"
}

// seedTicketsOf is how many tickets the emulator seeds in the demo org.
const seedTicketsOf = 300

// writeOverhead writes o under title as an aligned table, then the SDK
// floor's figures.
func writeOverhead(w io.Writer, title string, o *OverheadReport) {
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "call\tpath\tok\terrors\tp50 ms\tp99 ms\treq/s\tp50 ratio\tp50 added ms\tp99 added ms\t\n")
	for _, row := range o.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\t%.2f\t%.1f\t%.3f\t%.2f\t%.2f\t\n", row.Call, row.Path, row.OK, row.Errors, row.P50Ms, row.P99Ms, row.Throughput, row.RatioP50, row.AddedP50Ms, row.AddedP99Ms)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintf(w, "MCP SDK floor: a tool that does nothing, official Go SDK server and client over streamable HTTP: p50 %.2f ms (part of every mcp row's added time)\n", o.MCPFloorP50Ms)
	if o.MCPFloorRatioP50 > 0 {
		fmt.Fprintf(w, "MCP SDK floor at the emulated latency: a tool that waits it, against a bare call that waits as long: p50 ratio %.3f (the SDK's own share of every mcp row's ratio)\n", o.MCPFloorRatioP50)
	}
	if o.ProxyFloorRatioP50 > 0 {
		fmt.Fprintf(w, "Proxy floor at the emulated latency: the same bare call through a reverse proxy that does nothing (net/http/httputil): p50 ratio %.3f (what any server in between costs every rest and mcp row)\n", o.ProxyFloorRatioP50)
	}
	fmt.Fprintln(w)
}
