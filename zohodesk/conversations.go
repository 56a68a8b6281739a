package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
)

// ConversationsService lists a ticket's conversation: its threads and
// comments merged in one list.
type ConversationsService service

// MaxLimitConversations is the largest page of Conversations.List (OAS:
// 1-200).
const MaxLimitConversations = 200

// ConversationItem is one entry of a ticket's conversation: a thread
// (Type "thread", Thread set) or a comment (Type "comment", Comment set).
// Raw keeps Zoho's whole object.
type ConversationItem struct {
	Type    string
	Thread  *Thread
	Comment *Comment
	Raw     json.RawMessage
}

// UnmarshalJSON decodes an item by its "type". An item of an unknown type
// keeps only Type and Raw, so a new kind of entry does not fail the list.
func (c *ConversationItem) UnmarshalJSON(b []byte) error {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return err
	}
	*c = ConversationItem{Type: head.Type, Raw: append(json.RawMessage(nil), b...)}
	switch head.Type {
	case "thread":
		c.Thread = new(Thread)
		return c.Thread.UnmarshalJSON(b)
	case "comment":
		c.Comment = new(Comment)
		return c.Comment.UnmarshalJSON(b)
	}
	return nil
}

// ConversationListOptions are the query parameters of
// Conversations.List. Limit is at most MaxLimitConversations.
type ConversationListOptions struct {
	ListOptions
}

// Conversations returns one page of a ticket's threads and comments merged
// (empty on 204). [GAP] Zoho does not document the order.
//
//desk:operation GET /api/v1/tickets/{ticketId}/conversations
func (s *ConversationsService) List(ctx context.Context, orgID, ticketID string, opts *ConversationListOptions) ([]*ConversationItem, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.check(MaxLimitConversations); err != nil {
			return nil, nil, err
		}
		opts.set(q)
	}
	return getList[ConversationItem](ctx, s.client, orgID, "tickets/{ticketId}/conversations", "tickets/"+id+"/conversations", q)
}

// ListAll iterates over a ticket's whole conversation.
func (s *ConversationsService) ListAll(ctx context.Context, orgID, ticketID string, opts *ConversationListOptions) iter.Seq2[*ConversationItem, error] {
	o := ConversationListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitConversations, -1, func(lo ListOptions) ([]*ConversationItem, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, ticketID, &o)
		return items, err
	})
}
