package deskactions

import (
	"encoding/json"

	"github.com/deskconn/deskconn/internal/action"
)

// Person is who wrote a thread or comment, or caused a history event.
type Person struct {
	ID    string `json:"id,omitempty" jsonschema:"Id of the agent or contact."`
	Name  string `json:"name,omitempty" jsonschema:"Display name."`
	Email string `json:"email,omitempty" jsonschema:"E-mail address."`
	Type  string `json:"type,omitempty" jsonschema:"AGENT or END_USER (the customer) for threads and comments; Agent, Contact, System, Workflow, ... for history."`
}

// FileRef is an attachment of a thread or comment.
type FileRef struct {
	ID   string `json:"id" jsonschema:"Id of the attachment."`
	Name string `json:"name" jsonschema:"File name."`
	Size string `json:"size,omitempty" jsonschema:"Size in bytes (a string, as Zoho sends it)."`
}

// ConversationEntry is one thread or comment of a ticket, flattened for a
// model to read.
type ConversationEntry struct {
	Type        string    `json:"type" jsonschema:"thread (a message: e-mail, chat, phone note, ...) or comment (a note by an agent)."`
	ID          string    `json:"id" jsonschema:"Id of the thread (for get_ticket_thread) or of the comment (for update_ticket_comment)."`
	Time        string    `json:"time" jsonschema:"When it was sent or written (ISO 8601)."`
	Author      *Person   `json:"author,omitempty" jsonschema:"Who wrote it."`
	Direction   string    `json:"direction,omitempty" jsonschema:"Threads: incoming (from the customer) or outgoing (to the customer). Absent for comments."`
	Channel     string    `json:"channel,omitempty" jsonschema:"Threads: EMAIL, WEB, PHONE, ONLINE_CHAT, ... Absent for comments."`
	Visibility  string    `json:"visibility" jsonschema:"public (the customer sees it) or private (agents only; comments are private unless made public)."`
	Status      string    `json:"status,omitempty" jsonschema:"Threads: SUCCESS, PENDING (being sent), FAILED or DRAFT."`
	IsForward   bool      `json:"isForward,omitempty" jsonschema:"The thread forwards the conversation to someone else."`
	Attachments []FileRef `json:"attachments,omitempty" jsonschema:"Files attached to it."`
	Content     string    `json:"content" jsonschema:"The text as plain text: HTML converted, quoted earlier messages and marked signatures removed."`
	ContentCut  bool      `json:"contentCut,omitempty" jsonschema:"True when content was cut at maxChars; get_ticket_thread returns a thread whole."`
	SummaryOnly bool      `json:"summaryOnly,omitempty" jsonschema:"True when content is only Zoho's short summary of the thread (content: summary was asked, or the thread could not be read)."`
}

// ListTicketConversationsInput is the input of list_ticket_conversations.
type ListTicketConversationsInput struct {
	OrgRef
	TicketSelector
	From        int    `json:"from,omitempty" jsonschema:"Index of the first item (0 is the newest unless oldestFirst); pass nextFrom of the previous page." schema:"minimum=0,maximum=100000"`
	Limit       int    `json:"limit,omitempty" jsonschema:"Items per page, 1-100 (default 20)." schema:"minimum=1,maximum=100"`
	All         bool   `json:"all,omitempty" jsonschema:"Return every item, up to 500; truncated says when more exist."`
	OldestFirst bool   `json:"oldestFirst,omitempty" jsonschema:"Oldest first (reads the whole conversation, up to 500 items, then pages it). Default: newest first."`
	MaxChars    int    `json:"maxChars,omitempty" jsonschema:"Cut each item's content to this many characters (default 2000; contentCut marks a cut item)." schema:"minimum=50,maximum=100000"`
	Content     string `json:"content,omitempty" jsonschema:"full (default): each thread's whole text (one extra read per thread); summary: Zoho's short summary only, cheaper for long conversations." schema:"enum=full|summary"`
}

