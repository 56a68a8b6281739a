package mcpserver

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/time/rate"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// BenchmarkListTicketsCall measures deskconn's own cost of one MCP
// list_tickets call (10 rows): the client's request, the server's
// decoding, validation, the registry, the Zoho client, the compact view
// and the result's encoding. Zoho is a canned answer recorded from the
// emulator, so its cost is not counted; the transport is `deskconn mcp`'s
// stdio over pipes. Issue 17's CPU figure.
func BenchmarkListTicketsCall(b *testing.B) {
	env, conns := cannedListTickets(b)
	c := startRawStdio(b, New(realRegistry(), ConnectionResolver(conns, env.conn.TenantID, env.conn.ID), nil))
	b.ReportAllocs()
	for b.Loop() {
		checkListAnswer(b, c.roundTrip(listTicketsLine))
	}
}

// BenchmarkListTicketsCallHTTP is BenchmarkListTicketsCall over streamable
// HTTP (HTTPHandler on loopback, one session): what the server spends on
// a call, with a client that posts the request and reads the answer's
// bytes, as the bench's REST client does, without decoding them.
func BenchmarkListTicketsCallHTTP(b *testing.B) {
	env, conns := cannedListTickets(b)
	mux := http.NewServeMux()
	mux.Handle(HTTPPattern, HTTPHandler(realRegistry(), conns, &HTTPOptions{
		Identity: func(*http.Request) (string, string) { return env.conn.TenantID, "ak-bench" }}))
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	url := srv.URL + "/mcp/" + env.conn.Name
	post := func(session, body string) ([]byte, string) {
		resp := rawPost(b, url, "dk_bench", session, body) // Identity names the tenant
		defer resp.Body.Close()
		answer, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode/100 != 2 {
			b.Fatalf("POST %.60s: HTTP %d, %v: %.300s", body, resp.StatusCode, err, answer)
		}
		return answer, resp.Header.Get("Mcp-Session-Id")
	}
	_, session := post("", initializeBody)
	post(session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	line := string(bytes.TrimSpace(listTicketsLine))
	b.ReportAllocs()
	for b.Loop() {
		answer, _ := post(session, line)
		checkListAnswer(b, answer)
	}
}

// listTicketsLine is the tools/call both list benchmarks send.
var listTicketsLine = []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_tickets","arguments":{"params":{"limit":10}}}}` + "\n")

// checkListAnswer fails b unless answer is a successful list_tickets result.
func checkListAnswer(b *testing.B, answer []byte) {
	if !bytes.Contains(answer, []byte(`"id":7`)) || bytes.Contains(answer, []byte(`"isError":true`)) || !bytes.Contains(answer, []byte(`"data":[`)) {
		b.Fatalf("list_tickets answered %.300s", answer)
	}
}

// cannedListTickets returns a desk environment and connections whose Zoho
// answers every call with the emulator's answer to the list the benchmarks
// make, recorded once, so that Zoho's cost is not counted.
func cannedListTickets(b *testing.B) (*deskEnv, *fakeConns) {
	env := newDeskEnv(b)
	var recorded []byte
	var recordedPath string
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := httptest.NewRecorder()
		env.emu.ServeHTTP(rw, r)
		recorded, recordedPath = rw.Body.Bytes(), r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rw.Code)
		w.Write(recorded)
	}))
	b.Cleanup(rec.Close)
	canned := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path != recordedPath {
			http.Error(w, "unexpected "+r.URL.Path, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(recorded)
	}))
	b.Cleanup(canned.Close)
	connsOf := func(base string) *fakeConns {
		desk, err := zohodesk.New(zohodesk.Config{BaseURL: base + "/api/v1", Tokens: zohodesk.StaticToken(env.access),
			Retry: zohodesk.RetryPolicy{MaxAttempts: 1}, Limiter: zohodesk.NewOrgLimiter(5, rate.Inf, 1)})
		if err != nil {
			b.Fatal(err)
		}
		return &fakeConns{desk: desk, conns: []*store.Connection{env.conn}}
	}
	recording := connsOf(rec.URL)
	c := startRawStdio(b, New(realRegistry(), ConnectionResolver(recording, env.conn.TenantID, env.conn.ID), nil))
	checkListAnswer(b, c.roundTrip(listTicketsLine)) // records the answer
	return env, connsOf(canned.URL)
}

// rawStdio is a desktop client reduced to its pipes: it writes request
// lines and reads answer lines, so that a benchmark counts the server's
// work, not an MCP client's.
type rawStdio struct {
	t   testing.TB
	in  io.Writer
	out *bufio.Reader
}

// startRawStdio serves srv as `deskconn mcp` does (ServeStdio) on pipes and initializes
// the session.
func startRawStdio(t testing.TB, srv *mcp.Server) *rawStdio {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- ServeStdio(t.Context(), srv, inR, outW, nil) }()
	t.Cleanup(func() {
		inW.Close()
		<-done
		outW.Close()
	})
	c := &rawStdio{t: t, in: inW, out: bufio.NewReaderSize(outR, 64<<10)}
	c.roundTrip([]byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}` + "\n"))
	if _, err := inW.Write([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	return c
}

// roundTrip writes one request line and returns the next answer line.
func (c *rawStdio) roundTrip(line []byte) []byte {
	if _, err := c.in.Write(line); err != nil {
		c.t.Fatal(err)
	}
	answer, err := c.out.ReadBytes('\n')
	if err != nil {
		c.t.Fatal(err)
	}
	return answer
}
