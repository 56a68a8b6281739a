package mcpserver

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// FuzzToolArguments sends arbitrary bytes as a tool call's arguments (what a
// client controls) and checks the call always ends in a result, never a
// protocol error or a panic: a success, or an error result whose structured
// content matches the advertised error schema and whose text says what is
// wrong.
func FuzzToolArguments(f *testing.F) {
	for _, seed := range []string{
		`{"name":"Ada"}`, `{}`, ``, `null`, `[1]`, `"x"`, `{"name":`, `{"name":"a","times":99,"mood":"x","zz":{}}`,
		`{"departmentId":"999","subject":"s"}`, `{"id":"1"}`, `{"id":"1","confirm":true}`, `{"dryRun":true,"departmentId":"1","subject":"s"}`,
		"{\"name\":\"\xff\"}", `{"name":"a"}{"name":"b"}`,
	} {
		for _, tool := range []string{"greet", "make_thing", "zap_thing"} {
			f.Add(tool, []byte(seed))
		}
	}
	ts := &toys{}
	reg := ts.registry()
	hints := newHinter(reg)
	var errSchema jsonschema.Schema
	if err := json.Unmarshal(errorSchemaJSON, &errSchema); err != nil {
		f.Fatal(err)
	}
	resolved, err := errSchema.Resolve(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tool string, args []byte) {
		a := reg.Lookup(tool)
		if a == nil {
			return
		}
		h := &handler{reg: reg, act: a, resolve: fixedResolver(toyTarget), log: slog.New(slog.DiscardHandler), hints: hints, structured: OutputSchema(a) != nil}
		res, err := h.call(t.Context(), &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: tool, Arguments: args}})
		if err != nil || res == nil {
			t.Fatalf("call(%s, %q) = %v, %v; want a result", tool, args, res, err)
		}
		if len(res.Content) != 1 {
			t.Fatalf("%d content items", len(res.Content))
		}
		txt := res.Content[0].(*mcp.TextContent).Text
		if !res.IsError {
			return
		}
		if !strings.HasPrefix(txt, "Error (") {
			t.Errorf("error text %q does not start with the code", txt)
		}
		b, err := json.Marshal(res.StructuredContent)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if err := resolved.Validate(v); err != nil {
			t.Errorf("error content %s does not match the error schema: %v", b, err)
		}
	})
}

// FuzzFieldName checks fieldName never panics, never returns an array
// index, and yields a "/" only from an escaped "~1".
func FuzzFieldName(f *testing.F) {
	for _, s := range []string{"/payload/departmentId", "/a/0", "", "/", "//", "/a~1b~0c", "/0/1/x/2", "~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		name := fieldName(p)
		if _, err := strconv.Atoi(name); err == nil {
			t.Errorf("fieldName(%q) = %q, an array index", p, name)
		}
		if strings.Contains(name, "/") && !strings.Contains(p, "~1") {
			t.Errorf("fieldName(%q) = %q contains a /", p, name)
		}
	})
}

// FuzzSpliceWriter: whatever surrounds a parked result's placeholder in a
// message (markers that are not placeholders included), the writer never
// panics, reports the caller's length, and writes the message with the
// result, on one line, in the placeholder's place and nothing else changed.
func FuzzSpliceWriter(f *testing.F) {
	f.Add([]byte(`event: message\ndata: {"jsonrpc":"2.0","id":1,`), []byte("}\n\n"), []byte(`{"content":[]}`))
	f.Add([]byte(`[{"result":{"deskconn-splice":`), []byte(`,{"result":{"deskconn-splice":7}}]`), []byte("{\"a\":\n1}"))
	f.Add([]byte(`"result":{"deskconn-splice":x}`), []byte(`}`), []byte(`[]`))
	f.Fuzz(func(t *testing.T, prefix, suffix, encoded []byte) {
		if len(encoded) == 0 {
			return // a parked result is never empty
		}
		rec := httptest.NewRecorder()
		w := &spliceWriter{ResponseWriter: rec, splices: newSplices()}
		ph, err := w.splices.put(&mcp.CallToolResult{}, encoded).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		msg := slices.Concat(prefix, []byte(`"result":`), ph, suffix)
		if bytes.Count(msg, ph) != 1 {
			return // the same placeholder twice: the SDK writes each once
		}
		n, err := w.Write(msg)
		if err != nil || n != len(msg) {
			t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(msg))
		}
		want := slices.Concat(prefix, []byte(`"result":`), oneLine(encoded), suffix)
		if got := rec.Body.Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("wrote %q\nwant  %q", got, want)
		}
	})
}
