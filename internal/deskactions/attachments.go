package deskactions

import (
	"context"
	"encoding/json"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/filedata"
	"github.com/deskconn/deskconn/zohodesk"
)

func attachmentActions(deps Deps) []*action.Action {
	return []*action.Action{
		action.Define("create_ticket_attachment", action.Info{
			Title:       "Create ticket attachment",
			Description: "Attaches a file to a ticket: fileData is an http(s) URL or base64, at most 20 MiB. params.isPublic shows it to the customer.",
			Toolset:     "tickets",
			Hints:       action.Hints{OpenWorld: true}, Write: true, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in CreateTicketAttachmentInput) (AttachmentOutput, error) {
			if err := invalid(in.TicketSelector.check()); err != nil {
				return AttachmentOutput{}, err
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return AttachmentOutput{}, err
			}
			id, err := resolveTicket(ctx, call, org, in.TicketSelector)
			if err != nil {
				return AttachmentOutput{}, err
			}
			// The file is opened (URL fetched, base64 checked) and its size
			// checked against the cap before anything is sent to Zoho.
			f, err := openFile(ctx, deps, FileInput{FileName: in.FileName, FileData: in.FileData}, "")
			if err != nil {
				return AttachmentOutput{}, err
			}
			defer f.Body.Close()
			if call.DryRun {
				return AttachmentOutput{}, call.Plan(action.PlannedRequest{
					Method: "POST", Path: "/tickets/" + id + "/attachments", Header: orgHeader(org),
					Query: map[string][]string{"isPublic": {boolText(in.Params.IsPublic)}}, Body: filePlan(f),
				})
			}
			a, err := sendFile(ctx, deps, FileInput{FileName: in.FileName, FileData: in.FileData}, "", f, func(f *filedata.File) (*zohodesk.TicketAttachment, error) {
				a, resp, err := call.Desk.TicketAttachments.Create(ctx, org, id, f.Name, zohodesk.Sized(f.Body, f.Size), &zohodesk.TicketAttachmentCreateOptions{IsPublic: in.Params.IsPublic})
				if resp != nil {
					call.SetRequestID(resp.RequestID)
				}
				return a, err
			})
			if err != nil {
				return AttachmentOutput{}, ticketNotFound(fileError(err, "/fileData"), in.TicketSelector, id)
			}
			call.SetDetail("attachment " + a.ID + " added to ticket " + id)
			return attachmentOutput(a, id), nil
		}),
		action.Define("list_ticket_attachments", action.Info{
			Title:       "List ticket attachments",
			Description: "Lists the files attached to a ticket (id, name, size, time, public flag), a page at a time.",
			Toolset:     "tickets",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListTicketAttachmentsInput) (ListOutput, error) {
			errs := in.TicketSelector.check()
			errs = append(errs, checkEnumList("/params/include", in.Params.Include, []string{"creator"}, 0)...)
			if err := invalid(errs); err != nil {
				return ListOutput{}, err
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			id, err := resolveTicket(ctx, call, org, in.TicketSelector)
			if err != nil {
				return ListOutput{}, err
			}
			p := in.Params
			sortBy := p.SortBy
			if sortBy == "" && (in.SortOrder == "-" || in.SortOrder == "desc") {
				sortBy = "createdTime"
			}
			limit := pageLimit(p.Limit, zohodesk.MaxLimitTicketAttachments)
			items, _, err := call.Desk.TicketAttachments.List(ctx, org, id, &zohodesk.TicketAttachmentListOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit},
				IsPublic:    p.IsPublic, SortBy: sortPrefix(sortBy, in.SortOrder), Include: p.Include.Join(),
			})
			if err != nil {
				return ListOutput{}, ticketNotFound(err, in.TicketSelector, id)
			}
			return pageOf(items, func(a *zohodesk.TicketAttachment) json.RawMessage { return a.Raw }, p.From, limit), nil
		}),
	}
}

func attachmentOutput(a *zohodesk.TicketAttachment, ticketID string) AttachmentOutput {
	return AttachmentOutput{ID: a.ID, Name: a.Name, Size: a.Size, CreatedTime: a.CreatedTime, IsPublic: a.IsPublic, TicketID: ticketID, Attachment: a.Raw}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
