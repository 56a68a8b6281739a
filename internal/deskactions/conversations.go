package deskactions

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/htmltext"
	"github.com/deskconn/deskconn/zohodesk"
)

const (
	// maxConversationItems caps all: true and oldestFirst reads.
	maxConversationItems = 500
	// defaultItemChars is the default per-item cut of list_ticket_conversations.
	defaultItemChars = 2000
	// defaultThreadChars is the default cut of get_ticket_thread's text.
	defaultThreadChars = 100000
	// threadReads bounds the concurrent thread reads of one call (Zoho's
	// per-org concurrency is small, and other callers share it).
	threadReads = 3
)

func conversationActions() []*action.Action {
	return []*action.Action{
		action.Define("list_ticket_conversations", action.Info{
			Title:       "List a ticket's conversation",
			Description: "Reads a ticket's messages, replies and comments as plain text, newest first. Use it before answering a customer.",
			Toolset:     "conversations",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, listTicketConversations),
		action.Define("get_ticket_thread", action.Info{
			Title:       "Get one message of a ticket",
			Description: "Returns one message of a ticket whole (HTML, text, recipients, attachments). Thread ids come from list_ticket_conversations.",
			Toolset:     "conversations",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, getTicketThread),
		action.Define("list_support_addresses", action.Info{
			Title:       "List support e-mail addresses",
			Description: "Lists the addresses replies can be sent from (fromEmailAddress of reply_to_ticket); isDefault marks the default.",
			Toolset:     "lookups",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListSupportAddressesInput) (ListOutput, error) {
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			limit := pageLimit(in.Limit, zohodesk.MaxLimitSupportEmailAddresses)
			items, _, err := call.Desk.SupportEmailAddresses.List(ctx, org, &zohodesk.SupportEmailAddressListOptions{
				ListOptions: zohodesk.ListOptions{From: in.From, Limit: limit}, DepartmentID: in.DepartmentID})
			if err != nil {
				return ListOutput{}, scopeError(err, "Desk.settings.READ")
			}
			return pageOf(items, func(a *zohodesk.SupportEmailAddress) json.RawMessage { return a.Raw }, in.From, limit), nil
		}),
	}
}

// scopeError names the OAuth scope a refused call needed and how to get it;
// other errors pass unchanged.
func scopeError(err error, scope string) error {
	var ae *zohodesk.APIError
	if !errors.As(err, &ae) || ae.Code != zohodesk.CodeScopeMismatch {
		return err
	}
	return &deskconn.Error{Code: deskconn.CodeForbidden, Err: err,
		Upstream: &deskconn.Upstream{Status: ae.StatusCode, ErrorCode: ae.Code, Message: ae.Message, RequestID: ae.RequestID},
		Message: "the connection lacks the Zoho OAuth scope " + scope + " that this action needs: reconnect the connection with " + scope +
			" (or Desk.tickets.ALL for ticket work) in its scopes and approve it"}
}

func direction(d string) string {
	switch d {
	case "in":
		return "incoming"
	case "out":
		return "outgoing"
	}
	return d
}

func person(a *zohodesk.Author) *Person {
	if a == nil {
		return nil
	}
	name := a.Name
	if name == "" {
		name = strings.TrimSpace(a.FirstName + " " + a.LastName)
	}
	return &Person{ID: a.ID, Name: name, Email: a.Email, Type: a.Type}
}

func fileRefs(as []*zohodesk.Attachment) []FileRef {
	var out []FileRef
	for _, a := range as {
		out = append(out, FileRef{ID: a.ID, Name: a.Name, Size: a.Size})
	}
	return out
}

// plainText converts thread or comment content to text cut at maxChars.
func plainText(content, contentType string, maxChars int) (string, bool) {
	if contentType == "text/plain" || contentType == "plainText" {
		content = htmlEscapeText(content)
	}
	return htmltext.FromHTML(content, maxChars)
}

// htmlEscapeText turns plain text into HTML whose text is the same, so one
// converter (with its caps) handles both; line breaks are kept.
func htmlEscapeText(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	return "<pre>" + s + "</pre>"
}

func threadEntry(th *zohodesk.Thread) ConversationEntry {
	return ConversationEntry{Type: "thread", ID: th.ID, Time: th.CreatedTime, Author: person(th.Author), Direction: direction(th.Direction),
		Channel: th.Channel, Visibility: th.Visibility, Status: th.Status, IsForward: th.IsForward, Attachments: fileRefs(th.Attachments)}
}

func commentEntry(c *zohodesk.Comment, maxChars int) ConversationEntry {
	vis := "private"
	if c.IsPublic {
		vis = "public"
	}
	e := ConversationEntry{Type: "comment", ID: c.ID, Time: c.CommentedTime, Author: person(c.Commenter), Visibility: vis, Attachments: fileRefs(c.Attachments)}
	if c.PlainText != "" {
		e.Content, e.ContentCut = plainText(c.PlainText, "plainText", maxChars)
	} else {
		e.Content, e.ContentCut = plainText(c.Content, c.ContentType, maxChars)
	}
	return e
}

// conversationEntries turns Zoho's conversation rows into entries; with
// full, each thread's whole content is read (threadReads at a time).
func conversationEntries(ctx context.Context, call *action.Call, org, ticketID string, items []*zohodesk.ConversationItem, maxChars int, full bool) ([]ConversationEntry, error) {
	out := make([]ConversationEntry, len(items))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(threadReads)
	for i, it := range items {
		switch {
		case it.Comment != nil:
			out[i] = commentEntry(it.Comment, maxChars)
		case it.Thread != nil:
			out[i] = threadEntry(it.Thread)
			out[i].Content, out[i].ContentCut = plainText(it.Thread.Summary, "plainText", maxChars)
			out[i].SummaryOnly = true
			if !full {
				continue
			}
			g.Go(func() error {
				th, _, err := call.Desk.Threads.Get(gctx, org, ticketID, it.Thread.ID, nil)
				if errors.Is(err, zohodesk.ErrNotFound) {
					return nil // deleted meanwhile: keep the summary
				}
				if err != nil {
					return err
				}
				out[i].Content, out[i].ContentCut = plainText(th.Content, th.ContentType, maxChars)
				// Zoho cut a very long thread itself: say so (get_ticket_thread reads it whole).
				out[i].ContentCut = out[i].ContentCut || th.IsContentTruncated
				out[i].SummaryOnly = false
				if len(th.Attachments) > 0 {
					out[i].Attachments = fileRefs(th.Attachments)
				}
				return nil
			})
		default:
			out[i] = ConversationEntry{Type: it.Type}
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func listTicketConversations(ctx context.Context, call *action.Call, in ListTicketConversationsInput) (ConversationOutput, error) {
	if err := invalid(in.TicketSelector.check()); err != nil {
		return ConversationOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return ConversationOutput{}, err
	}
	id, err := resolveTicket(ctx, call, org, in.TicketSelector)
	if err != nil {
		return ConversationOutput{}, err
	}
	maxChars := in.MaxChars
	if maxChars == 0 {
		maxChars = defaultItemChars
	}
	limit := in.Limit
	if limit == 0 {
		limit = 20
	}
	out := ConversationOutput{TicketID: id, From: in.From, Limit: limit}
	var rows []*zohodesk.ConversationItem
	if in.All || in.OldestFirst {
		for it, err := range call.Desk.Conversations.ListAll(ctx, org, id, nil) {
			if err != nil {
				return ConversationOutput{}, scopeError(ticketNotFound(err, in.TicketSelector, id), "Desk.tickets.READ")
			}
			if len(rows) == maxConversationItems {
				out.Truncated = true
				break
			}
			rows = append(rows, it)
		}
		sortConversation(rows, in.OldestFirst)
		if in.All {
			out.From, out.Limit = 0, len(rows)
		} else {
			lo, hi := min(in.From, len(rows)), min(in.From+limit, len(rows))
			out.HasMore = hi < len(rows)
			rows = rows[lo:hi]
		}
	} else {
		rows, _, err = call.Desk.Conversations.List(ctx, org, id, &zohodesk.ConversationListOptions{ListOptions: zohodesk.ListOptions{From: in.From, Limit: limit}})
		if err != nil {
			return ConversationOutput{}, scopeError(ticketNotFound(err, in.TicketSelector, id), "Desk.tickets.READ")
		}
		out.HasMore = len(rows) >= limit
		sortConversation(rows, false)
	}
	out.Items, err = conversationEntries(ctx, call, org, id, rows, maxChars, in.Content != "summary")
	if err != nil {
		return ConversationOutput{}, err
	}
	out.Count = len(out.Items)
	if out.HasMore {
		next := out.From + out.Count
		out.NextFrom = &next
	}
	return out, nil
}

// itemTime is an item's time as Zoho prints it (ISO 8601, so it sorts as text).
func itemTime(it *zohodesk.ConversationItem) string {
	switch {
	case it.Thread != nil:
		return it.Thread.CreatedTime
	case it.Comment != nil:
		return it.Comment.CommentedTime
	}
	return ""
}

// sortConversation orders items newest first (or oldest first). Zoho does
// not document the order of /conversations [GAP], so it is imposed here.
func sortConversation(items []*zohodesk.ConversationItem, oldestFirst bool) {
	slices.SortStableFunc(items, func(a, b *zohodesk.ConversationItem) int {
		if oldestFirst {
			return strings.Compare(itemTime(a), itemTime(b))
		}
		return strings.Compare(itemTime(b), itemTime(a))
	})
}

func getTicketThread(ctx context.Context, call *action.Call, in GetTicketThreadInput) (ThreadOutput, error) {
	if err := invalid(in.TicketSelector.check()); err != nil {
		return ThreadOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return ThreadOutput{}, err
	}
	id, err := resolveTicket(ctx, call, org, in.TicketSelector)
	if err != nil {
		return ThreadOutput{}, err
	}
	th, _, err := call.Desk.Threads.Get(ctx, org, id, in.ThreadID, nil)
	if errors.Is(err, zohodesk.ErrNotFound) {
		return ThreadOutput{}, &deskconn.Error{Code: deskconn.CodeNotFound, Err: err,
			Message: "ticket " + id + " has no thread " + in.ThreadID + "; list its threads with list_ticket_conversations",
			Fields:  []deskconn.FieldError{{Pointer: "/threadId", Code: "invalid", Message: "no such thread on this ticket"}}}
	}
	if err != nil {
		return ThreadOutput{}, scopeError(err, "Desk.tickets.READ")
	}
	if th.IsContentTruncated {
		full, _, err := call.Desk.Threads.FullContent(ctx, org, id, in.ThreadID)
		if err != nil {
			return ThreadOutput{}, scopeError(err, "Desk.tickets.READ")
		}
		th = full
	}
	maxChars := in.MaxChars
	if maxChars == 0 {
		maxChars = defaultThreadChars
	}
	text, cut := plainText(th.Content, th.ContentType, maxChars)
	atts := fileRefs(th.Attachments)
	if atts == nil {
		atts = []FileRef{}
	}
	return ThreadOutput{ID: th.ID, TicketID: id, Channel: th.Channel, Direction: direction(th.Direction), Visibility: th.Visibility, Status: th.Status,
		Time: th.CreatedTime, Author: person(th.Author), From: th.FromEmailAddress, To: th.To, Cc: th.Cc, Bcc: th.Bcc, Attachments: atts,
		ContentHTML: th.Content, ContentType: th.ContentType, Text: text, TextCut: cut, Thread: th.Raw}, nil
}

// latestConversation returns the newest n items of a ticket's conversation,
// for get_ticket.
func latestConversation(ctx context.Context, call *action.Call, org, ticketID string, n int) ([]ConversationEntry, error) {
	rows, _, err := call.Desk.Conversations.List(ctx, org, ticketID, &zohodesk.ConversationListOptions{ListOptions: zohodesk.ListOptions{Limit: n}})
	if err != nil {
		return nil, scopeError(err, "Desk.tickets.READ")
	}
	sortConversation(rows, false)
	return conversationEntries(ctx, call, org, ticketID, rows, defaultItemChars, true)
}
