package deskactions

import (
	"context"
	"encoding/json"
	"errors"
	"net/mail"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

func replyActions(deps Deps) []*action.Action {
	return []*action.Action{
		action.Define("reply_to_ticket", action.Info{
			Title:       "Send a reply to the customer",
			Description: "Sends a reply to the customer at once, for good: unless the user asked to send, use draft_ticket_reply. fromEmailAddress: list_support_addresses. If the outcome is unknown, check list_ticket_conversations.",
			Toolset:     "conversations",
			Hints:       action.Hints{Destructive: true, OpenWorld: true}, Write: true, CustomerVisible: true, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ReplyToTicketInput) (ReplyOutput, error) {
			return sendReply(ctx, deps, call, in)
		}),
		action.Define("draft_ticket_reply", action.Info{
			Title:       "Draft a reply for review",
			Description: "Saves a reply as a draft for a person to review and send; nothing reaches the customer. Prefer it to reply_to_ticket.",
			Toolset:     "conversations",
			Hints:       action.Hints{OpenWorld: true}, Write: true, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in DraftTicketReplyInput) (ReplyOutput, error) {
			return draftReply(ctx, deps, call, in.OrgRef, in.TicketSelector, "", in.ReplyInput)
		}),
		action.Define("update_ticket_draft", action.Info{
			Title:       "Update a reply draft",
			Description: "Replaces the content (and recipients) of a draft made with draft_ticket_reply. Give the whole new content; the draft stays unsent.",
			Toolset:     "conversations",
			Hints:       action.Hints{Idempotent: true, OpenWorld: true}, Write: true, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in UpdateTicketDraftInput) (ReplyOutput, error) {
			return draftReply(ctx, deps, call, in.OrgRef, in.TicketSelector, in.DraftID, in.ReplyInput)
		}),
	}
}

// checkAddresses reports addresses Zoho would refuse in a comma list.
func checkAddresses(at, list string) []deskconn.FieldError {
	var errs []deskconn.FieldError
	for _, p := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ';' }) {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if _, err := mail.ParseAddress(strings.TrimSpace(p)); err != nil {
			errs = append(errs, deskconn.FieldError{Pointer: at, Code: "invalid", Message: "must be comma-separated e-mail addresses; " + quote(strings.TrimSpace(p)) + " is not one"})
		}
	}
	return errs
}

func (r ReplyInput) check() []deskconn.FieldError {
	var errs []deskconn.FieldError
	if strings.TrimSpace(r.Content) == "" {
		errs = append(errs, deskconn.FieldError{Pointer: "/content", Code: "missing", Message: "write the message to send"})
	}
	errs = append(errs, checkAddresses("/to", r.To)...)
	errs = append(errs, checkAddresses("/cc", r.Cc)...)
	errs = append(errs, checkAddresses("/bcc", r.Bcc)...)
	if r.FromEmailAddress != "" {
		if _, err := mail.ParseAddress(r.FromEmailAddress); err != nil {
			errs = append(errs, deskconn.FieldError{Pointer: "/fromEmailAddress", Code: "invalid", Message: "must be one support address; list them with list_support_addresses"})
		}
	}
	return errs
}

// replyRequest resolves the defaults of a reply (recipient, from address)
// and builds Zoho's request; uploads are planned or sent.
func replyRequest(ctx context.Context, deps Deps, call *action.Call, org, ticketID string, in ReplyInput) (*zohodesk.ReplyRequest, []action.PlannedRequest, error) {
	req := &zohodesk.ReplyRequest{Channel: in.Channel, Content: in.Content, ContentType: in.ContentType, To: in.To, Cc: in.Cc, Bcc: in.Bcc, FromEmailAddress: in.FromEmailAddress}
	if req.Channel == "" {
		req.Channel = "EMAIL"
	}
	if req.ContentType == "" {
		req.ContentType = "plainText"
	}
	if req.Channel == "EMAIL" && (req.To == "" || req.FromEmailAddress == "") {
		t, _, err := call.Desk.Tickets.Get(ctx, org, ticketID, &zohodesk.TicketGetOptions{Include: "contacts"})
		if err != nil {
			return nil, nil, err
		}
		if req.To == "" {
			req.To = ticketContactEmail(t)
			if req.To == "" {
				return nil, nil, deskconn.Invalid("the ticket has no contact e-mail to reply to",
					deskconn.FieldError{Pointer: "/to", Code: "missing", Message: "ticket " + ticketID + " has no contact e-mail; give the recipients in to"})
			}
		}
		if req.FromEmailAddress == "" {
			from, err := defaultFrom(ctx, call, org, t.DepartmentID)
			if err != nil {
				return nil, nil, err
			}
			req.FromEmailAddress = from
		}
	}
	var planned []action.PlannedRequest
	for i, u := range in.Attachments {
		if u.File == nil {
			req.AttachmentIDs = append(req.AttachmentIDs, u.ID)
			continue
		}
		at := "/attachments/" + itoa(i)
		if call.DryRun {
			f, err := openFile(ctx, deps, *u.File, at)
			if err != nil {
				return nil, nil, err
			}
			planned = append(planned, uploadPlan(org, f))
			f.Body.Close()
			req.AttachmentIDs = append(req.AttachmentIDs, "<id of upload "+itoa(i)+">")
			continue
		}
		id, err := uploadFile(ctx, deps, call, org, *u.File, at)
		if err != nil {
			return nil, nil, err
		}
		req.AttachmentIDs = append(req.AttachmentIDs, id)
	}
	return req, planned, nil
}

