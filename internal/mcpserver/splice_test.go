package mcpserver

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// stdioPipes serves srv over the stdio transport on pipes, with tool
// results parked and spliced back (as ServeStdio does) when sp is not nil,
// and returns a function that sends a line and reads the answer line.
func stdioPipes(t *testing.T, srv *mcp.Server, sp *splices) func(line string) []byte {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	tr := newStdioTransport(inR, outW, nil)
	ctx := t.Context()
	if sp != nil {
		tr.splices = sp
		ctx = withSplices(ctx, sp)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, tr) }()
	t.Cleanup(func() {
		inW.Close()
		<-done
		outW.Close()
	})
	out := bufio.NewReader(outR)
	return func(line string) []byte {
		t.Helper()
		if _, err := io.WriteString(inW, line+"\n"); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains([]byte(line), []byte(`"id"`)) {
			answer, err := out.ReadBytes('\n')
			if err != nil {
				t.Fatal(err)
			}
			return answer
		}
		return nil
	}
}

// TestServeStdioSplices: with results spliced, every answer is byte for
// byte the one the SDK writes when it encodes the result itself, and each
// parked result is taken once.
func TestServeStdioSplices(t *testing.T) {
	t.Parallel()
	env := newDeskEnv(t)
	newServer := func() *mcp.Server {
		return New(realRegistry(), ConnectionResolver(env.conns(), env.conn.TenantID, env.conn.ID), nil)
	}
	sp := newSplices()
	spliced := stdioPipes(t, newServer(), sp)
	plain := stdioPipes(t, newServer(), nil)
	lines := []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_tickets","arguments":{"params":{"limit":10}}}}`,
		`{"jsonrpc":"2.0","id":"three","method":"tools/call","params":{"name":"get_ticket","arguments":{"ticketId":"1892000000042032"}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_tickets","arguments":{"view":"full","params":{"limit":3}}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_ticket","arguments":{"ticketId":"1"}}}`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"list_agents","arguments":{}}}`,
	}
	for _, line := range lines {
		got, want := spliced(line), plain(line)
		if !bytes.Equal(got, want) {
			t.Errorf("answer to %.80s:\n spliced %.400s\n   plain %.400s", line, got, want)
		}
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.next < 3 || len(sp.m) != 0 {
		t.Errorf("splices: %d parked, %d left; want every successful call parked and taken", sp.next, len(sp.m))
	}
}

// TestUnsplice: a placeholder is replaced by its result once; in a result
// with line breaks (rows Zoho sent with whitespace) they become spaces, so
// that the answer stays one line; anything else passes through.
func TestUnsplice(t *testing.T) {
	t.Parallel()
	c := &stdioConn{splices: newSplices()}
	id, err := jsonrpc.MakeID(float64(9))
	if err != nil {
		t.Fatal(err)
	}
	park := func(encoded string) []byte {
		t.Helper()
		b, err := c.splices.put(&mcp.CallToolResult{}, []byte(encoded)).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	result := func(m jsonrpc.Message) (string, error) {
		r := m.(*jsonrpc.Response)
		return string(r.Result), r.Error
	}

	ph := park(`{"content":[],"structuredContent":{"a":"x y"}}`)
	if got, err := result(c.unsplice(&jsonrpc.Response{ID: id, Result: ph})); got != `{"content":[],"structuredContent":{"a":"x y"}}` || err != nil {
		t.Errorf("unsplice = %s, %v; want the parked result", got, err)
	}
	if got, err := result(c.unsplice(&jsonrpc.Response{ID: id, Result: ph})); got != "" || err == nil {
		t.Errorf("second unsplice of one placeholder = %s, %v; want an internal error", got, err)
	}

	ph = park("{\"content\":[],\r\n \"structuredContent\":{\"a\": \"line\\nbreak\"}}")
	if got, err := result(c.unsplice(&jsonrpc.Response{ID: id, Result: ph})); got != `{"content":[],   "structuredContent":{"a": "line\nbreak"}}` || err != nil {
		t.Errorf("unsplice with line breaks = %q, %v; want them spaces, the same JSON on one line", got, err)
	}

	ph = park("{\"a\":\"\xff\xfe\",\n\"b\":1}") // bytes that are not UTF-8 pass as they are
	if got, err := result(c.unsplice(&jsonrpc.Response{ID: id, Result: ph})); got != "{\"a\":\"\xff\xfe\", \"b\":1}" || err != nil {
		t.Errorf("unsplice of bytes that are not UTF-8 = %q, %v; want only the line break changed", got, err)
	}

	other := &jsonrpc.Response{ID: id, Result: []byte(`{"content":[]}`)}
	if got := c.unsplice(other); got != other {
		t.Errorf("unsplice changed a result that is no placeholder: %v", got)
	}
	notOurs := &jsonrpc.Response{ID: id, Result: []byte(placeholderPrefix + `"x"}`)}
	if got := c.unsplice(notOurs); got != notOurs {
		t.Errorf("unsplice changed a result shaped like no placeholder: %v", got)
	}
}

// TestHTTPSplices: over HTTP, with results spliced into the POST's
// response, every answer is byte for byte what the SDK writes when it
// encodes the result itself (an SDK handler without HTTPHandler's
// splicing, on the same data), and no placeholder reaches the client.
func TestHTTPSplices(t *testing.T) {
	t.Parallel()
	env, base := newHTTPServer(t)
	plainSrv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server {
		return New(realRegistry(), ConnectionResolver(env.conns(), env.conn.TenantID, env.conn.ID), nil)
	}, nil))
	t.Cleanup(plainSrv.Close)

	open := func(url, key string) func(body string) []byte {
		resp := rawPost(t, url, key, "", initializeBody)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		session := resp.Header.Get("Mcp-Session-Id")
		if resp.StatusCode != http.StatusOK || session == "" {
			t.Fatalf("initialize at %s: HTTP %d, session %q", url, resp.StatusCode, session)
		}
		resp = rawPost(t, url, key, session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return func(body string) []byte {
			resp := rawPost(t, url, key, session, body)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("POST %.60s: HTTP %d, %v: %s", body, resp.StatusCode, err, b)
			}
			return b
		}
	}
	spliced := open(base+"/mcp/demo", "key-a")
	plain := open(plainSrv.URL, "")
	calls := []string{
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_tickets","arguments":{"params":{"limit":10}}}}`,
		`{"jsonrpc":"2.0","id":"three","method":"tools/call","params":{"name":"get_ticket","arguments":{"ticketId":"1892000000042032"}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_tickets","arguments":{"view":"full","params":{"limit":3}}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_ticket","arguments":{"ticketId":"1"}}}`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"list_agents","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":7,"method":"tools/list"}`,
	}
	for _, body := range calls {
		got, want := spliced(body), plain(body)
		if !bytes.Equal(got, want) {
			t.Errorf("answer to %.80s:\n spliced %.400s\n   plain %.400s", body, got, want)
		}
		if bytes.Contains(got, []byte("deskconn-splice")) {
			t.Errorf("answer to %.80s carries a placeholder: %.300s", body, got)
		}
	}
}

// TestSpliceWriter: each of a request's placeholders in a written message
// is replaced by its result (line breaks made spaces), once; a placeholder
// the request does not hold, and anything else, passes unchanged; the
// writer reports the caller's bytes written and flushes through.
func TestSpliceWriter(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	w := &spliceWriter{ResponseWriter: rec, splices: newSplices()}
	park := func(encoded string) string {
		t.Helper()
		b, err := w.splices.put(&mcp.CallToolResult{}, []byte(encoded)).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a, b := park(`{"content":[],"structuredContent":{"a":"x y"}}`), park("{\"content\":[],\n \"structuredContent\":{\"b\": \"line\\nbreak\"}}")
	msg := `[{"jsonrpc":"2.0","id":1,"result":` + a + `},{"jsonrpc":"2.0","id":2,"result":` + b + `},` +
		`{"jsonrpc":"2.0","id":3,"result":{"deskconn-splice":99}},{"jsonrpc":"2.0","id":4,"result":{"content":[{"type":"text","text":"{\"deskconn-splice\":1}"}]}}]`
	n, err := w.Write([]byte("data: " + msg + "\n\n"))
	if err != nil || n != len("data: "+msg+"\n\n") {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len("data: "+msg+"\n\n"))
	}
	want := `data: [{"jsonrpc":"2.0","id":1,"result":{"content":[],"structuredContent":{"a":"x y"}}},` +
		`{"jsonrpc":"2.0","id":2,"result":{"content":[],  "structuredContent":{"b": "line\nbreak"}}},` +
		`{"jsonrpc":"2.0","id":3,"result":{"deskconn-splice":99}},{"jsonrpc":"2.0","id":4,"result":{"content":[{"type":"text","text":"{\"deskconn-splice\":1}"}]}}]` + "\n\n"
	if got := rec.Body.String(); got != want {
		t.Errorf("written:\n got %s\nwant %s", got, want)
	}
	if len(w.splices.m) != 0 {
		t.Errorf("%d parked results left; want each taken", len(w.splices.m))
	}

	rec.Body.Reset()
	again := `{"jsonrpc":"2.0","id":1,"result":` + a + `}`
	if _, err := w.Write([]byte(again)); err != nil || rec.Body.String() != again {
		t.Errorf("a placeholder already taken: wrote %s, %v; want it unchanged", rec.Body.String(), err)
	}
	if err := http.NewResponseController(w).Flush(); err != nil || !rec.Flushed {
		t.Errorf("Flush through the writer: %v, flushed %v", err, rec.Flushed)
	}
}
