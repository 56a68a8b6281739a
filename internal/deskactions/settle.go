package deskactions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// Settling unknown outcomes (see action.WithSettler): a create whose answer
// was lost is looked for in Zoho Desk by listing newest first (search has
// an indexing delay, so a fresh object may not be found by it yet).

// settleSkew is how much earlier than deskconn's dispatch time an object
// may carry Zoho's creation time and still be the one looked for.
// [I] Zoho's and deskconn's clocks are NTP-synchronised in practice; five
// minutes is a generous margin, and a wider window only costs list calls.
const settleSkew = 5 * time.Minute

// settleMaxTickets bounds how many of the newest tickets of a department
// the create_ticket settler reads (50 list calls at most, only when an
// outcome is unknown); beyond it the outcome stays unknown rather than
// spend more of the org's API credits.
const settleMaxTickets = 5000

// settleMaxAttachments bounds how many of a ticket's newest attachments the
// create_ticket_attachment settler reads.
const settleMaxAttachments = 500

// withSettlers registers the settlers of the write actions that create
// something, by name.
func withSettlers(acts []*action.Action) []*action.Action {
	for i, a := range acts {
		switch a.Name() {
		case "create_ticket":
			acts[i] = action.WithSettler(a, "a ticket in the department with this subject and contact", settleCreateTicket)
		case "create_ticket_attachment":
			acts[i] = action.WithSettler(a, "an attachment with this file name on the ticket", settleCreateTicketAttachment)
		case "add_agent":
			acts[i] = action.WithSettler(a, "an agent with this email address", settleAddAgent)
		}
	}
	return acts
}

// errUnsettled says why a settler cannot tell; the registry keeps the
// outcome unknown and shows the message.
func errUnsettled(format string, args ...any) error {
	return deskconn.Errorf(deskconn.CodeOutcomeUnknown, format, args...)
}

// parseZohoTime reads Zoho's ISO 8601 times ("2016-06-21T13:16:14.000Z").
func parseZohoTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errUnsettled("Zoho Desk sent a creation time %q that could not be read", s)
	}
	return t, nil
}

// settleCreateTicket looks for the ticket an unknown create_ticket made: in
// the input's department, newest first, a ticket created since the dispatch
// (less settleSkew) with the input's subject and contact. Exactly one is
// the ticket; none means it was not created; several, or more tickets in
// the window than settleMaxTickets, leave the outcome unknown.
func settleCreateTicket(ctx context.Context, call *action.Call, in CreateTicketInput, since time.Time) (CreateTicketOutput, bool, error) {
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return CreateTicketOutput{}, false, err
	}
	p := in.Payload
	cutoff := since.Add(-settleSkew)
	opts := zohodesk.TicketListOptions{DepartmentID: p.DepartmentID, SortBy: "-createdTime", Include: "contacts"}
	var matches []*zohodesk.Ticket
	for from := 0; ; from += zohodesk.MaxLimitTickets {
		if from >= settleMaxTickets {
			return CreateTicketOutput{}, false, errUnsettled("more than %d tickets were created in the department since then", settleMaxTickets)
		}
		opts.ListOptions = zohodesk.ListOptions{From: from, Limit: zohodesk.MaxLimitTickets}
		items, _, err := call.Desk.Tickets.List(ctx, org, &opts)
		if err != nil {
			return CreateTicketOutput{}, false, err
		}
		done := len(items) < zohodesk.MaxLimitTickets
		for _, t := range items {
			created, err := parseZohoTime(t.CreatedTime)
			if err != nil {
				return CreateTicketOutput{}, false, err
			}
			if created.Before(cutoff) {
				done = true
				break
			}
			if t.Subject == p.Subject && sameContact(t, p) {
				matches = append(matches, t)
			}
		}
		if done {
			break
		}
	}
	switch len(matches) {
	case 0:
		return CreateTicketOutput{}, false, nil
	case 1:
	default:
		return CreateTicketOutput{}, false, errUnsettled("%d tickets with this subject and contact were created since then", len(matches))
	}
	t, _, err := call.Desk.Tickets.Get(ctx, org, matches[0].ID, nil)
	if err != nil {
		return CreateTicketOutput{}, false, err
	}
	call.SetDetail("ticket " + t.ID + " found")
	out := CreateTicketOutput{ID: t.ID, TicketNumber: t.TicketNumber, WebURL: t.WebURL, CreatedTime: t.CreatedTime,
		AssigneeID: t.AssigneeID, Ticket: t.Raw}
	out.Assignee = t.AssigneeObject()
	return out, true, nil
}

