package zohodesk

import (
	"context"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// TicketAttachmentsService adds, lists and downloads ticket attachments.
type TicketAttachmentsService service

// TicketAttachment is a file attached to a ticket. Size is a decimal
// string; Href is the API URL of the content (see Download). Raw keeps
// Zoho's whole object (including "creator" when included).
type TicketAttachment struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Size        string `json:"size,omitempty"`
	CreatorID   string `json:"creatorId,omitempty"`
	CreatedTime string `json:"createdTime,omitempty"`
	IsPublic    bool   `json:"isPublic"`
	Href        string `json:"href,omitempty"`
	PreviewURL  string `json:"previewurl,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a and keeps the whole object in Raw.
func (a *TicketAttachment) UnmarshalJSON(b []byte) error {
	type plain TicketAttachment
	if err := decodeLenient(b, (*plain)(a)); err != nil {
		return err
	}
	a.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// TicketAttachmentCreateOptions are the query parameters of
// TicketAttachments.Create.
type TicketAttachmentCreateOptions struct {
	// IsPublic makes the attachment visible to the customer; it is always
	// sent (isPublic=false when unset).
	IsPublic bool
}

// Create attaches the content of r to a ticket as fileName, streamed as the
// multipart part "file" (never buffered whole), with a Content-Length when
// the size of r is known (see Sized and Uploads.Create). The request is never
// retried, and not resent after a token refresh, because r can be read only
// once: after a 401 INVALID_OAUTH followed by a successful refresh the
// *APIError has Refreshed set, and the caller may call Create again with
// the content opened afresh. Create has stopped reading r when it returns.
// Too large a file is 413 (ErrTooLarge).
//
//desk:operation POST /api/v1/tickets/{ticketId}/attachments
func (s *TicketAttachmentsService) Create(ctx context.Context, orgID, ticketID, fileName string, r io.Reader, opts *TicketAttachmentCreateOptions) (*TicketAttachment, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	if fileName == "" || r == nil {
		return nil, nil, invalidf("attachment: fileName and content are required")
	}
	public := opts != nil && opts.IsPublic
	q := url.Values{"isPublic": {strconv.FormatBool(public)}}
	a := new(TicketAttachment)
	open, stop, err := multipartFile(fileName, r)
	if err != nil {
		return nil, nil, err
	}
	defer stop()
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "tickets/{ticketId}/attachments", path: "tickets/" + id + "/attachments", query: q, orgID: orgID, withOrg: true, stream: open}, a)
	if err != nil {
		return nil, resp, err
	}
	return a, resp, nil
}

// TicketAttachmentListOptions are the query parameters of
// TicketAttachments.List. Limit is at most MaxLimitTicketAttachments.
type TicketAttachmentListOptions struct {
	ListOptions
	IsPublic *bool
	// SortBy: createdTime or -createdTime.
	SortBy string
	// Include: "creator".
	Include string
}

func (o *TicketAttachmentListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitTicketAttachments); err != nil {
		return nil, err
	}
	o.set(q)
	setBool(q, "isPublic", o.IsPublic)
	setStr(q, "sortBy", o.SortBy)
	setStr(q, "include", o.Include)
	return q, nil
}

// List returns one page of a ticket's attachments (empty on 204).
//
//desk:operation GET /api/v1/tickets/{ticketId}/attachments
func (s *TicketAttachmentsService) List(ctx context.Context, orgID, ticketID string, opts *TicketAttachmentListOptions) ([]*TicketAttachment, *Response, error) {
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
	return getList[TicketAttachment](ctx, s.client, orgID, "tickets/{ticketId}/attachments", "tickets/"+id+"/attachments", q)
}

// ListAll iterates over every attachment of a ticket, page by page.
func (s *TicketAttachmentsService) ListAll(ctx context.Context, orgID, ticketID string, opts *TicketAttachmentListOptions) iter.Seq2[*TicketAttachment, error] {
	o := TicketAttachmentListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitTicketAttachments, -1, func(lo ListOptions) ([]*TicketAttachment, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, ticketID, &o)
		return items, err
	})
}

// Download opens the content of an attachment given its Href (absolute, or
// relative to the client's base URL). The href must point into the client's
// own Desk API base (same scheme, host and base path); anything else is
// refused with ErrInvalid before any request, so the token never leaves for
// another host. The caller must close the returned body; it streams the
// file as Desk sends it. It sends Accept: */* (the answer is the file).
//
//desk:operation GET /api/v1/tickets/{ticketId}/attachments/{attachmentId}/content
func (s *TicketAttachmentsService) Download(ctx context.Context, orgID, href string) (io.ReadCloser, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	c := s.client
	u, err := c.base.Parse(href)
	if err != nil || href == "" {
		return nil, nil, invalidf("attachment href is not a URL")
	}
	if !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Host, c.base.Host) || !strings.HasPrefix(u.EscapedPath(), c.base.EscapedPath()) || strings.Contains(u.Path, "/../") {
		return nil, nil, invalidf("attachment href is outside the Desk API base %s", c.base)
	}
	u.Fragment = ""
	resp, release, err := c.send(ctx, &request{method: http.MethodGet, tmpl: "tickets/{ticketId}/attachments/{attachmentId}/content", abs: u, orgID: orgID, withOrg: true, accept: "*/*", download: true})
	if err != nil {
		return nil, nil, err
	}
	res := &Response{StatusCode: resp.StatusCode, RequestID: resp.Header.Get(HeaderRequestID), RateLimit: ParseRateLimit(resp.Header)}
	return &releasingBody{ReadCloser: resp.Body, release: release}, res, nil
}

// releasingBody gives the limiter slot back when the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
	once    sync.Once
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
