package mcpserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// BenchmarkListTicketsCall measures deskconn's own cost of one MCP
// list_tickets call (10 rows): the client's request, the server's
// decoding, validation, the registry, the Zoho client, the compact view
// and the result's encoding. Zoho is a canned answer recorded from the
// emulator, so its cost is not counted; the transport is in memory (the
// JSON-RPC framing of stdio without the pipe). Issue 17's CPU figure.
func BenchmarkListTicketsCall(b *testing.B) {
	env := newDeskEnv(b)
	// Record the emulator's answer to the call the action makes.
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

	serve := func(base string) *mcp.ClientSession {
		desk, err := zohodesk.New(zohodesk.Config{BaseURL: base + "/api/v1", Tokens: zohodesk.StaticToken(env.access),
			Retry: zohodesk.RetryPolicy{MaxAttempts: 1}})
		if err != nil {
			b.Fatal(err)
		}
		conns := &fakeConns{desk: desk, conns: []*store.Connection{env.conn}}
		return connect(b, New(realRegistry(), ConnectionResolver(conns, env.conn.TenantID, env.conn.ID), nil))
	}
	args := json.RawMessage(`{"params":{"limit":10}}`)
	callOnce := func(cs *mcp.ClientSession) {
		res, err := cs.CallTool(b.Context(), &mcp.CallToolParams{Name: "list_tickets", Arguments: args})
		if err != nil || res.IsError {
			b.Fatalf("list_tickets: %v %+v", err, res)
		}
	}
	callOnce(serve(rec.URL)) // records the answer
	cs := serve(canned.URL)
	callOnce(cs)
	b.ReportAllocs()
	for b.Loop() {
		callOnce(cs)
	}
}