// ticketContactEmail is the ticket's e-mail, or its contact's.
func ticketContactEmail(t *zohodesk.Ticket) string {
	if t.Email != "" {
		return t.Email
	}
	var inc struct {
		Contact *struct {
			Email string `json:"email"`
		} `json:"contact"`
	}
	if json.Unmarshal(t.Raw, &inc) == nil && inc.Contact != nil {
		return inc.Contact.Email
	}
	return ""
}

// defaultFrom returns the department's default support address (or its
// only one).
func defaultFrom(ctx context.Context, call *action.Call, org, deptID string) (string, error) {
	addrs, _, err := call.Desk.SupportEmailAddresses.List(ctx, org, &zohodesk.SupportEmailAddressListOptions{DepartmentID: deptID})
	if err != nil {
		return "", scopeError(err, "Desk.settings.READ")
	}
	for _, a := range addrs {
		if a.IsDefault {
			return a.Address, nil
		}
	}
	if len(addrs) == 1 {
		return addrs[0].Address, nil
	}
	return "", deskconn.Invalid("the ticket's department has no default support address",
		deskconn.FieldError{Pointer: "/fromEmailAddress", Code: "missing", Message: "give the address to send from; list them with list_support_addresses"})
}

func replyOutput(th *zohodesk.Thread, ticketID string, req *zohodesk.ReplyRequest) ReplyOutput {
	out := ReplyOutput{ID: th.ID, TicketID: ticketID, Status: th.Status, From: th.FromEmailAddress, To: th.To, Cc: th.Cc, Bcc: th.Bcc,
		CreatedTime: th.CreatedTime, UploadIDs: req.AttachmentIDs, Thread: th.Raw}
	if out.From == "" {
		out.From = req.FromEmailAddress
	}
	if out.To == "" {
		out.To = req.To
	}
	return out
}

func sendReply(ctx context.Context, deps Deps, call *action.Call, in ReplyToTicketInput) (ReplyOutput, error) {
	errs := append(in.TicketSelector.check(), in.ReplyInput.check()...)
	if err := invalid(errs); err != nil {
		return ReplyOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return ReplyOutput{}, err
	}
	id, err := resolveTicket(ctx, call, org, in.TicketSelector)
	if err != nil {
		return ReplyOutput{}, err
	}
	req, planned, err := replyRequest(ctx, deps, call, org, id, in.ReplyInput)
	if err != nil {
		return ReplyOutput{}, ticketNotFound(err, in.TicketSelector, id)
	}
	req.TicketStatus = in.TicketStatus
	if call.DryRun {
		planned = append(planned, action.PlannedRequest{Method: "POST", Path: "/tickets/" + id + "/sendReply", Header: orgHeader(org), Body: req})
		return ReplyOutput{}, call.Plan(planned...)
	}
	th, resp, err := call.Desk.Replies.Send(ctx, org, id, req, nil)
	if resp != nil {
		call.SetRequestID(resp.RequestID)
	}
	if err != nil {
		return ReplyOutput{}, scopeError(ticketNotFound(err, in.TicketSelector, id), "Desk.tickets.UPDATE")
	}
	call.SetDetail("reply " + th.ID + " sent on ticket " + id)
	call.Created("thread", th.ID, "")
	return replyOutput(th, id, req), nil
}

func draftReply(ctx context.Context, deps Deps, call *action.Call, orgRef OrgRef, sel TicketSelector, draftID string, in ReplyInput) (ReplyOutput, error) {
	errs := append(sel.check(), in.check()...)
	switch in.Channel {
	case "", "EMAIL", "FACEBOOK", "FORUMS":
	default:
		errs = append(errs, deskconn.FieldError{Pointer: "/channel", Code: "invalid", Message: "drafts can be EMAIL, FACEBOOK or FORUMS"})
	}
	if err := invalid(errs); err != nil {
		return ReplyOutput{}, err
	}
	org, err := call.OrgID(orgRef.OrgID)
	if err != nil {
		return ReplyOutput{}, err
	}
	id, err := resolveTicket(ctx, call, org, sel)
	if err != nil {
		return ReplyOutput{}, err
	}
	req, planned, err := replyRequest(ctx, deps, call, org, id, in)
	if err != nil {
		return ReplyOutput{}, ticketNotFound(err, sel, id)
	}
	method, path := "POST", "/tickets/"+id+"/draftReply"
	if draftID != "" {
		method, path = "PATCH", path+"/"+draftID
	}
	if call.DryRun {
		planned = append(planned, action.PlannedRequest{Method: method, Path: path, Header: orgHeader(org), Body: req})
		return ReplyOutput{}, call.Plan(planned...)
	}
	var th *zohodesk.Thread
	var resp *zohodesk.Response
	if draftID == "" {
		th, resp, err = call.Desk.Drafts.Create(ctx, org, id, req)
	} else {
		th, resp, err = call.Desk.Drafts.Update(ctx, org, id, draftID, req)
	}
	if resp != nil {
		call.SetRequestID(resp.RequestID)
	}
	if draftID != "" && errors.Is(err, zohodesk.ErrNotFound) {
		return ReplyOutput{}, &deskconn.Error{Code: deskconn.CodeNotFound, Err: err,
			Message: "ticket " + id + " has no draft " + draftID + " (or the ticket does not exist); make one with draft_ticket_reply",
			Fields:  []deskconn.FieldError{{Pointer: "/draftId", Code: "invalid", Message: "no such draft on this ticket"}}}
	}
	if err != nil {
		return ReplyOutput{}, scopeError(ticketNotFound(err, sel, id), "Desk.tickets.UPDATE")
	}
	call.SetDetail("draft " + th.ID + " saved on ticket " + id)
	return replyOutput(th, id, req), nil
}
