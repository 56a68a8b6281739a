package deskactions

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// AddTimeEntryInput is the input of add_ticket_time_entry.
type AddTimeEntryInput struct {
	OrgRef
	TicketSelector
	Duration    string `json:"duration" jsonschema:"Time spent, e.g. \"45m\", \"1h30m\", \"2h\" (hours h, minutes m, seconds s)." schema:"minLength=2,maxLength=20"`
	Billable    bool   `json:"billable,omitempty" jsonschema:"Whether the time is billable to the customer (default false)."`
	Description string `json:"description,omitempty" jsonschema:"What was done." schema:"maxLength=65535"`
	AgentID     string `json:"agentId,omitempty" jsonschema:"Agent who did the work (list_agents); default: the connection's user." schema:"pattern=^[0-9]+$,maxLength=32"`
	WorkedAt    string `json:"workedAt,omitempty" jsonschema:"When the work started (ISO 8601, e.g. 2026-03-02T09:00:00Z); default: now minus the duration." schema:"maxLength=40"`
	action.WriteOptions
}

// ListTimeEntriesInput is the input of list_ticket_time_entries.
type ListTimeEntriesInput struct {
	OrgRef
	TicketSelector
	Page
	BillStatus string `json:"billStatus,omitempty" jsonschema:"Only nonBillable, billable or billed entries." schema:"enum=nonBillable|billable|billed"`
}

// TimeEntryOutput is one time entry.
type TimeEntryOutput struct {
	ID        string          `json:"id" jsonschema:"Id of the time entry."`
	TicketID  string          `json:"ticketId" jsonschema:"Id of the ticket."`
	Minutes   int             `json:"minutes" jsonschema:"Whole minutes recorded (seconds rounded down)."`
	Billable  bool            `json:"billable" jsonschema:"Whether it is billable."`
	AgentID   string          `json:"agentId,omitempty" jsonschema:"Agent who did the work."`
	WorkedAt  string          `json:"workedAt,omitempty" jsonschema:"When the work started (ISO 8601)."`
	TimeEntry json.RawMessage `json:"timeEntry" jsonschema:"The time entry as Zoho Desk returned it."`
}

func timeActions(deps Deps) []*action.Action {
	return []*action.Action{
		action.Define("add_ticket_time_entry", action.Info{
			Title:       "Log time on a ticket",
			Description: "Records time spent on a ticket: duration (e.g. \"1h30m\"), billable or not, the agent (default: you) and when the work started.",
			Toolset:     "tickets",
			Hints:       action.Hints{OpenWorld: true}, Write: true, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in AddTimeEntryInput) (TimeEntryOutput, error) {
			return addTimeEntry(ctx, deps, call, in)
		}),
		action.Define("list_ticket_time_entries", action.Info{
			Title:       "List time logged on a ticket",
			Description: "Lists the time entries of a ticket (duration, billable, agent, when), oldest first.",
			Toolset:     "tickets",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListTimeEntriesInput) (ListOutput, error) {
			if err := invalid(in.TicketSelector.check()); err != nil {
				return ListOutput{}, err
			}
			org, id, err := orgAndTicket(ctx, call, in.OrgRef, in.TicketSelector)
			if err != nil {
				return ListOutput{}, err
			}
			limit := pageLimit(in.Limit, zohodesk.MaxLimitTimeEntries)
			items, _, err := call.Desk.TimeEntries.List(ctx, org, id, &zohodesk.TimeEntryListOptions{
				ListOptions: zohodesk.ListOptions{From: in.From, Limit: limit}, BillStatus: in.BillStatus, IncludeOwner: true})
			if err != nil {
				return ListOutput{}, scopeError(ticketNotFound(err, in.TicketSelector, id), "Desk.tickets.READ")
			}
			return pageOf(items, func(e *zohodesk.TimeEntry) json.RawMessage { return e.Raw }, in.From, limit), nil
		}),
	}
}

func addTimeEntry(ctx context.Context, deps Deps, call *action.Call, in AddTimeEntryInput) (TimeEntryOutput, error) {
	errs := in.TicketSelector.check()
	d, err := time.ParseDuration(in.Duration)
	switch {
	case err != nil:
		errs = append(errs, deskconn.FieldError{Pointer: "/duration", Code: "invalid", Message: "write the duration like 45m, 1h30m or 2h"})
	case d < time.Second || d > 1000*time.Hour:
		errs = append(errs, deskconn.FieldError{Pointer: "/duration", Code: "invalid", Message: "must be between 1s and 1000h"})
	}
	worked := deps.now().Add(-d)
	if in.WorkedAt != "" {
		t, perr := time.Parse(time.RFC3339, in.WorkedAt)
		if perr != nil {
			errs = append(errs, deskconn.FieldError{Pointer: "/workedAt", Code: "invalid", Message: "must be an ISO 8601 time such as 2026-03-02T09:00:00Z"})
		}
		worked = t
	}
	if err := invalid(errs); err != nil {
		return TimeEntryOutput{}, err
	}
	org, id, err := orgAndTicket(ctx, call, in.OrgRef, in.TicketSelector)
	if err != nil {
		return TimeEntryOutput{}, err
	}
	req := &zohodesk.TimeEntryCreateRequest{ExecutedTime: worked.UTC().Format("2006-01-02T15:04:05.000Z"),
		HoursSpent: int(d / time.Hour), MinutesSpent: int(d%time.Hour) / int(time.Minute), SecondsSpent: int(d%time.Minute) / int(time.Second),
		Description: in.Description, OwnerID: in.AgentID, IsBillable: in.Billable}
	if call.DryRun {
		return TimeEntryOutput{}, call.Plan(action.PlannedRequest{Method: "POST", Path: "/tickets/" + id + "/timeEntry", Header: orgHeader(org), Body: req})
	}
	e, resp, err := call.Desk.TimeEntries.Create(ctx, org, id, req)
	if resp != nil {
		call.SetRequestID(resp.RequestID)
	}
	var ae *zohodesk.APIError
	if errors.As(err, &ae) && len(ae.Fields) > 0 && ae.Fields[0].Pointer == "/ownerId" {
		return TimeEntryOutput{}, &deskconn.Error{Code: deskconn.CodeInvalid, Err: err, Message: "no agent " + in.AgentID + "; find agents with list_agents",
			Fields: []deskconn.FieldError{{Pointer: "/agentId", Code: "invalid", Message: "no such agent"}}}
	}
	if err != nil {
		return TimeEntryOutput{}, scopeError(ticketNotFound(err, in.TicketSelector, id), "Desk.tickets.UPDATE")
	}
	call.SetDetail("time entry " + e.ID + " added to ticket " + id)
	return TimeEntryOutput{ID: e.ID, TicketID: id, Minutes: int(d / time.Minute), Billable: e.IsBillable, AgentID: e.OwnerID, WorkedAt: e.ExecutedTime, TimeEntry: e.Raw}, nil
}
