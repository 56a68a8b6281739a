package events_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/events"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// manualClock is the emulator's clock: it moves only when told to, so that
// two changes get distinct modifiedTimes however fast they follow.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// heldTransport holds the emulator's webhook deliveries while held is set,
// then sends them through base (nil: http.DefaultTransport).
type heldTransport struct {
	gate atomic.Pointer[chan struct{}]
	base http.RoundTripper
}

func (h *heldTransport) hold() {
	ch := make(chan struct{})
	h.gate.Store(&ch)
}

func (h *heldTransport) release() {
	if ch := h.gate.Swap(nil); ch != nil {
		close(*ch)
	}
}

func (h *heldTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if ch := h.gate.Load(); ch != nil {
		select {
		case <-*ch:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	if h.base != nil {
		return h.base.RoundTrip(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// An agent's create_ticket and update_ticket produce events whose actor
// names the action and the API key; a person's change made in Zoho right
// after, to the same ticket, produces an event without one. In webhook
// mode and in polling mode; in webhook mode also an agent's comment.
func TestOwnWritesCarryActor(t *testing.T) {
	for _, mode := range []store.EventSourceMode{store.SourceWebhook, store.SourcePolling} {
		t.Run(string(mode), func(t *testing.T) {
			clk := &manualClock{t: time.Now().UTC().Truncate(time.Second)}
			held := &heldTransport{}
			t.Cleanup(held.release)
			// Search sees a write only once the clock passed SearchDelay after
			// it, so the poller cannot read the agent's change before the
			// action has answered (and its write mark is stored), as Zoho's
			// search index lags.
			s := startStackWith(t, emulator.Options{Now: clk.Now, SearchDelay: time.Second,
				WebhookClient: &http.Client{Transport: held, Timeout: 10 * time.Second}})
			if status, body := s.api(t.Context(), http.MethodPost, "/v1/connections/demo/events/enable", `{"mode":"`+string(mode)+`"}`); status != http.StatusOK {
				t.Fatalf("enable = %d %s", status, body)
			}
			keys, err := s.d.Store.ListAPIKeys(t.Context(), s.d.TenantID)
			if err != nil || len(keys) != 1 {
				t.Fatalf("ListAPIKeys = %v, %v", keys, err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			defer wg.Wait()
			defer cancel()
			seen := make(chan events.Envelope, 64)
			wg.Go(func() { s.sse(ctx, seen) })

			// agent runs an action with Zoho's webhook deliveries held until
			// it has answered, and the clock (search) still: Zoho delivers
			// webhooks asynchronously after the API call that caused them
			// [GAP: no documented delay], and its search lags. A change that
			// reached deskconn before the action had answered would carry
			// no actor (docs/architecture.md).
			agent := func(name, input string, out any) {
				t.Helper()
				held.hold()
				status, body := s.api(t.Context(), http.MethodPost, "/v1/connections/demo/actions/"+name, input)
				held.release()
				clk.advance(2 * time.Second) // past SearchDelay: the poller may see it now
				if status != http.StatusOK || json.Unmarshal(body, out) != nil {
					t.Fatalf("%s = %d %s", name, status, body)
				}
			}
			next := func(typ, id string) events.Envelope {
				t.Helper()
				for {
					select {
					case env := <-seen:
						if env.Type == typ && env.Object.ID == id {
							return env
						}
					case <-t.Context().Done():
						t.Fatalf("no %s event of %s", typ, id)
					}
				}
			}
			wantActor := func(env events.Envelope, action string) {
				t.Helper()
				if env.Actor == nil || *env.Actor != (events.Actor{Type: events.ActorDeskconn, Action: action, Key: keys[0].ID}) {
					t.Errorf("%s event's actor = %+v, want deskconn's %s with key %s", env.Type, env.Actor, action, keys[0].ID)
				}
			}

			var created struct{ ID string }
			agent("create_ticket", `{"payload":{"subject":"Agent's ticket (`+string(mode)+`)","departmentId":"`+emulator.DemoDepartmentID+
				`","contactId":"`+emulator.DemoContactID+`"}}`, &created)
			wantActor(next(events.TicketCreated, created.ID), "create_ticket")

			var updated struct{ ModifiedTime string }
			agent("update_ticket", `{"ticketId":"`+created.ID+`","payload":{"priority":"High"}}`, &updated)
			env := next(events.TicketUpdated, created.ID)
			var data struct{ ModifiedTime string }
			if err := json.Unmarshal(env.Data, &data); err != nil || data.ModifiedTime != updated.ModifiedTime {
				t.Fatalf("ticket.updated modifiedTime = %q (%v), want the update's %q", data.ModifiedTime, err, updated.ModifiedTime)
			}
			wantActor(env, "update_ticket")

			// A person changes the same ticket in Zoho, seconds later.
			s.updateTicketInZoho(created.ID, "Low")
			clk.advance(2 * time.Second)
			env = next(events.TicketUpdated, created.ID)
			if env.Actor != nil {
				t.Errorf("a person's change in Zoho has actor %+v, want none", env.Actor)
			}

			if mode == store.SourceWebhook { // polling sees tickets only
				// A comment is matched by the id Zoho returned for it.
				var comment struct{ ID string }
				agent("add_ticket_comment", `{"ticketId":"`+created.ID+`","content":"Checked the printer."}`, &comment)
				wantActor(next(events.TicketCommentAdded, comment.ID), "add_ticket_comment")
			}
		})
	}
}

// updateTicketInZoho changes a ticket's priority straight through the
// emulator's API, as an agent in Zoho Desk would.
func (s *stack) updateTicketInZoho(id, priority string) {
	s.t.Helper()
	if _, _, err := s.zoho("Desk.tickets.ALL").Tickets.Update(s.t.Context(), emulator.DemoOrgID, id, &zohodesk.TicketUpdateRequest{Priority: zohodesk.Set(priority)}, nil); err != nil {
		s.t.Fatalf("update ticket in Zoho: %v", err)
	}
}
