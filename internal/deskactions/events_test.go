package deskactions

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/store"
)

// fakeEvents is an EventReader over a fixed log that records its calls.
type fakeEvents struct {
	log   []*store.Event
	calls []store.EventFilter
	waits []time.Duration
}

func (f *fakeEvents) Wait(_ context.Context, flt store.EventFilter, wait time.Duration) ([]*store.Event, error) {
	f.calls, f.waits = append(f.calls, flt), append(f.waits, wait)
	var out []*store.Event
	for _, e := range f.log {
		if e.ConnectionID == flt.ConnectionID && e.Seq > flt.After && (len(flt.Types) == 0 || slices.Contains(flt.Types, e.Type)) && len(out) < flt.Limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func TestListEvents(t *testing.T) {
	t.Parallel()
	fake := &fakeEvents{log: []*store.Event{
		{Seq: 1, ConnectionID: "c1", Type: "ticket.created", Body: json.RawMessage(`{"id":"evt_1","type":"ticket.created"}`)},
		{Seq: 2, ConnectionID: "c1", Type: "ticket.updated", Body: json.RawMessage(`{"id":"evt_2","type":"ticket.updated"}`)},
		{Seq: 3, ConnectionID: "other", Type: "ticket.created", Body: json.RawMessage(`{"id":"evt_x"}`)},
	}}
	env := newTestEnv(t, Deps{Events: fake}, emulator.Options{NoSeed: true})
	tests := []struct {
		name     string
		input    string
		wantIDs  []string
		wantNext int64
	}{
		{"from the start", `{}`, []string{"evt_1", "evt_2"}, 2},
		{"after a cursor", `{"after":1}`, []string{"evt_2"}, 2},
		{"by type", `{"types":["ticket.created"]}`, []string{"evt_1"}, 1},
		{"nothing new keeps the cursor", `{"after":2,"waitSeconds":20}`, nil, 2},
	}
	for _, tt := range tests {
		out, err := env.invoke(t, "list_events", tt.input)
		if err != nil {
			t.Fatalf("%s: list_events = %v", tt.name, err)
		}
		var got struct {
			Events []struct{ ID string }
			Next   int64
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range got.Events {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, tt.wantIDs) || got.Next != tt.wantNext {
			t.Errorf("%s: events %v next %d, want %v next %d", tt.name, ids, got.Next, tt.wantIDs, tt.wantNext)
		}
	}
	if last := fake.waits[len(fake.waits)-1]; last != 20*time.Second {
		t.Errorf("wait = %v, want 20s", last)
	}
	if _, err := env.invoke(t, "list_events", `{"waitSeconds":21}`); deskconn.ErrorCode(err) != deskconn.CodeInvalid {
		t.Errorf("waitSeconds 21 = %v, want invalid", err)
	}
	none := newTestEnv(t, Deps{}, emulator.Options{NoSeed: true})
	if _, err := none.invoke(t, "list_events", `{}`); deskconn.ErrorCode(err) != deskconn.CodeUnavailable {
		t.Errorf("list_events without a pipeline = %v, want unavailable", err)
	}
}
