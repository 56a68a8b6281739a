package bench

import (
	"bytes"
	"strings"
	"testing"
)

// TestEventsScenario runs the events scenario at a tiny size and checks
// that every figure was measured and every event arrived, never the
// timings themselves.
func TestEventsScenario(t *testing.T) {
	t.Parallel()
	r, err := Run(t.Context(), Config{Scenarios: []string{ScenarioEvents}, EventsIngest: 12, EventChanges: 4})
	if err != nil {
		t.Fatal(err)
	}
	e := r.Events
	if e == nil {
		t.Fatal("no events report")
	}
	if e.Ingested != 12 || e.IngestStored != 12 || e.IngestInFlight != EventsInFlight || e.IngestMs <= 0 || e.IngestPerSec <= 0 || e.IngestGoal != EventsIngestGoal {
		t.Errorf("ingest = %+v, want 12 deliveries stored and timed", e)
	}
	if len(e.Latency) != 2 {
		t.Fatalf("latency rows = %+v, want without and with the slow subscriber", e.Latency)
	}
	for _, row := range e.Latency {
		if row.Result != "ok" || row.Changes != 4 || row.Received != 4 || row.P50Ms <= 0 || row.P99Ms < row.P50Ms {
			t.Errorf("%s: %+v", row.Setting, row)
		}
	}
	if e.Latency[0].SlowReceived != 0 {
		t.Errorf("without a slow subscriber: %+v", e.Latency[0])
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"events: Zoho webhook deliveries into the SQLite event log", "with a slow (200ms) subscriber"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

// The events scenario times the in-process emulator's deliveries, so it
// refuses an external one with a reason.
func TestEventsScenarioNeedsInProcessEmulator(t *testing.T) {
	t.Parallel()
	_, err := Run(t.Context(), Config{Scenarios: []string{ScenarioEvents}, EmulatorURL: "http://127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), "in-process emulator") {
		t.Errorf("Run with --emulator = %v, want a refusal naming the in-process emulator", err)
	}
}
