package zohodesk

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// RepliesService sends replies on a ticket. A sent reply reaches the
// customer and cannot be recalled.
type RepliesService service

// DraftsService creates and updates reply drafts, which a person reviews
// and sends in Zoho Desk.
type DraftsService service

// ReplyRequest is the body of Replies.Send, Drafts.Create and
// Drafts.Update. Channel and Content are required (checked locally);
// FromEmailAddress is required for EMAIL (a support address configured in
// the portal, see SupportEmailAddresses.List). ContentType is "html" or
// "plainText" (Zoho's default). To, Cc and Bcc are comma-separated
// addresses. AttachmentIDs are ids from Uploads.Create. Extra holds further
// Zoho fields ("sendAsEmailMode", "cf", ...); the named fields take
// precedence over it.
type ReplyRequest struct {
	Channel           string   `json:"channel"`
	Content           string   `json:"content"`
	ContentType       string   `json:"contentType,omitempty"`
	FromEmailAddress  string   `json:"fromEmailAddress,omitempty"`
	To                string   `json:"to,omitempty"`
	Cc                string   `json:"cc,omitempty"`
	Bcc               string   `json:"bcc,omitempty"`
	IsForward         bool     `json:"isForward,omitempty"`
	InReplyToThreadID string   `json:"inReplyToThreadId,omitempty"`
	TicketStatus      string   `json:"ticketStatus,omitempty"`
	AttachmentIDs     []string `json:"attachmentIds,omitempty"`

	Extra map[string]any `json:"-"`
}

// MarshalJSON encodes the set fields plus Extra.
func (r ReplyRequest) MarshalJSON() ([]byte, error) {
	type plain ReplyRequest
	return marshalWithExtra(plain(r), r.Extra)
}

// MaxReplyContent is the longest content Zoho accepts (OAS: 16,000,000).
const MaxReplyContent = 16_000_000

func (r *ReplyRequest) validate(what string) error {
	if r == nil {
		return invalidf("%s: request is nil", what)
	}
	if r.Channel == "" {
		return invalidf("%s: channel is required (e.g. EMAIL)", what)
	}
	if r.Content == "" {
		return invalidf("%s: content is required", what)
	}
	if len(r.Content) > MaxReplyContent {
		return invalidf("%s: content is longer than %d characters", what, MaxReplyContent)
	}
	if strings.EqualFold(r.Channel, "EMAIL") && r.FromEmailAddress == "" {
		return invalidf("%s: fromEmailAddress is required for the EMAIL channel", what)
	}
	switch r.ContentType {
	case "", "html", "plainText":
	default:
		return invalidf("%s: contentType %q is not html or plainText", what, r.ContentType)
	}
	return nil
}

// ReplyOptions are the query parameters of Replies.Send.
type ReplyOptions struct {
	// IsPrivate sends the reply as a private thread.
	IsPrivate bool
	// SendImmediately skips Zoho's send delay (undo window), if configured.
	SendImmediately bool
}

// Send sends a reply to the customer and returns the new outgoing thread
// (Zoho answers status PENDING; the mail is queued). POST is never
// resent once it may have reached Zoho: a *TransportError with MaybeSent
// means the outcome is unknown.
//
//desk:operation POST /api/v1/tickets/{ticketId}/sendReply
func (s *RepliesService) Send(ctx context.Context, orgID, ticketID string, req *ReplyRequest, opts *ReplyOptions) (*Thread, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	if err := req.validate("send reply"); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil && opts.IsPrivate {
		q.Set("isPrivate", "true")
	}
	if opts != nil && opts.SendImmediately {
		q.Set("sendImmediately", "true")
	}
	th := new(Thread)
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "tickets/{ticketId}/sendReply", path: "tickets/" + id + "/sendReply", query: q, orgID: orgID, withOrg: true, jsonBody: req}, th)
	if err != nil {
		return nil, resp, err
	}
	return th, resp, nil
}

// Create saves a reply draft on a ticket and returns the draft thread
// (status DRAFT). Nothing is sent to the customer.
//
//desk:operation POST /api/v1/tickets/{ticketId}/draftReply
func (s *DraftsService) Create(ctx context.Context, orgID, ticketID string, req *ReplyRequest) (*Thread, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	if err := req.validate("draft reply"); err != nil {
		return nil, nil, err
	}
	th := new(Thread)
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "tickets/{ticketId}/draftReply", path: "tickets/" + id + "/draftReply", orgID: orgID, withOrg: true, jsonBody: req}, th)
	if err != nil {
		return nil, resp, err
	}
	return th, resp, nil
}

// Update replaces the content and fields of a draft and returns it.
//
//desk:operation PATCH /api/v1/tickets/{ticketId}/draftReply/{threadId}
func (s *DraftsService) Update(ctx context.Context, orgID, ticketID, threadID string, req *ReplyRequest) (*Thread, *Response, error) {
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
	if err := req.validate("update draft"); err != nil {
		return nil, nil, err
	}
	th := new(Thread)
	resp, err := s.client.do(ctx, &request{method: http.MethodPatch, tmpl: "tickets/{ticketId}/draftReply/{threadId}", path: "tickets/" + tid + "/draftReply/" + thid, orgID: orgID, withOrg: true, jsonBody: req}, th)
	if err != nil {
		return nil, resp, err
	}
	return th, resp, nil
}
