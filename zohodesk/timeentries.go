package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
)

// TimeEntriesService records and lists the time agents spent on a ticket.
type TimeEntriesService service

// TimeEntry is time spent on a ticket. Durations and costs are decimal
// strings as Zoho sends them; ExecutedTime is when the work started. Raw
// keeps Zoho's whole object.
type TimeEntry struct {
	ID           string  `json:"id"`
	ExecutedTime string  `json:"executedTime,omitempty"`
	HoursSpent   string  `json:"hoursSpent,omitempty"`
	MinutesSpent string  `json:"minutesSpent,omitempty"`
	SecondsSpent string  `json:"secondsSpent,omitempty"`
	Description  string  `json:"description,omitempty"`
	OwnerID      string  `json:"ownerId,omitempty"`
	Owner        *Author `json:"owner,omitempty"`
	IsBillable   bool    `json:"isBillable"`
	Mode         string  `json:"mode,omitempty"`
	TotalCost    string  `json:"totalCost,omitempty"`
	RequestID    string  `json:"requestId,omitempty"`
	DepartmentID string  `json:"departmentId,omitempty"`
	CreatedTime  string  `json:"createdTime,omitempty"`
	CreatedBy    string  `json:"createdBy,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes e and keeps the whole object in Raw.
func (e *TimeEntry) UnmarshalJSON(b []byte) error {
	type plain TimeEntry
	if err := decodeLenient(b, (*plain)(e)); err != nil {
		return err
	}
	e.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MaxLimitTimeEntries is the largest page of TimeEntries.List (OAS: 1-100).
const MaxLimitTimeEntries = 100

// TimeEntryListOptions are the query parameters of TimeEntries.List.
type TimeEntryListOptions struct {
	ListOptions
	// BillStatus: nonBillable, billable or billed.
	BillStatus string
	// OrderBy: ASC (Zoho's default) or DESC, by executedTime.
	OrderBy string
	// IncludeOwner adds the owner object.
	IncludeOwner bool
}

func (o *TimeEntryListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitTimeEntries); err != nil {
		return nil, err
	}
	switch o.BillStatus {
	case "", "nonBillable", "billable", "billed":
	default:
		return nil, invalidf("billStatus %q is not nonBillable, billable or billed", o.BillStatus)
	}
	switch o.OrderBy {
	case "", "ASC", "DESC":
	default:
		return nil, invalidf("orderBy %q is not ASC or DESC", o.OrderBy)
	}
	o.set(q)
	setStr(q, "billStatus", o.BillStatus)
	setStr(q, "orderBy", o.OrderBy)
	if o.IncludeOwner {
		q.Set("include", "owner")
	}
	return q, nil
}

// List returns one page of a ticket's time entries (empty on 204).
//
//desk:operation GET /api/v1/tickets/{caseId}/timeEntry
func (s *TimeEntriesService) List(ctx context.Context, orgID, ticketID string, opts *TimeEntryListOptions) ([]*TimeEntry, *Response, error) {
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
	return getList[TimeEntry](ctx, s.client, orgID, "tickets/{ticketId}/timeEntry", "tickets/"+id+"/timeEntry", q)
}

// ListAll iterates over every time entry of a ticket, page by page.
func (s *TimeEntriesService) ListAll(ctx context.Context, orgID, ticketID string, opts *TimeEntryListOptions) iter.Seq2[*TimeEntry, error] {
	o := TimeEntryListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitTimeEntries, -1, func(lo ListOptions) ([]*TimeEntry, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, ticketID, &o)
		return items, err
	})
}

// TimeEntryCreateRequest is the body of TimeEntries.Create. ExecutedTime
// (ISO 8601, when the work started) is required, checked locally.
type TimeEntryCreateRequest struct {
	ExecutedTime string `json:"executedTime"`
	HoursSpent   int    `json:"hoursSpent"`
	MinutesSpent int    `json:"minutesSpent"`
	SecondsSpent int    `json:"secondsSpent"`
	Description  string `json:"description,omitempty"`
	OwnerID      string `json:"ownerId,omitempty"`
	IsBillable   bool   `json:"isBillable"`

	Extra map[string]any `json:"-"`
}

// MarshalJSON encodes the fields plus Extra.
func (r TimeEntryCreateRequest) MarshalJSON() ([]byte, error) {
	type plain TimeEntryCreateRequest
	return marshalWithExtra(plain(r), r.Extra)
}

// MaxTimeEntryDescription is the longest description (OAS: 65,535).
const MaxTimeEntryDescription = 65535

// Create records time spent on a ticket.
//
//desk:operation POST /api/v1/tickets/{ticketId}/timeEntry
func (s *TimeEntriesService) Create(ctx context.Context, orgID, ticketID string, req *TimeEntryCreateRequest) (*TimeEntry, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case req == nil:
		return nil, nil, invalidf("time entry: request is nil")
	case req.ExecutedTime == "":
		return nil, nil, invalidf("time entry: executedTime is required")
	case req.HoursSpent < 0 || req.MinutesSpent < 0 || req.SecondsSpent < 0:
		return nil, nil, invalidf("time entry: durations must not be negative")
	case len([]rune(req.Description)) > MaxTimeEntryDescription:
		return nil, nil, invalidf("time entry: description is longer than %d characters", MaxTimeEntryDescription)
	}
	e := new(TimeEntry)
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "tickets/{ticketId}/timeEntry", path: "tickets/" + id + "/timeEntry", orgID: orgID, withOrg: true, jsonBody: req}, e)
	if err != nil {
		return nil, resp, err
	}
	return e, resp, nil
}