// sameContact reports whether the listed ticket t (with include=contacts)
// has the contact the create_ticket payload p named: by id, else by the
// contact's email, else by its last name.
func sameContact(t *zohodesk.Ticket, p CreateTicketPayload) bool {
	if p.ContactID != "" {
		return t.ContactID == p.ContactID
	}
	if p.Contact == nil {
		return true // [GAP] no contact given (the schema requires one): the subject decides
	}
	var v struct {
		Contact struct {
			Email    string `json:"email"`
			LastName string `json:"lastName"`
		} `json:"contact"`
	}
	if json.Unmarshal(t.Raw, &v) != nil {
		return false
	}
	if e := strings.TrimSpace(p.Contact.Email); e != "" {
		return strings.EqualFold(v.Contact.Email, e)
	}
	return v.Contact.LastName == p.Contact.LastName
}

// settleCreateTicketAttachment looks for the attachment an unknown
// create_ticket_attachment made: on the ticket, newest first, one named
// fileName created since the dispatch (less settleSkew).
func settleCreateTicketAttachment(ctx context.Context, call *action.Call, in CreateTicketAttachmentInput, since time.Time) (AttachmentOutput, bool, error) {
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return AttachmentOutput{}, false, err
	}
	id, err := resolveTicket(ctx, call, org, in.TicketSelector)
	if err != nil {
		return AttachmentOutput{}, false, err
	}
	cutoff := since.Add(-settleSkew)
	opts := zohodesk.TicketAttachmentListOptions{SortBy: "-createdTime"}
	var matches []*zohodesk.TicketAttachment
	for from := 0; ; from += zohodesk.MaxLimitTicketAttachments {
		if from >= settleMaxAttachments {
			return AttachmentOutput{}, false, errUnsettled("the ticket has more than %d attachments added since then", settleMaxAttachments)
		}
		opts.ListOptions = zohodesk.ListOptions{From: from, Limit: zohodesk.MaxLimitTicketAttachments}
		items, _, err := call.Desk.TicketAttachments.List(ctx, org, id, &opts)
		if err != nil {
			return AttachmentOutput{}, false, err
		}
		done := len(items) < zohodesk.MaxLimitTicketAttachments
		for _, a := range items {
			created, err := parseZohoTime(a.CreatedTime)
			if err != nil {
				return AttachmentOutput{}, false, err
			}
			if created.Before(cutoff) {
				done = true
				break
			}
			if a.Name == in.FileName {
				matches = append(matches, a)
			}
		}
		if done {
			break
		}
	}
	switch len(matches) {
	case 0:
		return AttachmentOutput{}, false, nil
	case 1:
		call.SetDetail("attachment " + matches[0].ID + " found on ticket " + id)
		return attachmentOutput(matches[0], id), true, nil
	default:
		return AttachmentOutput{}, false, errUnsettled("%d attachments named %q were added to ticket %s since then", len(matches), in.FileName, id)
	}
}

// settleAddAgent looks for the agent an unknown add_agent invited, by its
// email address (unique among a Desk organization's agents). An agent with
// that address is the outcome: had it existed before, Zoho would have
// refused the invitation, and either way the agent the caller wanted is
// there. None means the invitation was not made.
func settleAddAgent(ctx context.Context, call *action.Call, in AddAgentInput, _ time.Time) (AgentOutput, bool, error) {
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return AgentOutput{}, false, err
	}
	a, err := resolveAgent(ctx, call, org, "", in.Payload.EmailID)
	var de *deskconn.Error
	if errors.As(err, &de) && de.Code == deskconn.CodeNotFound {
		return AgentOutput{}, false, nil
	}
	if err != nil {
		return AgentOutput{}, false, fmt.Errorf("look up agent by email: %w", err)
	}
	call.SetDetail("agent " + a.ID + " found")
	return agentOutput(a), true, nil
}

// SettleInput is what settleCreateTicket needs of the input, kept (sealed)
// in the idempotency record for settling in the background: everything
// but the files to upload.
func (in CreateTicketInput) SettleInput() any {
	in.Payload.Uploads = nil
	return in
}

// SettleInput is what settleCreateTicketAttachment needs of the input:
// everything but the file.
func (in CreateTicketAttachmentInput) SettleInput() any {
	in.FileData = ""
	return in
}
