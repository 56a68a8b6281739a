package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestConversationScenario reads the 500-item conversation every way and
// checks the counts, never the timings.
func TestConversationScenario(t *testing.T) {
	r, err := Run(t.Context(), Config{Scenarios: []string{ScenarioConversation}, Latency: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Conversation
	if c == nil || c.Items != conversationItems || len(c.Rows) != 4 {
		t.Fatalf("conversation = %+v", c)
	}
	for _, row := range c.Rows {
		if row.Result != "ok" || row.Items != conversationItems || row.DurationMs <= 0 || row.PeakHeapGrowthMiB < 0 {
			t.Errorf("%s: %+v", row.Method, row)
		}
	}
	// Direct paging: 500 items at 200 a page is 3 calls (the last page is
	// short). Action pages of 100: a full last page makes one more, empty
	// read, so at least 5.
	if d := c.Rows[0]; d.DeskCalls != 3 {
		t.Errorf("direct paging: %d Desk calls, want 3", d.DeskCalls)
	}
	if s := c.Rows[1]; s.Actions < 5 || s.DeskCalls != s.Actions {
		t.Errorf("summary pages: %+v, want one Desk call per action", s)
	}
	if full := c.Rows[3]; full.DeskCalls < conversationItems {
		t.Errorf("full text: %d Desk calls, want at least one per thread", full.DeskCalls)
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "conversation: every item of a 500-item") {
		t.Errorf("table:\n%s", table.String())
	}
}
