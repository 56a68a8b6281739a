package action_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/google/jsonschema-go/jsonschema"
)

type readOnlyIn struct {
	ID string `json:"id"`
}

type writeIn struct {
	action.WriteOptions
	ID string `json:"id"`
}

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one containing %q", want)
		}
		if !strings.Contains(fmt.Sprint(r), want) {
			t.Fatalf("panic %q, want one containing %q", r, want)
		}
	}()
	f()
}

func TestDefinePanicsOnMistakes(t *testing.T) {
	t.Parallel()
	info := action.Info{Title: "T", Description: "D"}
	noop := func(context.Context, *action.Call, readOnlyIn) (readOnlyIn, error) { return readOnlyIn{}, nil }
	noopW := func(context.Context, *action.Call, writeIn) (readOnlyIn, error) { return readOnlyIn{}, nil }
	tests := []struct {
		name, want string
		f          func()
	}{
		{"bad name", "snake_case", func() { action.Define("Create-Ticket", info, noop) }},
		{"no description", "title and description", func() { action.Define("x", action.Info{Title: "T"}, noop) }},
		{"write without options", "must embed action.WriteOptions", func() {
			action.Define("x", action.Info{Title: "T", Description: "D", Write: true}, noop)
		}},
		{"read with options", "must not embed", func() { action.Define("x", info, noopW) }},
		{"destructive read", "must be a write", func() {
			action.Define("x", action.Info{Title: "T", Description: "D", Hints: action.Hints{Destructive: true}}, noop)
		}},
		{"read-only write", "cannot be ReadOnly", func() {
			action.Define("x", action.Info{Title: "T", Description: "D", Write: true, Hints: action.Hints{ReadOnly: true}}, noopW)
		}},
		{"bad example", "example 0", func() {
			action.Define("x", action.Info{Title: "T", Description: "D", Examples: []json.RawMessage{json.RawMessage(`{"idd":"1"}`)}}, noop)
		}},
		{"unsupported keyword", "does not implement", func() {
			action.Define("x", action.Info{Title: "T", Description: "D", TypeSchemas: map[reflect.Type]*jsonschema.Schema{
				reflect.TypeFor[string](): {AnyOf: []*jsonschema.Schema{{Type: "string"}}}}}, noop)
		}},
		{"bad tag key", "unknown key", func() {
			type in struct {
				A string `json:"a" schema:"maxLen=3"`
			}
			action.Define("x", info, func(context.Context, *action.Call, in) (in, error) { return in{}, nil })
		}},
		{"unsupported format", "unsupported format", func() {
			type in struct {
				A string `json:"a" schema:"format=hostname"`
			}
			action.Define("x", info, func(context.Context, *action.Call, in) (in, error) { return in{}, nil })
		}},
		{"non-object input", "must be a struct", func() {
			action.Define("x", info, func(context.Context, *action.Call, string) (string, error) { return "", nil })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mustPanic(t, tt.want, tt.f)
		})
	}
}

type priority string

func TestSchemaTagsAndTypeSchemas(t *testing.T) {
	t.Parallel()
	type item struct {
		Kind string `json:"kind" schema:"enum=a|b"`
	}
	type in struct {
		P     priority          `json:"p,omitempty"`
		N     *int              `json:"n,omitempty" schema:"enum=1|2"`
		Items []item            `json:"items,omitempty" schema:"uniqueItems,minItems=1"`
		Raw   json.RawMessage   `json:"raw,omitempty"`
		Map   map[string]string `json:"map,omitempty" schema:"default={}"`
		Day   string            `json:"day,omitempty" schema:"format=date,default=2024-01-01"`
		ID    string            `json:"id,omitempty" schema:"format=uuid"`
		URL   string            `json:"url,omitempty" schema:"format=uri"`
		Score float64           `json:"score,omitempty" schema:"exclusiveMinimum=0,exclusiveMaximum=1"`
	}
	a := action.Define("toy_tags", action.Info{Title: "T", Description: "D",
		TypeSchemas: map[reflect.Type]*jsonschema.Schema{reflect.TypeFor[priority](): {Type: "string", Enum: []any{"Low", "High"}}}},
		func(_ context.Context, _ *action.Call, v in) (in, error) { return v, nil })
	r := action.NewRegistry(action.Options{})
	r.Add(a)
	ok := `{"p":"Low","n":null,"items":[{"kind":"a"},{"kind":"b"}],"raw":{"x":[1]},"map":{"k":"v"},"day":"2024-02-03","id":"123e4567-e89b-12d3-a456-426614174000","url":"https://x.test/a","score":0.5}`
	out, err := r.Invoke(t.Context(), target(), "toy_tags", json.RawMessage(ok), action.InvokeOptions{})
	if err != nil {
		t.Fatalf("valid input refused: %v", err)
	}
	if err := a.ValidateOutput(out); err != nil {
		t.Errorf("output: %v", err)
	}
	bad := `{"p":"Mid","n":3,"items":[{"kind":"a"},{"kind":"a"},{"kind":"c"}],"map":{"k":1},"day":"03/02/2024","id":"x","url":"/rel","score":1}`
	_, err = r.Invoke(t.Context(), target(), "toy_tags", json.RawMessage(bad), action.InvokeOptions{})
	got := map[string]string{}
	for _, f := range deskconn.AsError(err).Fields {
		got[f.Pointer] = f.Message
	}
	want := map[string]string{
		"/p":            `must be one of "Low", "High"; got a string "Mid"`,
		"/n":            `must be one of 1, 2, null; got an integer 3`,
		"/items/1":      "repeats item 0; remove the duplicate",
		"/items/2/kind": `must be one of "a", "b"; got a string "c"`,
		"/map/k":        "must be a string, not an integer 1",
		"/day":          `must be a date in YYYY-MM-DD form, e.g. 2024-05-01; got "03/02/2024"`,
		"/id":           `must be a UUID, e.g. 123e4567-e89b-12d3-a456-426614174000; got "x"`,
		"/url":          `must be an absolute URL, e.g. https://example.com/file.pdf; got "/rel"`,
		"/score":        "must be less than 1; got 1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems %v, want %d", len(got), got, len(want))
	}
	s := string(a.InputSchemaJSON())
	for _, w := range []string{`"uniqueItems":true`, `"default":"2024-01-01"`, `"default":{}`, `"exclusiveMinimum":0`} {
		if !strings.Contains(s, w) {
			t.Errorf("schema lacks %s: %s", w, s)
		}
	}
}

func TestCallOrgID(t *testing.T) {
	t.Parallel()
	c := &action.Call{Conn: action.Conn{DefaultOrgID: "9"}}
	if got, err := c.OrgID("5"); got != "5" || err != nil {
		t.Errorf("OrgID(5) = %q, %v", got, err)
	}
	if got, err := c.OrgID(""); got != "9" || err != nil {
		t.Errorf("OrgID('') = %q, %v", got, err)
	}
	c.Conn.DefaultOrgID = ""
	_, err := c.OrgID("")
	de := deskconn.AsError(err)
	if de.Code != deskconn.CodeInvalid || de.Fields[0].Pointer != "/orgId" || !strings.Contains(de.Fields[0].Message, "list_organizations") {
		t.Errorf("OrgID without default: %v", err)
	}
}
