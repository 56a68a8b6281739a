package mcpserver

import (
	"cmp"
	"encoding/json"
	"slices"
	"testing"
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
