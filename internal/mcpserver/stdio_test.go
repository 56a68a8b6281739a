package mcpserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// TestStdioSurvivesBadLines feeds `deskconn mcp`'s transport bad lines
// between good ones: each bad line is answered with a JSON-RPC error (id
// null) and the session goes on to answer the good requests.
func TestStdioSurvivesBadLines(t *testing.T) {
	t.Parallel()
	srv := New(realRegistry(), fixedResolver(toyTarget), nil)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- srv.Run(t.Context(), StdioTransport(inR, outW, nil)) }()
	out := bufio.NewReader(outR)
	next := func() map[string]any {
		t.Helper()
		line, err := out.ReadBytes('\n')
		if err != nil {
			t.Fatalf("read answer: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("answer %q: %v", line, err)
		}
		return m
	}
	send := func(line string) {
		t.Helper()
		if _, err := io.WriteString(inW, line+"\n"); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	wantError := func(line string, code int) {
		t.Helper()
		send(line)
		m := next()
		e, _ := m["error"].(map[string]any)
		if id, ok := m["id"]; !ok || id != nil || e == nil || e["code"] != float64(code) {
			t.Fatalf("answer to %.40q = %v, want error %d with id null", line, m, code)
		}
	}

	wantError("this is not json", jsonrpc.CodeParseError)
	wantError(`{"jsonrpc":"2.0","id":1,"method":"initialize"`, jsonrpc.CodeParseError)
	wantError(strings.Repeat("[", 20000)+strings.Repeat("]", 20000), jsonrpc.CodeParseError)
	wantError(`{"hello":"world"}`, jsonrpc.CodeInvalidRequest)
	wantError(`[]`, jsonrpc.CodeInvalidRequest)
	send("") // blank lines are skipped
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if m := next(); m["id"] != float64(1) || m["result"] == nil {
		t.Fatalf("initialize after bad lines: %v", m)
	}
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	wantError("{{{", jsonrpc.CodeParseError)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if m := next(); m["id"] != float64(2) || m["result"] == nil {
		t.Fatalf("tools/list after a bad line: %v", m)
	}

	inW.Close()
	if err := <-done; err != nil && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "closed") {
		t.Errorf("Run after stdin closed: %v", err)
	}
	outW.Close()
}

// TestStdioLineLimit checks that a line over MaxMessageBytes is answered
// with a parse error without being kept, and a line within it passes.
func TestStdioLineLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n        int
		tooLong  bool
		wantLine int
	}{{10, false, 10}, {100, false, 100}, {101, true, 0}, {5000, true, 0}} {
		br := bufio.NewReaderSize(strings.NewReader(strings.Repeat("x", tc.n)+"\r\nnext\n"), 16)
		line, tooLong, err := readLine(br, 100)
		if err != nil || tooLong != tc.tooLong || len(line) != tc.wantLine {
			t.Errorf("%d bytes: line of %d, tooLong %t, err %v", tc.n, len(line), tooLong, err)
		}
		if line, _, _ := readLine(br, 100); string(line) != "next" {
			t.Errorf("%d bytes: the next line is %q", tc.n, line)
		}
	}
}

// TestEncodeLineMatchesSDK: the spliced encoding of responses is byte for
// byte the SDK's, for every kind of id and result, and errors and
// requests take the SDK's path.
func TestEncodeLineMatchesSDK(t *testing.T) {
	ids := []any{float64(0), float64(7), float64(-3), float64(1 << 53), "", "abc", `quo"te\back`, "<&>", "tab\there", "é", "\u2028", "\x7f"}
	results := []any{
		map[string]any{"content": []any{map[string]any{"type": "text", "text": "a \"b\" <c> & \u2028 é"}}},
		json.RawMessage(`{"a" : [1, 2 ,3]}`),
		[]int{1, 2},
		"s",
		map[string]any{},
	}
	for _, raw := range ids {
		id, err := jsonrpc.MakeID(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range results {
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			// The SDK marshals results with an encoder that does not escape HTML.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(json.RawMessage(b)); err != nil {
				t.Fatal(err)
			}
			msgs := []jsonrpc.Message{
				&jsonrpc.Response{ID: id, Result: bytes.TrimRight(buf.Bytes(), "\n")},
				&jsonrpc.Response{ID: id, Error: &jsonrpc.Error{Code: -32602, Message: "bad <param>"}},
				&jsonrpc.Request{ID: id, Method: "tools/call", Params: b},
			}
			for _, m := range msgs {
				want, err := jsonrpc.EncodeMessage(m)
				if err != nil {
					t.Fatal(err)
				}
				got, err := encodeLine(m)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want)+"\n" {
					t.Errorf("id %q, %T: encodeLine\n%s\nwant\n%s", raw, m, got, want)
				}
			}
		}
	}
}
