package mcpserver

import (
	"cmp"
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

// maxToolsListBytes is the budget of the whole tools/list answer (its tools,
// as compact JSON): it is part of every conversation's context.
const maxToolsListBytes = 30 * 1024

// TestToolsListSize measures tools/list for the whole catalogue, logs each
// tool's share (largest first) and fails above maxToolsListBytes.
func TestToolsListSize(t *testing.T) {
	t.Parallel()
	cs := connect(t, New(realRegistry(), errResolver(errBoom), nil))
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	type size struct {
		name               string
		total, desc, input int
	}
	var sizes []size
	for _, tool := range res.Tools {
		b, err := json.Marshal(tool)
		if err != nil {
			t.Fatal(err)
		}
		in, err := json.Marshal(tool.InputSchema)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, size{tool.Name, len(b), len(tool.Description), len(in)})
	}
	slices.SortFunc(sizes, func(a, b size) int { return cmp.Compare(b.total, a.total) })
	for _, s := range sizes {
		t.Logf("%6d bytes  %-28s (description %d, input schema %d)", s.total, s.name, s.desc, s.input)
	}
	t.Logf("tools/list: %d tools, %d bytes of compact JSON (budget %d)", len(res.Tools), len(all), maxToolsListBytes)
	if len(all) > maxToolsListBytes {
		t.Errorf("tools/list is %d bytes, over the budget of %d: shorten descriptions or schemas (see the sizes above)", len(all), maxToolsListBytes)
	}
}

// TestLeanSchemasAcceptValidCalls checks the lean input schemas shown to
// models accept every valid call, shared fields included: a client that
// checks arguments against them never blocks what the server accepts.
func TestLeanSchemasAcceptValidCalls(t *testing.T) {
	t.Parallel()
	reg := realRegistry()
	extra := map[string]any{"orgId": "2389290", "dryRun": true, "idempotencyKey": "k-1", "confirm": true}
	for _, c := range validCalls {
		a := reg.Lookup(c.tool)
		var s jsonschema.Schema
		if err := json.Unmarshal(leanInputSchema(a), &s); err != nil {
			t.Fatal(err)
		}
		r, err := s.Resolve(nil)
		if err != nil {
			t.Fatalf("%s: lean schema: %v", c.tool, err)
		}
		var in map[string]any
		if err := json.Unmarshal([]byte(c.args), &in); err != nil {
			t.Fatal(err)
		}
		for k, v := range extra {
			if _, ok := a.InputSchema().Properties[k]; ok {
				in[k] = v
			}
		}
		if err := r.Validate(in); err != nil {
			t.Errorf("%s %s: the lean schema refuses a valid call: %v", c.tool, c.args, err)
		}
	}
}
