package deskactions

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// AddTicketCommentInput is the input of add_ticket_comment.
type AddTicketCommentInput struct {
	OrgRef
	TicketSelector
	Content     string     `json:"content" jsonschema:"The comment: plain text, or HTML with contentType html." schema:"minLength=1,maxLength=32000"`
	ContentType string     `json:"contentType,omitempty" jsonschema:"plainText (default) or html." schema:"enum=plainText|html"`
	IsPublic    bool       `json:"isPublic,omitempty" jsonschema:"true shows the comment to the customer in the help center; default false: a private note for agents."`
	Mentions    StringList `json:"mentions,omitempty" jsonschema:"Agents to notify, by agent id or e-mail (list_agents, find_agent_by_email); each is mentioned at the start of the comment." schema:"maxItems=20"`
	action.WriteOptions
}

// VisibleToCustomer reports whether the comment is public: the customer
// sees it in the help center, so it runs under the confirm default of
// customer-visible writes (action.VisibleToCustomer).
func (in *AddTicketCommentInput) VisibleToCustomer() bool { return in.IsPublic }

// UpdateTicketCommentInput is the input of update_ticket_comment.
type UpdateTicketCommentInput struct {
	OrgRef
	TicketSelector
	CommentID   string `json:"commentId" jsonschema:"Id of the comment (list_ticket_comments or list_ticket_conversations)." schema:"pattern=^[0-9]+$,maxLength=32"`
	Content     string `json:"content" jsonschema:"The new text of the comment (replaces the old)." schema:"minLength=1,maxLength=32000"`
	ContentType string `json:"contentType,omitempty" jsonschema:"plainText (default) or html." schema:"enum=plainText|html"`
	IsPublic    bool   `json:"isPublic,omitempty" jsonschema:"true: visible to the customer; false (default): private."`
	action.WriteOptions
}

// DeleteTicketCommentInput is the input of delete_ticket_comment.
type DeleteTicketCommentInput struct {
	OrgRef
	TicketSelector
	CommentID string `json:"commentId" jsonschema:"Id of the comment to delete." schema:"pattern=^[0-9]+$,maxLength=32"`
	action.WriteOptions
}

// Describe says what a confirmation would allow.
func (in DeleteTicketCommentInput) Describe() string {
	return "delete comment " + in.CommentID + " of ticket " + selectorText(in.TicketSelector) + " (it cannot be restored)"
}

// ListTicketCommentsInput is the input of list_ticket_comments.
type ListTicketCommentsInput struct {
	OrgRef
	TicketSelector
	Page
	OldestFirst bool `json:"oldestFirst,omitempty" jsonschema:"Oldest first; default newest first."`
}

// CommentOutput is one comment.
type CommentOutput struct {
	ID        string          `json:"id" jsonschema:"Id of the comment."`
	TicketID  string          `json:"ticketId" jsonschema:"Id of the ticket."`
	IsPublic  bool            `json:"isPublic" jsonschema:"Whether the customer can see it."`
	Time      string          `json:"time,omitempty" jsonschema:"When it was written (ISO 8601)."`
	Mentioned []string        `json:"mentioned,omitempty" jsonschema:"Ids of the agents mentioned."`
	Comment   json.RawMessage `json:"comment" jsonschema:"The comment as Zoho Desk returned it."`
}

// DeleteOutput confirms a deletion.
type DeleteOutput struct {
	Deleted  bool   `json:"deleted" jsonschema:"True: it is gone."`
	ID       string `json:"id" jsonschema:"Id of what was deleted."`
	TicketID string `json:"ticketId" jsonschema:"Id of the ticket."`
}

// CommentListOutput is a page of comments.
type CommentListOutput struct {
	TicketID string              `json:"ticketId" jsonschema:"Id of the ticket."`
	Items    []ConversationEntry `json:"items" jsonschema:"The comments, with their text as plain text."`
	ListOutput
}

