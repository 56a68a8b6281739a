package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn"
)

func TestToyResults(t *testing.T) {
	t.Parallel()
	ts := &toys{}
	cs := connect(t, New(ts.registry(), fixedResolver(toyTarget), nil))

	tests := []struct {
		name, tool, args string
		wantErr          bool
		wantCode         deskconn.Code
		wantPointers     []string
		wantText         []string // substrings of the text content
		notText          []string
	}{
		{name: "success", tool: "greet", args: `{"name":"Ada"}`, wantText: []string{`{"greeting":"hello Ada"}`}},
		{name: "list summary", tool: "list_things", args: `{}`,
			wantText: []string{"2 result(s) from index 0; more exist: pass params.from=2 for the next page.\n{"}},
		{name: "every validation problem", tool: "greet", args: `{"times":7,"mood":"sad","extra":1}`, wantErr: true, wantCode: deskconn.CodeInvalid,
			wantPointers: []string{"/extra", "/mood", "/name", "/times"},
			wantText:     []string{"Error (invalid):", "Problems (fix every one, then call again):", "- /name (missing)", "- /times", "- /mood", "- /extra"}},
		{name: "lookup hint", tool: "make_thing", args: `{"departmentId":"999","subject":"x"}`, wantErr: true, wantCode: deskconn.CodeInvalid,
			wantPointers: []string{"/departmentId"},
			wantText:     []string{"- /departmentId (invalid): no department has this id Find a valid value with list_departments."}},
		{name: "confirmation required", tool: "zap_thing", args: `{"id":"7"}`, wantErr: true, wantCode: deskconn.CodeForbidden,
			wantPointers: []string{"/confirm"},
			wantText:     []string{"this would zap the thing 7 for good", `"confirm": true`, "Nothing was changed."}},
		{name: "ambiguous lists candidates", tool: "pick_thing", args: `{}`, wantErr: true, wantCode: deskconn.CodeAmbiguous,
			wantText: []string{"Candidates (choose one and call again with its id):\n- id 1: #101 box (Open)\n- id 2: #102 box"}},
		{name: "internal hides cause", tool: "crash", args: `{}`, wantErr: true, wantCode: deskconn.CodeInternal,
			wantText: []string{"Error (internal): internal error."}, notText: []string{"abc123", "secret"}},
		{name: "rate limited", tool: "throttled", args: `{}`, wantErr: true, wantCode: deskconn.CodeRateLimited,
			wantText: []string{"Retry after 2 second(s).", "Zoho Desk answered HTTP 429 TOO_MANY_REQUESTS (request id req-7)."}},
		{name: "malformed arguments", tool: "greet", args: `[1,2]`, wantErr: true, wantCode: deskconn.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, cs, tt.tool, tt.args)
			txt := text(t, res)
			if res.IsError != tt.wantErr {
				t.Fatalf("IsError = %v, want %v; text:\n%s", res.IsError, tt.wantErr, txt)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(txt, s) {
					t.Errorf("text does not contain %q:\n%s", s, txt)
				}
			}
			for _, s := range tt.notText {
				if strings.Contains(txt, s) || strings.Contains(string(structured(t, res)), s) {
					t.Errorf("result leaks %q:\n%s", s, txt)
				}
			}
			if !tt.wantErr {
				return
			}
			body, _ := errorOf(t, res)
			if body.Code != tt.wantCode {
				t.Errorf("code = %s, want %s", body.Code, tt.wantCode)
			}
			if tt.wantPointers != nil && !slices.Equal(pointersOf(body), tt.wantPointers) {
				t.Errorf("pointers = %v, want %v", pointersOf(body), tt.wantPointers)
			}
		})
	}
	if n := ts.zapped.Load(); n != 0 {
		t.Errorf("zap_thing ran %d times without confirmation", n)
	}
}

func TestConfirmThenDryRun(t *testing.T) {
	t.Parallel()
	ts := &toys{}
	cs := connect(t, New(ts.registry(), fixedResolver(toyTarget), nil))

	res := call(t, cs, "make_thing", `{"departmentId":"1","subject":"s","dryRun":true}`)
	out := mustSucceed(t, res)
	if !strings.HasPrefix(text(t, res), "Dry run of make_thing: nothing was sent. It would send 1 request(s) to Zoho Desk: POST /things.") {
		t.Errorf("dry-run text = %q", text(t, res))
	}
	if !bytes.Contains(out, []byte(`"dryRun":true`)) || ts.made.Load() != 0 {
		t.Errorf("dry run: structured %s, made %d", out, ts.made.Load())
	}

	if res := call(t, cs, "zap_thing", `{"id":"7","confirm":true}`); res.IsError || ts.zapped.Load() != 1 {
		t.Fatalf("confirmed zap: IsError %v, zapped %d: %s", res.IsError, ts.zapped.Load(), text(t, res))
	}
}

