package deskactions

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// SearchTicketsParams are the criteria of search_tickets, in Zoho's names.
type SearchTicketsParams struct {
	From         int        `json:"from,omitempty" jsonschema:"Index of the first hit to return, from 0 (Zoho's search reaches at most index 999)." schema:"minimum=0,maximum=999"`
	Limit        int        `json:"limit,omitempty" jsonschema:"Maximum number of hits, 1-100 (default 50)." schema:"minimum=1,maximum=100"`
	Subject      string     `json:"subject,omitempty" jsonschema:"Words of the subject, at least 3 characters; a trailing * is a wildcard." schema:"minLength=3,maxLength=255"`
	TicketNumber string     `json:"ticketNumber,omitempty" jsonschema:"Ticket number." schema:"pattern=^[0-9]+$,maxLength=32"`
	Text         string     `json:"text,omitempty" jsonschema:"Text to find in any field (Zoho's _all), at least 3 characters." schema:"minLength=3,maxLength=255"`
	Email        string     `json:"email,omitempty" jsonschema:"Email address on the ticket or of its contact; a trailing * is a wildcard." schema:"maxLength=150"`
	ContactID    string     `json:"contactId,omitempty" jsonschema:"Only tickets of this contact (search_contacts)." schema:"pattern=^[0-9]+$,maxLength=32"`
	DepartmentID string     `json:"departmentId,omitempty" jsonschema:"Only tickets of this department (list_departments)." schema:"pattern=^[0-9]+$,maxLength=32"`
	AssigneeID   string     `json:"assigneeId,omitempty" jsonschema:"Only tickets assigned to this agent (list_agents, find_agent_by_email)." schema:"pattern=^[0-9]+$,maxLength=32"`
	Status       StringList `json:"status,omitempty" jsonschema:"Statuses (any of them), e.g. Open, On Hold, Closed; or ${OPEN}, ${ONHOLD}, ${CLOSED} for every status of that type." schema:"maxItems=20"`
	Priority     StringList `json:"priority,omitempty" jsonschema:"Priorities (any of them), e.g. High." schema:"maxItems=20"`
	Channel      StringList `json:"channel,omitempty" jsonschema:"Channels (any of them), e.g. Email, Phone." schema:"maxItems=20"`
	SortBy       string     `json:"sortBy,omitempty" jsonschema:"Sort key; prefix - for descending." schema:"enum=relevance|modifiedTime|createdTime|customerResponseTime|-relevance|-modifiedTime|-createdTime|-customerResponseTime"`
}

// SearchTicketsInput is the input of search_tickets.
type SearchTicketsInput struct {
	OrgRef
	Params SearchTicketsParams `json:"params" jsonschema:"Search criteria (all must match) and paging."`
}

// SearchContactsParams are the criteria of search_contacts.
type SearchContactsParams struct {
	From     int    `json:"from,omitempty" jsonschema:"Index of the first hit to return, from 0 (at most 999)." schema:"minimum=0,maximum=999"`
	Limit    int    `json:"limit,omitempty" jsonschema:"Maximum number of hits, 1-100 (default 50)." schema:"minimum=1,maximum=100"`
	Email    string `json:"email,omitempty" jsonschema:"Email address; a trailing * is a wildcard." schema:"maxLength=150"`
	FullName string `json:"fullName,omitempty" jsonschema:"Full name; a trailing * is a wildcard." schema:"maxLength=150"`
	Phone    string `json:"phone,omitempty" jsonschema:"Phone number." schema:"maxLength=50"`
	Text     string `json:"text,omitempty" jsonschema:"Text to find in any field (Zoho's _all)." schema:"minLength=1,maxLength=255"`
}

// SearchContactsInput is the input of search_contacts.
type SearchContactsInput struct {
	OrgRef
	Params SearchContactsParams `json:"params" jsonschema:"Search criteria (all must match) and paging."`
}

// SearchOutput is one page of search hits with Zoho's total.
type SearchOutput struct {
	ListOutput
	Total int `json:"total" jsonschema:"How many objects match in all (Zoho's count)."`
}

func searchOutput[T any](items []*T, raw func(*T) json.RawMessage, count string, from, limit int) SearchOutput {
	out := SearchOutput{ListOutput: pageOf(items, raw, from, limit)}
	out.Total, _ = strconv.Atoi(count)
	if out.Total > 0 {
		out.HasMore = from+len(items) < out.Total && from+len(items) <= zohodesk.MaxFromSearch
		if !out.HasMore {
			out.NextFrom = nil
		}
	}
	return out
}

func searchActions() []*action.Action {
	ro := action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}
	return []*action.Action{
		action.Define("search_tickets", action.Info{
			Title:       "Search tickets",
			Description: "Finds tickets by subject, number, text, email, contact, status and more (all must match). Gives ticketId for the other ticket tools.",
			Toolset:     "tickets",
			Hints:       ro, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in SearchTicketsInput) (SearchOutput, error) {
			p := in.Params
			if p.Subject == "" && p.TicketNumber == "" && p.Text == "" && p.Email == "" && p.ContactID == "" &&
				p.DepartmentID == "" && p.AssigneeID == "" && len(p.Status) == 0 && len(p.Priority) == 0 && len(p.Channel) == 0 {
				return SearchOutput{}, invalid([]deskconn.FieldError{{Pointer: "/params", Code: "missing",
					Message: "give at least one criterion (subject, ticketNumber, text, email, contactId, departmentId, assigneeId, status, priority, channel); to list tickets without one use list_tickets"}})
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return SearchOutput{}, err
			}
			limit := pageLimit(p.Limit, zohodesk.MaxLimitTicketSearch)
			res, _, err := call.Desk.Tickets.Search(ctx, org, &zohodesk.TicketSearchOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit},
				Subject:     p.Subject, TicketNumber: p.TicketNumber, All: p.Text, Email: p.Email,
				ContactID: p.ContactID, DepartmentID: p.DepartmentID, AssigneeID: p.AssigneeID,
				Status: p.Status.Join(), Priority: p.Priority.Join(), Channel: p.Channel.Join(), SortBy: p.SortBy,
			})
			if err != nil {
				return SearchOutput{}, err
			}
			return searchOutput(res.Tickets, func(t *zohodesk.Ticket) json.RawMessage { return project(t.Raw, compactKeys) }, res.Count, p.From, limit), nil
		}),
		action.Define("search_contacts", action.Info{
			Title:       "Search contacts",
			Description: "Finds contacts (customers) by email, name, phone or any text. Gives contactId for create_ticket and the contact tools.",
			Toolset:     "customers",
			Hints:       ro, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in SearchContactsInput) (SearchOutput, error) {
			p := in.Params
			if p.Email == "" && p.FullName == "" && p.Phone == "" && p.Text == "" {
				return SearchOutput{}, invalid([]deskconn.FieldError{{Pointer: "/params", Code: "missing",
					Message: "give at least one criterion: email, fullName, phone or text"}})
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return SearchOutput{}, err
			}
			limit := pageLimit(p.Limit, zohodesk.MaxLimitContactSearch)
			res, _, err := call.Desk.Contacts.Search(ctx, org, &zohodesk.ContactSearchOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit},
				Email:       p.Email, FullName: p.FullName, Phone: p.Phone, All: p.Text,
			})
			if err != nil {
				return SearchOutput{}, err
			}
			return searchOutput(res.Contacts, func(c *zohodesk.Contact) json.RawMessage { return c.Raw }, res.Count, p.From, limit), nil
		}),
	}
}
