package deskactions

import (
	"context"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// TicketTagsInput is the input of list_ticket_tags.
type TicketTagsInput struct {
	OrgRef
	TicketSelector
}

// ChangeTicketTagsInput is the input of add_ticket_tags and remove_ticket_tags.
type ChangeTicketTagsInput struct {
	OrgRef
	TicketSelector
	Tags StringList `json:"tags" jsonschema:"Tag names, 3-50 characters each (letters, digits, spaces and _ . - + %), at most 51." schema:"minItems=1,maxItems=51"`
	action.WriteOptions
}

// TagOut is a tag.
type TagOut struct {
	ID   string `json:"id" jsonschema:"Id of the tag."`
	Name string `json:"name" jsonschema:"Name of the tag."`
	Type string `json:"type,omitempty" jsonschema:"MANUAL (added by people) or SYSTEM."`
}

// TagsOutput is a ticket's tags after a change, and what changed.
type TagsOutput struct {
	TicketID   string   `json:"ticketId" jsonschema:"Id of the ticket."`
	Tags       []TagOut `json:"tags" jsonschema:"The ticket's tags now."`
	Added      []string `json:"added,omitempty" jsonschema:"Names newly put on the ticket."`
	Removed    []string `json:"removed,omitempty" jsonschema:"Names taken off the ticket."`
	Unchanged  []string `json:"unchanged,omitempty" jsonschema:"Names that were already on the ticket (add) or not on it (remove)."`
	NewTagNote string   `json:"note,omitempty" jsonschema:"Whether names unknown to the department were created as new tags."`
}

func tagActions() []*action.Action {
	return []*action.Action{
		action.Define("list_ticket_tags", action.Info{
			Title:       "List a ticket's tags",
			Description: "Lists a ticket's tags (id, name, type). Use it before add_ticket_tags to reuse existing names.",
			Toolset:     "tickets",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in TicketTagsInput) (TagsOutput, error) {
			if err := invalid(in.TicketSelector.check()); err != nil {
				return TagsOutput{}, err
			}
			org, id, err := orgAndTicket(ctx, call, in.OrgRef, in.TicketSelector)
			if err != nil {
				return TagsOutput{}, err
			}
			tags, err := ticketTags(ctx, call, org, id, in.TicketSelector)
			return TagsOutput{TicketID: id, Tags: tags}, err
		}),
		action.Define("add_ticket_tags", action.Info{
			Title:       "Tag a ticket",
			Description: "Adds tags to a ticket by name; a name new to the department creates the tag. Check existing names with list_ticket_tags first.",
			Toolset:     "tickets",
			Hints:       action.Hints{Idempotent: true, OpenWorld: true}, Write: true, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ChangeTicketTagsInput) (TagsOutput, error) {
			return changeTags(ctx, call, in, true)
		}),
		action.Define("remove_ticket_tags", action.Info{
			Title:       "Untag a ticket",
			Description: "Removes tags from a ticket by name (the tags stay in the department). Names come from list_ticket_tags.",
			Toolset:     "tickets",
			Hints:       action.Hints{Idempotent: true, OpenWorld: true}, Write: true, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ChangeTicketTagsInput) (TagsOutput, error) {
			return changeTags(ctx, call, in, false)
		}),
	}
}

func ticketTags(ctx context.Context, call *action.Call, org, id string, s TicketSelector) ([]TagOut, error) {
	tags, _, err := call.Desk.Tags.List(ctx, org, id)
	if err != nil {
		return nil, scopeError(ticketNotFound(err, s, id), "Desk.tickets.READ")
	}
	out := make([]TagOut, 0, len(tags))
	for _, t := range tags {
		out = append(out, TagOut{ID: t.ID, Name: t.Name, Type: t.TagType})
	}
	return out, nil
}

func changeTags(ctx context.Context, call *action.Call, in ChangeTicketTagsInput, add bool) (TagsOutput, error) {
	errs := in.TicketSelector.check()
	names := make([]string, 0, len(in.Tags))
	for i, n := range in.Tags {
		n = strings.TrimSpace(n)
		if err := zohodesk.CheckTagNames([]string{n}); err != nil {
			errs = append(errs, deskconn.FieldError{Pointer: "/tags/" + itoa(i), Code: "invalid", Message: strings.TrimPrefix(err.Error(), "zohodesk: ")})
		}
		names = append(names, n)
	}
	if err := invalid(errs); err != nil {
		return TagsOutput{}, err
	}
	org, id, err := orgAndTicket(ctx, call, in.OrgRef, in.TicketSelector)
	if err != nil {
		return TagsOutput{}, err
	}
	path := "/tickets/" + id + "/dissociateTag"
	if add {
		path = "/tickets/" + id + "/associateTag"
	}
	if call.DryRun {
		return TagsOutput{}, call.Plan(action.PlannedRequest{Method: "POST", Path: path, Header: orgHeader(org), Body: map[string]any{"tags": names}})
	}
	before, err := ticketTags(ctx, call, org, id, in.TicketSelector)
	if err != nil {
		return TagsOutput{}, err
	}
	has := func(n string) bool {
		for _, t := range before {
			if strings.EqualFold(t.Name, n) {
				return true
			}
		}
		return false
	}
	var resp *zohodesk.Response
	if add {
		_, resp, err = call.Desk.Tags.Add(ctx, org, id, names)
	} else {
		resp, err = call.Desk.Tags.Remove(ctx, org, id, names)
	}
	if resp != nil {
		call.SetRequestID(resp.RequestID)
	}
	if err != nil {
		return TagsOutput{}, scopeError(ticketNotFound(err, in.TicketSelector, id), "Desk.tickets.CREATE")
	}
	out := TagsOutput{TicketID: id}
	for _, n := range names {
		switch {
		case add && !has(n):
			out.Added = append(out.Added, n)
		case !add && has(n):
			out.Removed = append(out.Removed, n)
		default:
			out.Unchanged = append(out.Unchanged, n)
		}
	}
	if add && len(out.Added) > 0 {
		out.NewTagNote = "names the department did not have yet were created as new tags"
	}
	out.Tags, err = ticketTags(ctx, call, org, id, in.TicketSelector)
	if err != nil {
		return TagsOutput{}, err
	}
	call.SetDetail("tags changed on ticket " + id)
	return out, nil
}
