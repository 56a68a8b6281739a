package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestCatalogueScenario: the scenario measures tools/list over MCP (the
// whole catalogue within the budget, read-only smaller) and the size of
// each sample result, and prints them.
func TestCatalogueScenario(t *testing.T) {
	t.Parallel()
	r, err := Run(t.Context(), Config{Scenarios: []string{ScenarioCatalogue}, Latency: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Catalogue
	if c == nil || c.Tools < 40 || c.ToolsListBytes <= 0 || c.BudgetBytes != CatalogueBudgetBytes {
		t.Fatalf("catalogue = %+v", c)
	}
	if !c.GoalMet || c.ToolsListBytes > CatalogueBudgetBytes {
		t.Errorf("tools/list is %d bytes, over the %d-byte budget", c.ToolsListBytes, CatalogueBudgetBytes)
	}
	if c.ReadOnlyToolsListBytes <= 0 || c.ReadOnlyToolsListBytes >= c.ToolsListBytes {
		t.Errorf("read-only tools/list %d bytes, full %d: want a smaller, non-empty list", c.ReadOnlyToolsListBytes, c.ToolsListBytes)
	}
	if len(c.Results) != len(catalogueCalls) {
		t.Fatalf("results = %+v", c.Results)
	}
	for _, row := range c.Results {
		if row.Result != "ok" || row.TextBytes <= 0 || row.StructuredBytes <= 0 {
			t.Errorf("%s: %+v", row.Call, row)
		}
	}
	var out bytes.Buffer
	if err := r.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tools/list", "read-only", "list_tickets (10 rows)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
