package mcpserver

import (
	"encoding/json"
	"log/slog"
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
