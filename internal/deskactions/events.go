package deskactions

import (
	"context"
	"encoding/json"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/store"
)

// EventReader reads a connection's event log, waiting up to wait for an
// event when there is none yet (the event pipeline's *events.Log).
type EventReader interface {
	Wait(ctx context.Context, f store.EventFilter, wait time.Duration) ([]*store.Event, error)
}

// MaxEventsWaitSeconds bounds list_events' wait, so an MCP tool call
// returns well inside clients' request timeouts.
const MaxEventsWaitSeconds = 20

// ListEventsInput is the input of list_events.
type ListEventsInput struct {
	After       int64      `json:"after,omitempty" jsonschema:"Cursor of the last event you saw (next of the previous call); 0 or absent for the oldest event kept (7 days)." schema:"minimum=0"`
	Types       StringList `json:"types,omitempty" jsonschema:"Only these event types; absent for all." schema:"items.enum=ticket.created|ticket.updated|ticket.thread_added|ticket.comment_added|contact.created|contact.updated|account.created|account.updated,maxItems=8"`
	Limit       int        `json:"limit,omitempty" jsonschema:"At most this many events, 1-100 (default 50)." schema:"minimum=1,maximum=100"`
	WaitSeconds int        `json:"waitSeconds,omitempty" jsonschema:"When there is no event yet, wait up to this many seconds (0-20) for one." schema:"minimum=0,maximum=20"`
}

// ListEventsOutput is the output of list_events.
type ListEventsOutput struct {
	Events []json.RawMessage `json:"events" jsonschema:"The events, oldest first: {id, connection, type, occurredAt, receivedAt, object: {kind, id}, data, previous, actor}; actor {type: deskconn, action, key} is present only on changes made through deskconn."`
	Next   int64             `json:"next" jsonschema:"Pass as after in the next call to get only newer events."`
}

func eventActions(deps Deps) []*action.Action {
	return []*action.Action{
		action.Define("list_events", action.Info{
			Title: "List events",
			Description: "What changed in Zoho Desk since a cursor (tickets, threads, comments, contacts, accounts; " +
				"updates carry previous values; changes made through deskconn carry an actor). Pass the last answer's next as after; waitSeconds waits for a new event.",
			Toolset: "events",
			Hints:   action.Hints{ReadOnly: true}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListEventsInput) (ListEventsOutput, error) {
			if deps.Events == nil {
				return ListEventsOutput{}, deskconn.Errorf(deskconn.CodeUnavailable, "events are not available in this process; use deskconn serve")
			}
			limit := in.Limit
			if limit == 0 {
				limit = 50
			}
			evs, err := deps.Events.Wait(ctx, store.EventFilter{ConnectionID: call.Conn.ID, After: in.After, Types: in.Types, Limit: limit},
				time.Duration(min(in.WaitSeconds, MaxEventsWaitSeconds))*time.Second)
			if err != nil {
				return ListEventsOutput{}, err
			}
			out := ListEventsOutput{Events: []json.RawMessage{}, Next: in.After}
			for _, e := range evs {
				out.Events = append(out.Events, e.Body)
				out.Next = e.Seq
			}
			return out, nil
		}),
	}
}
