package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
)

// ThreadsService lists and gets the threads (e-mails, replies, chats,
// social posts) of a ticket.
type ThreadsService service

// Author is who wrote a thread or comment. Type is END_USER, AGENT, TEAM,
// TICKET or ACTIVITY.
type Author struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Email     string `json:"email,omitempty"`
	PhotoURL  string `json:"photoURL,omitempty"`
	Type      string `json:"type,omitempty"`
	RoleName  string `json:"roleName,omitempty"`
}

// UnmarshalJSON decodes a, accepting ids sent as numbers.
func (a *Author) UnmarshalJSON(b []byte) error {
	type plain Author
	return decodeLenient(b, (*plain)(a))
}

// Attachment is a file on a thread or comment. Size is a decimal string;
// Href is the API URL of the content.
type Attachment struct {
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
	Size       string `json:"size,omitempty"`
	Href       string `json:"href,omitempty"`
	PreviewURL string `json:"previewurl,omitempty"`
}

// UnmarshalJSON decodes a, accepting ids and sizes sent as numbers.
func (a *Attachment) UnmarshalJSON(b []byte) error {
	type plain Attachment
	return decodeLenient(b, (*plain)(a))
}

// Thread is one message of a ticket. List rows carry Summary but no
// Content; Get adds Content, Attachments and (with IncludePlainText)
// PlainText. Channel is upper case (EMAIL, WEB, ...); Direction is "in" or
// "out"; Visibility "public" or "private"; Status SUCCESS, PENDING, FAILED
// or DRAFT. Raw keeps Zoho's whole object.
type Thread struct {
	ID                  string        `json:"id"`
	Channel             string        `json:"channel,omitempty"`
	Status              string        `json:"status,omitempty"`
	Direction           string        `json:"direction,omitempty"`
	Visibility          string        `json:"visibility,omitempty"`
	Summary             string        `json:"summary,omitempty"`
	Content             string        `json:"content,omitempty"`
	ContentType         string        `json:"contentType,omitempty"`
	PlainText           string        `json:"plainText,omitempty"`
	IsContentTruncated  bool          `json:"isContentTruncated"`
	FullContentURL      string        `json:"fullContentURL,omitempty"`
	FromEmailAddress    string        `json:"fromEmailAddress,omitempty"`
	To                  string        `json:"to,omitempty"`
	Cc                  string        `json:"cc,omitempty"`
	Bcc                 string        `json:"bcc,omitempty"`
	ReplyTo             string        `json:"replyTo,omitempty"`
	IsForward           bool          `json:"isForward"`
	IsDescriptionThread bool          `json:"isDescriptionThread"`
	HasAttach           bool          `json:"hasAttach"`
	CanReply            bool          `json:"canReply"`
	AttachmentCount     string        `json:"attachmentCount,omitempty"`
	Attachments         []*Attachment `json:"attachments,omitempty"`
	Author              *Author       `json:"author,omitempty"`
	ResponderID         string        `json:"responderId,omitempty"`
	RespondedIn         string        `json:"respondedIn,omitempty"`
	CreatedTime         string        `json:"createdTime,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes t and keeps the whole object in Raw.
func (t *Thread) UnmarshalJSON(b []byte) error {
	type plain Thread
	if err := decodeLenient(b, (*plain)(t)); err != nil {
		return err
	}
	t.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MaxLimitThreads is the largest page of Threads.List. [D] Zoho's OAS gives
// no maximum; N-D29 says 200.
const MaxLimitThreads = 200

// ThreadListOptions are the query parameters of Threads.List.
type ThreadListOptions struct {
	ListOptions
	// SortBy: sendDateTime (oldest first) or -sendDateTime (newest first,
	// Zoho's default).
	SortBy string
}

func (o *ThreadListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitThreads); err != nil {
		return nil, err
	}
	switch o.SortBy {
	case "", "sendDateTime", "-sendDateTime":
	default:
		return nil, invalidf("thread sortBy %q is not sendDateTime or -sendDateTime", o.SortBy)
	}
	o.set(q)
	setStr(q, "sortBy", o.SortBy)
	return q, nil
}

// List returns one page of a ticket's threads, without content (empty on
// 204). [I] Zoho's /threads treated from=1 as the first row in a recorded
// session; this client sends From as given.
//
//desk:operation GET /api/v1/tickets/{ticketId}/threads
func (s *ThreadsService) List(ctx context.Context, orgID, ticketID string, opts *ThreadListOptions) ([]*Thread, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getList[Thread](ctx, s.client, orgID, "tickets/{ticketId}/threads", "tickets/"+id+"/threads", q)
}

// ListAll iterates over every thread of a ticket, page by page. Zoho's
// /threads counts "from" from 1 ([C NREC]: from=1 returned the first
// thread), so a zero From starts at 1 and pages advance from there; paging
// from 0 would repeat one thread per page.
func (s *ThreadsService) ListAll(ctx context.Context, orgID, ticketID string, opts *ThreadListOptions) iter.Seq2[*Thread, error] {
	o := ThreadListOptions{}
	if opts != nil {
		o = *opts
	}
	if o.From == 0 {
		o.From = 1
	}
	return pages(ctx, o.ListOptions, MaxLimitThreads, -1, func(lo ListOptions) ([]*Thread, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, ticketID, &o)
		return items, err
	})
}

// ThreadGetOptions are the query parameters of Threads.Get.
type ThreadGetOptions struct {
	// IncludePlainText asks Zoho to add the content as plain text.
	IncludePlainText bool
}

// Get returns one thread with its content and attachments.
//
//desk:operation GET /api/v1/tickets/{ticketId}/threads/{threadId}
func (s *ThreadsService) Get(ctx context.Context, orgID, ticketID, threadID string, opts *ThreadGetOptions) (*Thread, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	tid, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	thid, err := segment("threadID", threadID)
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil && opts.IncludePlainText {
		q.Set("include", "plainText")
	}
	th := new(Thread)
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "tickets/{ticketId}/threads/{threadId}", path: "tickets/" + tid + "/threads/" + thid, query: q, orgID: orgID, withOrg: true}, th)
	if err != nil {
		return nil, resp, err
	}
	return th, resp, nil
}

// FullContent returns one thread with its whole content, for a thread whose
// Get answer has IsContentTruncated set (its FullContentURL points here).
//
//desk:operation GET /api/v1/tickets/{ticketId}/threads/{threadId}/fullContent
func (s *ThreadsService) FullContent(ctx context.Context, orgID, ticketID, threadID string) (*Thread, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	tid, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	thid, err := segment("threadID", threadID)
	if err != nil {
		return nil, nil, err
	}
	th := new(Thread)
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "tickets/{ticketId}/threads/{threadId}/fullContent", path: "tickets/" + tid + "/threads/" + thid + "/fullContent", orgID: orgID, withOrg: true}, th)
	if err != nil {
		return nil, resp, err
	}
	return th, resp, nil
}