func TestResolverErrors(t *testing.T) {
	t.Parallel()
	ts := &toys{}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	reauth := deskconn.Errorf(deskconn.CodeNeedsReauth, "connection \"demo\" must be reconnected")
	cs := connect(t, New(ts.registry(), errResolver(reauth), &Options{Logger: log}))
	body, txt := errorOf(t, call(t, cs, "greet", `{"name":"a"}`))
	if body.Code != deskconn.CodeNeedsReauth || !strings.Contains(txt, "must be reconnected") {
		t.Errorf("needs_reauth: %s / %s", body.Code, txt)
	}

	cs = connect(t, New(ts.registry(), errResolver(errBoom), &Options{Logger: log}))
	body, txt = errorOf(t, call(t, cs, "greet", `{"name":"a"}`))
	if body.Code != deskconn.CodeInternal || strings.Contains(txt, "abc123") {
		t.Errorf("plain resolver error: %s / %s", body.Code, txt)
	}
	// The cause is logged for operators, once per failed call.
	if got := strings.Count(logs.String(), "mcp tool call failed"); got != 2 {
		t.Errorf("logged %d failures, want 2:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "code=internal") || !strings.Contains(logs.String(), "tool=greet") {
		t.Errorf("log lacks code or tool:\n%s", logs.String())
	}
}

// TestCancelledCallIsNotAnError: a call whose client went away (its
// context cancelled, the resolver failing with that) is logged as
// cancelled at info level, not as an internal error with a cause.
func TestCancelledCallIsNotAnError(t *testing.T) {
	t.Parallel()
	ts := &toys{}
	var logs bytes.Buffer
	reg := ts.registry()
	h := &handler{reg: reg, act: reg.Lookup("greet"), resolve: errResolver(fmt.Errorf("get connection: %w", context.Canceled)),
		log: slog.New(slog.NewTextHandler(&logs, nil)), hints: newHinter(reg)}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := h.call(ctx, &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "greet", Arguments: json.RawMessage(`{"name":"a"}`)}})
	if err != nil || res == nil || !res.IsError {
		t.Fatalf("call = %+v, %v; want an error result", res, err)
	}
	if !strings.Contains(logs.String(), "mcp tool call cancelled by the client") || strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("log of a cancelled call:\n%s", logs.String())
	}

	// The same failure while the client still waits is an internal error.
	logs.Reset()
	h.call(t.Context(), &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "greet", Arguments: json.RawMessage(`{"name":"a"}`)}})
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "mcp tool call failed") {
		t.Errorf("log of a failed call:\n%s", logs.String())
	}
}

func TestUnknownToolIsProtocolError(t *testing.T) {
	t.Parallel()
	ts := &toys{}
	cs := connect(t, New(ts.registry(), fixedResolver(toyTarget), nil))
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "no_such_tool", Arguments: map[string]any{}})
	if err == nil {
		t.Fatalf("CallTool(no_such_tool) = %+v, want a JSON-RPC error", res)
	}
}

// TestStructuredContentMatchesOutputSchema checks that every result, success,
// dry run or error, validates against OutputSchema of its action (which
// tools/list does not advertise, to stay small).
func TestStructuredContentMatchesOutputSchema(t *testing.T) {
	t.Parallel()
	ts := &toys{}
	cs := connect(t, New(ts.registry(), fixedResolver(toyTarget), nil))
	schemas := map[string]*jsonschema.Resolved{}
	for _, a := range ts.registry().List() {
		var s jsonschema.Schema
		if err := json.Unmarshal(OutputSchema(a), &s); err != nil {
			t.Fatal(err)
		}
		r, err := s.Resolve(nil)
		if err != nil {
			t.Fatalf("%s: output schema: %v", a.Name(), err)
		}
		schemas[a.Name()] = r
	}
	calls := []struct{ tool, args string }{
		{"greet", `{"name":"x"}`}, {"greet", `{}`}, {"make_thing", `{"departmentId":"1","subject":"s","dryRun":true}`},
		{"make_thing", `{"departmentId":"999","subject":"s"}`}, {"zap_thing", `{"id":"1"}`}, {"pick_thing", `{}`},
		{"crash", `{}`}, {"throttled", `{}`}, {"list_things", `{}`},
	}
	for _, c := range calls {
		res := call(t, cs, c.tool, c.args)
		var v any
		if err := json.Unmarshal(structured(t, res), &v); err != nil {
			t.Fatal(err)
		}
		if err := schemas[c.tool].Validate(v); err != nil {
			t.Errorf("%s %s: structured content does not match the output schema: %v\n%s", c.tool, c.args, err, structured(t, res))
		}
	}
}

func TestFieldName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/payload/departmentId": "departmentId",
		"/payload/teamIds/2":    "teamIds",
		"/orgId":                "orgId",
		"":                      "",
		"/a~1b/0":               "a/b",
		"/0/1":                  "",
	}
	for in, want := range tests {
		if got := fieldName(in); got != want {
			t.Errorf("fieldName(%q) = %q, want %q", in, got, want)
		}
	}
}