// ConversationOutput is a page of a ticket's conversation.
type ConversationOutput struct {
	TicketID  string              `json:"ticketId" jsonschema:"Id of the ticket."`
	Items     []ConversationEntry `json:"items" jsonschema:"Threads and comments, newest first unless oldestFirst."`
	From      int                 `json:"from" jsonschema:"Index of the first item returned."`
	Limit     int                 `json:"limit" jsonschema:"Page size used."`
	Count     int                 `json:"count" jsonschema:"Number of items returned."`
	HasMore   bool                `json:"hasMore" jsonschema:"Whether more items may exist after these."`
	NextFrom  *int                `json:"nextFrom,omitempty" jsonschema:"Pass as from to get the next page (absent when hasMore is false)."`
	Truncated bool                `json:"truncated,omitempty" jsonschema:"With all or oldestFirst: the 500-item cap was reached and more items exist."`
}

// GetTicketThreadInput is the input of get_ticket_thread.
type GetTicketThreadInput struct {
	OrgRef
	TicketSelector
	ThreadID string `json:"threadId" jsonschema:"Id of the thread (from list_ticket_conversations)." schema:"pattern=^[0-9]+$,maxLength=32"`
	MaxChars int    `json:"maxChars,omitempty" jsonschema:"Cut the plain text to this many characters (default 100000)." schema:"minimum=50,maximum=1000000"`
}

// ThreadOutput is one thread whole.
type ThreadOutput struct {
	ID          string          `json:"id" jsonschema:"Id of the thread."`
	TicketID    string          `json:"ticketId" jsonschema:"Id of the ticket."`
	Channel     string          `json:"channel,omitempty" jsonschema:"EMAIL, WEB, PHONE, ..."`
	Direction   string          `json:"direction,omitempty" jsonschema:"incoming (from the customer) or outgoing (to the customer)."`
	Visibility  string          `json:"visibility,omitempty" jsonschema:"public or private."`
	Status      string          `json:"status,omitempty" jsonschema:"SUCCESS, PENDING, FAILED or DRAFT."`
	Time        string          `json:"time,omitempty" jsonschema:"When it was sent (ISO 8601)."`
	Author      *Person         `json:"author,omitempty" jsonschema:"Who wrote it."`
	From        string          `json:"from,omitempty" jsonschema:"Sender address (e-mail threads)."`
	To          string          `json:"to,omitempty" jsonschema:"Recipients, comma-separated."`
	Cc          string          `json:"cc,omitempty" jsonschema:"Cc recipients."`
	Bcc         string          `json:"bcc,omitempty" jsonschema:"Bcc recipients."`
	Attachments []FileRef       `json:"attachments" jsonschema:"Files attached to the thread."`
	ContentHTML string          `json:"contentHtml" jsonschema:"The content as Zoho stores it (HTML or plain text, see contentType)."`
	ContentType string          `json:"contentType,omitempty" jsonschema:"text/html or text/plain."`
	Text        string          `json:"text" jsonschema:"The content as plain text, quoted history and marked signatures removed."`
	TextCut     bool            `json:"textCut,omitempty" jsonschema:"True when text was cut at maxChars."`
	Thread      json.RawMessage `json:"thread" jsonschema:"The thread as Zoho Desk returned it."`
}

