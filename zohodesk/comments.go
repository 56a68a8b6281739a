package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
)

// CommentsService lists, adds, edits and deletes a ticket's comments
// (internal notes, or public when IsPublic).
type CommentsService service

// Mention is an agent or team mentioned in a comment. Offset and Length are
// positions in the comment's PlainText (decimal strings).
type Mention struct {
	ID        string `json:"id"`
	Type      string `json:"type,omitempty"`
	Name      string `json:"name,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Email     string `json:"email,omitempty"`
	ZUID      string `json:"zuid,omitempty"`
	Offset    string `json:"offSet,omitempty"`
	Length    string `json:"length,omitempty"`
}

// UnmarshalJSON decodes m, accepting ids and offsets sent as numbers.
func (m *Mention) UnmarshalJSON(b []byte) error {
	type plain Mention
	return decodeLenient(b, (*plain)(m))
}

// Comment is a ticket comment. ContentType is "html" or "plainText";
// ModifiedTime is empty until the comment is edited. Raw keeps Zoho's
// whole object.
type Comment struct {
	ID            string        `json:"id"`
	Content       string        `json:"content,omitempty"`
	ContentType   string        `json:"contentType,omitempty"`
	PlainText     string        `json:"plainText,omitempty"`
	IsPublic      bool          `json:"isPublic"`
	CommentedTime string        `json:"commentedTime,omitempty"`
	ModifiedTime  string        `json:"modifiedTime,omitempty"`
	CommenterID   string        `json:"commenterId,omitempty"`
	Commenter     *Author       `json:"commenter,omitempty"`
	Attachments   []*Attachment `json:"attachments,omitempty"`
	Mentions      []*Mention    `json:"mention,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes c and keeps the whole object in Raw.
func (c *Comment) UnmarshalJSON(b []byte) error {
	type plain Comment
	if err := decodeLenient(b, (*plain)(c)); err != nil {
		return err
	}
	c.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MaxLimitComments is the largest page of Comments.List (OAS: 1-100).
const MaxLimitComments = 100

// MaxCommentContent is the longest comment content (OAS: 32,000).
const MaxCommentContent = 32000

// CommentListOptions are the query parameters of Comments.List.
type CommentListOptions struct {
	ListOptions
	// SortBy: commentedTime or -commentedTime.
	SortBy string
	// IncludeMentions adds the mention list to each comment.
	IncludeMentions bool
}

func (o *CommentListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitComments); err != nil {
		return nil, err
	}
	switch o.SortBy {
	case "", "commentedTime", "-commentedTime":
	default:
		return nil, invalidf("comment sortBy %q is not commentedTime or -commentedTime", o.SortBy)
	}
	o.set(q)
	setStr(q, "sortBy", o.SortBy)
	if o.IncludeMentions {
		q.Set("include", "mentions")
	}
	return q, nil
}

// List returns one page of a ticket's comments (empty on 204).
//
//desk:operation GET /api/v1/tickets/{ticketId}/comments
func (s *CommentsService) List(ctx context.Context, orgID, ticketID string, opts *CommentListOptions) ([]*Comment, *Response, error) {
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
	return getList[Comment](ctx, s.client, orgID, "tickets/{ticketId}/comments", "tickets/"+id+"/comments", q)
}

// ListAll iterates over every comment of a ticket, page by page.
func (s *CommentsService) ListAll(ctx context.Context, orgID, ticketID string, opts *CommentListOptions) iter.Seq2[*Comment, error] {
	o := CommentListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitComments, -1, func(lo ListOptions) ([]*Comment, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, ticketID, &o)
		return items, err
	})
}

// CommentRequest is the body of Comments.Create and Comments.Update.
// Content is required (at most MaxCommentContent characters). Mention
// an agent as zsu[@user:<zuid>]zsu in the content. IsPublic is always
// sent: false keeps the comment an internal note.
type CommentRequest struct {
	Content       string   `json:"content"`
	ContentType   string   `json:"contentType,omitempty"`
	IsPublic      bool     `json:"isPublic"`
	AttachmentIDs []string `json:"attachmentIds,omitempty"`
}

func (r *CommentRequest) validate(what string) error {
	if r == nil {
		return invalidf("%s: request is nil", what)
	}
	if r.Content == "" {
		return invalidf("%s: content is required", what)
	}
	if n := len([]rune(r.Content)); n > MaxCommentContent {
		return invalidf("%s: content has %d characters, more than %d", what, n, MaxCommentContent)
	}
	switch r.ContentType {
	case "", "html", "plainText":
	default:
		return invalidf("%s: contentType %q is not html or plainText", what, r.ContentType)
	}
	return nil
}

// Create adds a comment to a ticket.
//
//desk:operation POST /api/v1/tickets/{ticketId}/comments
func (s *CommentsService) Create(ctx context.Context, orgID, ticketID string, req *CommentRequest) (*Comment, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	if err := req.validate("add comment"); err != nil {
		return nil, nil, err
	}
	c := new(Comment)
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "tickets/{ticketId}/comments", path: "tickets/" + id + "/comments", orgID: orgID, withOrg: true, jsonBody: req}, c)
	if err != nil {
		return nil, resp, err
	}
	return c, resp, nil
}

// Update changes a comment's content (and visibility) and returns it.
//
//desk:operation PATCH /api/v1/tickets/{ticketId}/comments/{commentId}
func (s *CommentsService) Update(ctx context.Context, orgID, ticketID, commentID string, req *CommentRequest) (*Comment, *Response, error) {
	path, err := commentPath(orgID, ticketID, commentID)
	if err != nil {
		return nil, nil, err
	}
	if err := req.validate("update comment"); err != nil {
		return nil, nil, err
	}
	c := new(Comment)
	resp, err := s.client.do(ctx, &request{method: http.MethodPatch, tmpl: "tickets/{ticketId}/comments/{commentId}", path: path, orgID: orgID, withOrg: true, jsonBody: req}, c)
	if err != nil {
		return nil, resp, err
	}
	return c, resp, nil
}

// Delete removes a comment.
//
//desk:operation DELETE /api/v1/tickets/{ticketId}/comments/{commentId}
func (s *CommentsService) Delete(ctx context.Context, orgID, ticketID, commentID string) (*Response, error) {
	path, err := commentPath(orgID, ticketID, commentID)
	if err != nil {
		return nil, err
	}
	return s.client.do(ctx, &request{method: http.MethodDelete, tmpl: "tickets/{ticketId}/comments/{commentId}", path: path, orgID: orgID, withOrg: true}, nil)
}

func commentPath(orgID, ticketID, commentID string) (string, error) {
	if err := needOrg(orgID); err != nil {
		return "", err
	}
	tid, err := segment("ticketID", ticketID)
	if err != nil {
		return "", err
	}
	cid, err := segment("commentID", commentID)
	if err != nil {
		return "", err
	}
	return "tickets/" + tid + "/comments/" + cid, nil
}
