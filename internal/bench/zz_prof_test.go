package bench

import (
	"testing"
	"time"
)

func TestZZProfOverhead(t *testing.T) {
	cfg := Config{Scenarios: []string{"overhead"}, ZeroLatency: true, Concurrency: 1, Requests: 400, Duration: 60 * time.Second}
	r, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range r.Overhead.Rows {
		t.Logf("%s %s p50=%.3f", row.Call, row.Path, row.P50Ms)
	}
}