// ReplyInput is the content and recipients of a reply or draft.
type ReplyInput struct {
	Content          string      `json:"content" jsonschema:"The message: plain text, or HTML with contentType html." schema:"minLength=1,maxLength=16000000"`
	ContentType      string      `json:"contentType,omitempty" jsonschema:"plainText (default) or html." schema:"enum=plainText|html"`
	Channel          string      `json:"channel,omitempty" jsonschema:"Channel of the reply: EMAIL (default), or the ticket's channel where Zoho allows replies on it (FACEBOOK, TWITTER, FORUMS, ...)." schema:"enum=EMAIL|FACEBOOK|TWITTER|TWITTER_DM|FORUMS|ONLINE_CHAT|OFFLINE_CHAT|CUSTOMERPORTAL"`
	To               string      `json:"to,omitempty" jsonschema:"Recipients, comma-separated e-mail addresses. Default: the ticket's contact." schema:"maxLength=13000"`
	Cc               string      `json:"cc,omitempty" jsonschema:"Cc recipients, comma-separated." schema:"maxLength=13000"`
	Bcc              string      `json:"bcc,omitempty" jsonschema:"Bcc recipients, comma-separated." schema:"maxLength=13000"`
	FromEmailAddress string      `json:"fromEmailAddress,omitempty" jsonschema:"The support address to send from; list the allowed ones with list_support_addresses. Default: the default address of the ticket's department." schema:"maxLength=300"`
	Attachments      []UploadRef `json:"attachments,omitempty" jsonschema:"Files to attach: ids of files already uploaded, or {fileName, fileData} objects (fileData is an http(s) URL or base64), uploaded first." schema:"maxItems=10"`
}

// ReplyToTicketInput is the input of reply_to_ticket.
type ReplyToTicketInput struct {
	OrgRef
	TicketSelector
	ReplyInput
	TicketStatus string `json:"ticketStatus,omitempty" jsonschema:"Set the ticket to this status after sending (e.g. Closed, On Hold, or a custom status)." schema:"maxLength=120"`
	action.WriteOptions
}

// Describe says what a confirmation would allow.
func (in ReplyToTicketInput) Describe() string {
	to := in.To
	if to == "" {
		to = "the ticket's contact"
	}
	return "send a reply that " + to + " will receive, on ticket " + selectorText(in.TicketSelector) + " (it cannot be recalled)"
}

func selectorText(s TicketSelector) string {
	switch {
	case s.TicketID != "":
		return s.TicketID
	case s.TicketNumber != "":
		return "#" + s.TicketNumber
	}
	return quote(s.TicketSubject)
}

// DraftTicketReplyInput is the input of draft_ticket_reply.
type DraftTicketReplyInput struct {
	OrgRef
	TicketSelector
	ReplyInput
	action.WriteOptions
}

// UpdateTicketDraftInput is the input of update_ticket_draft.
type UpdateTicketDraftInput struct {
	OrgRef
	TicketSelector
	DraftID string `json:"draftId" jsonschema:"Id of the draft (from draft_ticket_reply)." schema:"pattern=^[0-9]+$,maxLength=32"`
	ReplyInput
	action.WriteOptions
}

// ReplyOutput is the thread a reply or draft created.
type ReplyOutput struct {
	ID          string          `json:"id" jsonschema:"Id of the new thread (the draft id for drafts)."`
	TicketID    string          `json:"ticketId" jsonschema:"Id of the ticket."`
	Status      string          `json:"status,omitempty" jsonschema:"PENDING (queued for sending; it becomes SUCCESS or FAILED), or DRAFT."`
	From        string          `json:"from,omitempty" jsonschema:"The address it is sent from."`
	To          string          `json:"to,omitempty" jsonschema:"Recipients."`
	Cc          string          `json:"cc,omitempty" jsonschema:"Cc recipients."`
	Bcc         string          `json:"bcc,omitempty" jsonschema:"Bcc recipients."`
	CreatedTime string          `json:"createdTime,omitempty" jsonschema:"When it was created (ISO 8601)."`
	UploadIDs   []string        `json:"uploadIds,omitempty" jsonschema:"Ids of the attached files."`
	Thread      json.RawMessage `json:"thread" jsonschema:"The thread as Zoho Desk returned it."`
}

// ListSupportAddressesInput is the input of list_support_addresses.
type ListSupportAddressesInput struct {
	OrgRef
	DepartmentID string `json:"departmentId,omitempty" jsonschema:"Only the addresses of this department (list_departments)." schema:"pattern=^[0-9]+$,maxLength=32"`
	Page
}
