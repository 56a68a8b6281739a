package deskactions

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// GetTicketHistoryInput is the input of get_ticket_history.
type GetTicketHistoryInput struct {
	OrgRef
	TicketSelector
	From      int    `json:"from,omitempty" jsonschema:"Index of the first event, from 0; pass nextFrom of the previous page." schema:"minimum=0,maximum=100000"`
	Limit     int    `json:"limit,omitempty" jsonschema:"Events per page, 1-50 (default 50)." schema:"minimum=1,maximum=50"`
	FieldName string `json:"fieldName,omitempty" jsonschema:"Only changes of this field, e.g. status or assignee." schema:"maxLength=100"`
}

// FieldChange is one field's change in a history event.
type FieldChange struct {
	Field string          `json:"field" jsonschema:"The field that changed."`
	From  json.RawMessage `json:"from,omitempty" jsonschema:"Its value before (null when it was empty)."`
	To    json.RawMessage `json:"to,omitempty" jsonschema:"Its value after."`
	Value json.RawMessage `json:"value,omitempty" jsonschema:"The value involved, when Zoho gives no before/after pair."`
}

// HistoryEntry is one event of a ticket's timeline.
type HistoryEntry struct {
	Event   string        `json:"event" jsonschema:"What happened: TicketCreated, TicketUpdated, ThreadAdded, CommentAdded, TagsAdded, TimeEntryAdded, ..."`
	Time    string        `json:"time" jsonschema:"When (ISO 8601)."`
	Actor   *Person       `json:"actor,omitempty" jsonschema:"Who or what did it (type Agent, Contact, System, Workflow, ...)."`
	Source  string        `json:"source,omitempty" jsonschema:"Where it came from: Email, Chat, Helpcenter, ..."`
	Changes []FieldChange `json:"changes,omitempty" jsonschema:"Fields changed, with old and new values."`
}

// HistoryOutput is a page of a ticket's history.
type HistoryOutput struct {
	TicketID string         `json:"ticketId" jsonschema:"Id of the ticket."`
	Events   []HistoryEntry `json:"events" jsonschema:"The events, newest first."`
	From     int            `json:"from" jsonschema:"Index of the first event returned."`
	Limit    int            `json:"limit" jsonschema:"Page size used."`
	HasMore  bool           `json:"hasMore" jsonschema:"Whether more events may exist after these."`
	NextFrom *int           `json:"nextFrom,omitempty" jsonschema:"Pass as from to get the next page."`
}

func historyActions() []*action.Action {
	return []*action.Action{
		action.Define("get_ticket_history", action.Info{
			Title:       "Get a ticket's history",
			Description: "Returns a ticket's timeline: who changed which field from what to what and when. fieldName keeps one field's changes.",
			Toolset:     "tickets",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in GetTicketHistoryInput) (HistoryOutput, error) {
			if err := invalid(in.TicketSelector.check()); err != nil {
				return HistoryOutput{}, err
			}
			org, id, err := orgAndTicket(ctx, call, in.OrgRef, in.TicketSelector)
			if err != nil {
				return HistoryOutput{}, err
			}
			limit := in.Limit
			if limit == 0 {
				limit = zohodesk.MaxLimitHistory
			}
			events, _, err := call.Desk.History.List(ctx, org, id, &zohodesk.HistoryListOptions{ListOptions: zohodesk.ListOptions{From: in.From, Limit: limit}, FieldName: strings.TrimSpace(in.FieldName)})
			if err != nil {
				return HistoryOutput{}, scopeError(ticketNotFound(err, in.TicketSelector, id), "Desk.tickets.READ")
			}
			out := HistoryOutput{TicketID: id, Events: make([]HistoryEntry, 0, len(events)), From: in.From, Limit: limit, HasMore: len(events) >= limit}
			for _, ev := range events {
				out.Events = append(out.Events, historyEntry(ev))
			}
			if out.HasMore {
				next := in.From + len(events)
				out.NextFrom = &next
			}
			return out, nil
		}),
	}
}

func historyEntry(ev *zohodesk.HistoryEvent) HistoryEntry {
	e := HistoryEntry{Event: ev.EventName, Time: ev.EventTime, Source: ev.Source}
	if a := ev.Actor; a != nil {
		e.Actor = &Person{ID: a.ID, Name: a.Name, Type: a.Type}
	}
	for _, in := range ev.EventInfo {
		c := FieldChange{Field: in.PropertyName}
		if prev, upd, ok := in.Change(); ok {
			c.From, c.To = prev, upd
		} else if len(in.PropertyValue) > 0 {
			c.Value = in.PropertyValue
		}
		e.Changes = append(e.Changes, c)
	}
	return e
}
