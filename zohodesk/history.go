package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
)

// HistoryService reads a ticket's timeline.
type HistoryService service

// HistoryActor is who caused a history event. Type is Agent, Contact,
// System, Workflow, ... (OAS TicketHistory).
type HistoryActor struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
}

// UnmarshalJSON decodes a, accepting ids sent as numbers.
func (a *HistoryActor) UnmarshalJSON(b []byte) error {
	type plain HistoryActor
	return decodeLenient(b, (*plain)(a))
}

// HistoryEventInfo is one property an event touched. PropertyValue is kept
// as Zoho sent it: [D] for field changes {"previousValue": …,
// "updatedValue": …} (N-D29); the OAS shows an entity {id, name, type}.
type HistoryEventInfo struct {
	PropertyName   string          `json:"propertyName"`
	PropertyType   string          `json:"propertyType,omitempty"`
	SystemProperty bool            `json:"systemProperty"`
	PropertyValue  json.RawMessage `json:"propertyValue,omitempty"`
}

// Change returns the previous and updated value of a field change, and
// whether PropertyValue has that shape. Values are returned as JSON.
func (e *HistoryEventInfo) Change() (previous, updated json.RawMessage, ok bool) {
	var v struct {
		Previous json.RawMessage `json:"previousValue"`
		Updated  json.RawMessage `json:"updatedValue"`
	}
	if json.Unmarshal(e.PropertyValue, &v) != nil || (v.Previous == nil && v.Updated == nil) {
		return nil, nil, false
	}
	return v.Previous, v.Updated, true
}

// HistoryEvent is one entry of a ticket's timeline. EventName is e.g.
// TicketUpdated, ThreadAdded, CommentAdded; EventTime is ISO 8601.
type HistoryEvent struct {
	EventName string              `json:"eventName"`
	EventTime string              `json:"eventTime,omitempty"`
	Source    string              `json:"source,omitempty"`
	Actor     *HistoryActor       `json:"actor,omitempty"`
	EventInfo []*HistoryEventInfo `json:"eventInfo,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes e and keeps the whole object in Raw.
func (e *HistoryEvent) UnmarshalJSON(b []byte) error {
	type plain HistoryEvent
	if err := json.Unmarshal(b, (*plain)(e)); err != nil {
		return err
	}
	e.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MaxLimitHistory is the largest page of History.List ([D] N-D29: 50).
const MaxLimitHistory = 50

// HistoryListOptions are the query parameters of History.List.
type HistoryListOptions struct {
	ListOptions
	// FieldName keeps only changes of this field, e.g. "status".
	FieldName string
}

// List returns one page of a ticket's history (empty on 204). [GAP] The
// path is not in Zoho's OpenAPI files; N-D29 documents
// GET /tickets/{ticketId}/History with from, limit (≤50) and fieldName.
func (s *HistoryService) List(ctx context.Context, orgID, ticketID string, opts *HistoryListOptions) ([]*HistoryEvent, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.check(MaxLimitHistory); err != nil {
			return nil, nil, err
		}
		opts.set(q)
		setStr(q, "fieldName", opts.FieldName)
	}
	return getList[HistoryEvent](ctx, s.client, orgID, "tickets/{ticketId}/History", "tickets/"+id+"/History", q)
}

// ListAll iterates over a ticket's whole history, page by page.
func (s *HistoryService) ListAll(ctx context.Context, orgID, ticketID string, opts *HistoryListOptions) iter.Seq2[*HistoryEvent, error] {
	o := HistoryListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitHistory, -1, func(lo ListOptions) ([]*HistoryEvent, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, ticketID, &o)
		return items, err
	})
}
