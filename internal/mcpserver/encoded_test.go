package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// sdkEncode encodes v as the SDK's JSON-RPC layer encodes a result: with
// encoding/json, without HTML escaping at the top level.
func sdkEncode(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// TestEncodedResultMatchesSDK: the result encoded once by successResult is,
// byte for byte, what the SDK makes of the same *mcp.CallToolResult.
func TestEncodedResultMatchesSDK(t *testing.T) {
	outputs := []any{
		map[string]any{"data": []any{}, "count": 0},
		map[string]any{"id": "1", "subject": "<b>Printer</b> & \"scanner\" \u2028 line\nbreak \t é 😀", "n": 1.5, "ok": true, "x": nil},
		[]any{map[string]any{"nested": map[string]any{"deep": []any{1, "two", map[string]any{}}}}},
	}
	texts := []string{"", "3 tickets (from 0).", "summary <tag> & more\n", "\u2029 \x01 \\ / é", "invalid \xff utf-8"}
	for _, o := range outputs {
		out, err := json.Marshal(o) // as the registry encodes an output
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range texts {
			text += string(out)
			for _, structured := range []bool{true, false} {
				slot := &resultSlot{}
				res := successResult(context.WithValue(t.Context(), resultSlotKey{}, slot), text, out, structured)
				if slot.res != res {
					t.Fatalf("the slot holds %p, want the result %p", slot.res, res)
				}
				want := sdkEncode(t, res)
				got := sdkEncode(t, encodedResult{CallToolResult: res, encoded: slot.encoded})
				if !bytes.Equal(got, want) {
					t.Errorf("text %q, structured %v:\n got %s\nwant %s", text, structured, got, want)
				}
			}
		}
	}
}

// TestSuccessResultWithoutSlot: a handler called outside encodeResults (a
// test calling it directly) still returns the whole result.
func TestSuccessResultWithoutSlot(t *testing.T) {
	res := successResult(t.Context(), "text", json.RawMessage(`{"a":1}`), true)
	if len(res.Content) != 1 || res.Content[0].(*mcp.TextContent).Text != "text" || string(res.StructuredContent.(json.RawMessage)) != `{"a":1}` {
		t.Errorf("result = %+v", res)
	}
}

// TestEncodeResultsLeavesOtherResults: only the result the handler encoded
// is replaced; a different result (or an error, or another method) passes
// through untouched.
func TestEncodeResultsLeavesOtherResults(t *testing.T) {
	other := &mcp.CallToolResult{IsError: true}
	cases := []struct {
		name   string
		method string
		next   mcp.MethodHandler
		want   func(mcp.Result) bool
	}{
		{"encoded", "tools/call", func(ctx context.Context, _ string, _ mcp.Request) (mcp.Result, error) {
			return successResult(ctx, "t", json.RawMessage(`{}`), true), nil
		}, func(r mcp.Result) bool { _, ok := r.(encodedResult); return ok }},
		{"replaced", "tools/call", func(ctx context.Context, _ string, _ mcp.Request) (mcp.Result, error) {
			successResult(ctx, "t", json.RawMessage(`{}`), true)
			return other, nil
		}, func(r mcp.Result) bool { return r == mcp.Result(other) }},
		{"error result", "tools/call", func(context.Context, string, mcp.Request) (mcp.Result, error) {
			return other, nil
		}, func(r mcp.Result) bool { return r == mcp.Result(other) }},
		{"other method", "tools/list", func(ctx context.Context, _ string, _ mcp.Request) (mcp.Result, error) {
			if ctx.Value(resultSlotKey{}) != nil {
				t.Error("tools/list got a result slot")
			}
			return &mcp.ListToolsResult{}, nil
		}, func(r mcp.Result) bool { _, ok := r.(*mcp.ListToolsResult); return ok }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := encodeResults(tc.next)(t.Context(), tc.method, nil)
			if err != nil || !tc.want(res) {
				t.Errorf("result %T %v, %v", res, res, err)
			}
		})
	}
}