func commentActions() []*action.Action {
	return []*action.Action{
		action.Define("add_ticket_comment", action.Info{
			Title:       "Comment on a ticket",
			Description: "Adds a comment to a ticket: a private note for agents unless isPublic. To answer the customer use draft_ticket_reply.",
			Toolset:     "conversations",
			Hints:       action.Hints{OpenWorld: true}, Write: true, TypeSchemas: typeSchemas(),
		}, addComment),
		action.Define("list_ticket_comments", action.Info{
			Title:       "List a ticket's comments",
			Description: "Lists a ticket's comments (agents' notes), newest first, as plain text. list_ticket_conversations shows them with the messages.",
			Toolset:     "conversations",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, listComments),
		action.Define("update_ticket_comment", action.Info{
			Title:       "Edit a ticket comment",
			Description: "Replaces the text (and visibility) of a ticket comment; only its author can. commentId: list_ticket_comments.",
			Toolset:     "conversations",
			Hints:       action.Hints{Idempotent: true, OpenWorld: true}, Write: true, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in UpdateTicketCommentInput) (CommentOutput, error) {
			if err := invalid(in.TicketSelector.check()); err != nil {
				return CommentOutput{}, err
			}
			org, id, err := orgAndTicket(ctx, call, in.OrgRef, in.TicketSelector)
			if err != nil {
				return CommentOutput{}, err
			}
			req := &zohodesk.CommentRequest{Content: in.Content, ContentType: in.ContentType, IsPublic: in.IsPublic}
			if call.DryRun {
				return CommentOutput{}, call.Plan(action.PlannedRequest{Method: "PATCH", Path: "/tickets/" + id + "/comments/" + in.CommentID, Header: orgHeader(org), Body: req})
			}
			c, resp, err := call.Desk.Comments.Update(ctx, org, id, in.CommentID, req)
			if resp != nil {
				call.SetRequestID(resp.RequestID)
			}
			if err != nil {
				return CommentOutput{}, commentError(err, in.TicketSelector, id, in.CommentID)
			}
			call.SetDetail("comment " + c.ID + " updated on ticket " + id)
			return commentOutput(c, id), nil
		}),
		action.Define("delete_ticket_comment", action.Info{
			Title:       "Delete a ticket comment",
			Description: "Deletes a ticket comment for good. commentId: list_ticket_comments. Needs confirm: true by default.",
			Toolset:     "conversations",
			Hints:       action.Hints{Destructive: true, OpenWorld: true}, Write: true, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in DeleteTicketCommentInput) (DeleteOutput, error) {
			if err := invalid(in.TicketSelector.check()); err != nil {
				return DeleteOutput{}, err
			}
			org, id, err := orgAndTicket(ctx, call, in.OrgRef, in.TicketSelector)
			if err != nil {
				return DeleteOutput{}, err
			}
			if call.DryRun {
				return DeleteOutput{}, call.Plan(action.PlannedRequest{Method: "DELETE", Path: "/tickets/" + id + "/comments/" + in.CommentID, Header: orgHeader(org)})
			}
			resp, err := call.Desk.Comments.Delete(ctx, org, id, in.CommentID)
			if resp != nil {
				call.SetRequestID(resp.RequestID)
			}
			if err != nil {
				return DeleteOutput{}, commentError(err, in.TicketSelector, id, in.CommentID)
			}
			call.SetDetail("comment " + in.CommentID + " deleted from ticket " + id)
			return DeleteOutput{Deleted: true, ID: in.CommentID, TicketID: id}, nil
		}),
	}
}

// orgAndTicket resolves the organisation and the ticket id.
func orgAndTicket(ctx context.Context, call *action.Call, o OrgRef, s TicketSelector) (org, id string, err error) {
	org, err = call.OrgID(o.OrgID)
	if err != nil {
		return "", "", err
	}
	id, err = resolveTicket(ctx, call, org, s)
	return org, id, err
}

// commentError explains a missing comment and a missing scope.
func commentError(err error, s TicketSelector, ticketID, commentID string) error {
	if errors.Is(err, zohodesk.ErrNotFound) {
		return &deskconn.Error{Code: deskconn.CodeNotFound, Err: err,
			Message: "ticket " + ticketID + " has no comment " + commentID + " (or the ticket does not exist); list them with list_ticket_comments",
			Fields:  []deskconn.FieldError{{Pointer: "/commentId", Code: "invalid", Message: "no such comment on this ticket"}}}
	}
	return scopeError(err, "Desk.tickets.UPDATE")
}

func commentOutput(c *zohodesk.Comment, ticketID string) CommentOutput {
	out := CommentOutput{ID: c.ID, TicketID: ticketID, IsPublic: c.IsPublic, Time: c.CommentedTime, Comment: c.Raw}
	for _, m := range c.Mentions {
		out.Mentioned = append(out.Mentioned, m.ID)
	}
	return out
}

// mentionPrefix resolves agents (ids or e-mails) to Zoho's mention markup
// zsu[@user:<zuid>]zsu, the form Zoho's OAS documents.
func mentionPrefix(ctx context.Context, call *action.Call, org string, who StringList) (string, []string, error) {
	var b strings.Builder
	var ids []string
	for i, w := range who {
		w = strings.TrimSpace(w)
		var a *zohodesk.Agent
		var err error
		switch {
		case isID(w):
			a, _, err = call.Desk.Agents.Get(ctx, org, w, nil)
		case looksLikeEmail(w):
			a, _, err = call.Desk.Agents.GetByEmail(ctx, org, w)
		default:
			return "", nil, deskconn.Invalid("a mention is neither an agent id nor an e-mail",
				deskconn.FieldError{Pointer: "/mentions/" + itoa(i), Code: "invalid", Message: "give an agent id (list_agents) or an agent's e-mail"})
		}
		if errors.Is(err, zohodesk.ErrNotFound) {
			return "", nil, &deskconn.Error{Code: deskconn.CodeNotFound, Err: err, Message: "no agent " + quote(w) + "; find agents with list_agents or find_agent_by_email",
				Fields: []deskconn.FieldError{{Pointer: "/mentions/" + itoa(i), Code: "invalid", Message: "no such agent"}}}
		}
		if err != nil {
			return "", nil, err
		}
		if a.ZUID == "" {
			return "", nil, deskconn.Invalid("the agent cannot be mentioned yet",
				deskconn.FieldError{Pointer: "/mentions/" + itoa(i), Code: "invalid", Message: "agent " + a.ID + " has not accepted the invitation yet (no Zoho user id), so cannot be mentioned"})
		}
		b.WriteString("zsu[@user:" + a.ZUID + "]zsu ")
		ids = append(ids, a.ID)
	}
	return b.String(), ids, nil
}

func addComment(ctx context.Context, call *action.Call, in AddTicketCommentInput) (CommentOutput, error) {
	errs := in.TicketSelector.check()
	if strings.TrimSpace(in.Content) == "" {
		errs = append(errs, deskconn.FieldError{Pointer: "/content", Code: "missing", Message: "write the comment"})
	}
	if err := invalid(errs); err != nil {
		return CommentOutput{}, err
	}
	org, id, err := orgAndTicket(ctx, call, in.OrgRef, in.TicketSelector)
	if err != nil {
		return CommentOutput{}, err
	}
	prefix, mentioned, err := mentionPrefix(ctx, call, org, in.Mentions)
	if err != nil {
		return CommentOutput{}, err
	}
	content := prefix + in.Content
	if prefix != "" && in.ContentType == "html" {
		content = "<div>" + prefix + "</div>" + in.Content
	}
	req := &zohodesk.CommentRequest{Content: content, ContentType: in.ContentType, IsPublic: in.IsPublic}
	if call.DryRun {
		return CommentOutput{}, call.Plan(action.PlannedRequest{Method: "POST", Path: "/tickets/" + id + "/comments", Header: orgHeader(org), Body: req})
	}
	c, resp, err := call.Desk.Comments.Create(ctx, org, id, req)
	if resp != nil {
		call.SetRequestID(resp.RequestID)
	}
	if err != nil {
		return CommentOutput{}, scopeError(ticketNotFound(err, in.TicketSelector, id), "Desk.tickets.UPDATE")
	}
	call.SetDetail("comment " + c.ID + " added to ticket " + id)
	call.Created("comment", c.ID, "")
	out := commentOutput(c, id)
	if len(out.Mentioned) == 0 {
		out.Mentioned = mentioned
	}
	return out, nil
}

func listComments(ctx context.Context, call *action.Call, in ListTicketCommentsInput) (CommentListOutput, error) {
	if err := invalid(in.TicketSelector.check()); err != nil {
		return CommentListOutput{}, err
	}
	org, id, err := orgAndTicket(ctx, call, in.OrgRef, in.TicketSelector)
	if err != nil {
		return CommentListOutput{}, err
	}
	limit := pageLimit(in.Limit, zohodesk.MaxLimitComments)
	sortBy := "-commentedTime"
	if in.OldestFirst {
		sortBy = "commentedTime"
	}
	items, _, err := call.Desk.Comments.List(ctx, org, id, &zohodesk.CommentListOptions{ListOptions: zohodesk.ListOptions{From: in.From, Limit: limit}, SortBy: sortBy, IncludeMentions: true})
	if err != nil {
		return CommentListOutput{}, scopeError(ticketNotFound(err, in.TicketSelector, id), "Desk.tickets.READ")
	}
	out := CommentListOutput{TicketID: id, Items: make([]ConversationEntry, 0, len(items)),
		ListOutput: pageOf(items, func(c *zohodesk.Comment) json.RawMessage { return c.Raw }, in.From, limit)}
	for _, c := range items {
		out.Items = append(out.Items, commentEntry(c, defaultThreadChars))
	}
	return out, nil
}
