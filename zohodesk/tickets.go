package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
)

// TicketsService creates, lists, gets, updates, trashes and searches tickets.
type TicketsService service

// Ticket is a Desk ticket as returned by create, get, update, list and
// search (list and search rows are a subset: no description, fewer
// counters). Counts are decimal strings as Zoho sends them. Raw keeps
// Zoho's whole object (included contact, assignee, department, ...).
type Ticket struct {
	ID                   string         `json:"id"`
	TicketNumber         string         `json:"ticketNumber,omitempty"`
	Subject              string         `json:"subject,omitempty"`
	Description          string         `json:"description,omitempty"`
	Status               string         `json:"status,omitempty"`
	StatusType           string         `json:"statusType,omitempty"`
	Priority             string         `json:"priority,omitempty"`
	Channel              string         `json:"channel,omitempty"`
	Classification       string         `json:"classification,omitempty"`
	Category             string         `json:"category,omitempty"`
	SubCategory          string         `json:"subCategory,omitempty"`
	Language             string         `json:"language,omitempty"`
	DepartmentID         string         `json:"departmentId,omitempty"`
	ContactID            string         `json:"contactId,omitempty"`
	AccountID            string         `json:"accountId,omitempty"`
	ProductID            string         `json:"productId,omitempty"`
	AssigneeID           string         `json:"assigneeId,omitempty"`
	TeamID               string         `json:"teamId,omitempty"`
	Email                string         `json:"email,omitempty"`
	Phone                string         `json:"phone,omitempty"`
	DueDate              string         `json:"dueDate,omitempty"`
	ResponseDueDate      string         `json:"responseDueDate,omitempty"`
	CreatedTime          string         `json:"createdTime,omitempty"`
	ModifiedTime         string         `json:"modifiedTime,omitempty"`
	ClosedTime           string         `json:"closedTime,omitempty"`
	CustomerResponseTime string         `json:"customerResponseTime,omitempty"`
	ThreadCount          string         `json:"threadCount,omitempty"`
	CommentCount         string         `json:"commentCount,omitempty"`
	AttachmentCount      string         `json:"attachmentCount,omitempty"`
	IsOverDue            bool           `json:"isOverDue"`
	IsEscalated          bool           `json:"isEscalated"`
	IsSpam               bool           `json:"isSpam"`
	IsArchived           bool           `json:"isArchived"`
	IsTrashed            bool           `json:"isTrashed"`
	Resolution           string         `json:"resolution,omitempty"`
	LayoutID             string         `json:"layoutId,omitempty"`
	WebURL               string         `json:"webUrl,omitempty"`
	CF                   map[string]any `json:"cf,omitempty"`
	// Assignee is the assigned agent as Zoho sent it (an object with id,
	// names, email and photo), in a create's answer or with
	// include=assignee; empty when Zoho sent none, "null" when unassigned.
	Assignee json.RawMessage `json:"assignee,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// AssigneeObject returns t.Assignee, or nil when Zoho sent none or null.
func (t *Ticket) AssigneeObject() json.RawMessage {
	if len(t.Assignee) == 0 || string(t.Assignee) == "null" {
		return nil
	}
	return t.Assignee
}

// UnmarshalJSON decodes t and keeps the whole object in Raw.
func (t *Ticket) UnmarshalJSON(b []byte) error {
	type plain Ticket
	if err := decodeLenient(b, (*plain)(t)); err != nil {
		return err
	}
	t.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// TicketContact is the inline contact of a ticket create request: an
// existing contact with this email is used, otherwise one is created.
// LastName or Email must be set.
type TicketContact struct {
	LastName  string `json:"lastName,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Mobile    string `json:"mobile,omitempty"`
}

// TicketCreateRequest is the body of Tickets.Create. Subject and
// DepartmentID are required, and either ContactID or Contact (checked
// locally). Uploads are ids returned by Uploads.Create. Extra holds further
// Zoho fields (e.g. "secondaryContacts", "entitySkills"); the named fields
// take precedence over it.
type TicketCreateRequest struct {
	Subject        string         `json:"subject"`
	DepartmentID   string         `json:"departmentId"`
	ContactID      string         `json:"contactId,omitempty"`
	Contact        *TicketContact `json:"contact,omitempty"`
	Email          string         `json:"email,omitempty"`
	Phone          string         `json:"phone,omitempty"`
	Description    string         `json:"description,omitempty"`
	Status         string         `json:"status,omitempty"`
	Priority       string         `json:"priority,omitempty"`
	Channel        string         `json:"channel,omitempty"`
	Classification string         `json:"classification,omitempty"`
	Category       string         `json:"category,omitempty"`
	SubCategory    string         `json:"subCategory,omitempty"`
	AssigneeID     string         `json:"assigneeId,omitempty"`
	TeamID         string         `json:"teamId,omitempty"`
	ProductID      string         `json:"productId,omitempty"`
	AccountID      string         `json:"accountId,omitempty"`
	DueDate        string         `json:"dueDate,omitempty"`
	Language       string         `json:"language,omitempty"`
	Resolution     string         `json:"resolution,omitempty"`
	LayoutID       string         `json:"layoutId,omitempty"`
	CF             map[string]any `json:"cf,omitempty"`
	Uploads        []string       `json:"uploads,omitempty"`

	Extra map[string]any `json:"-"`
}

// MarshalJSON encodes the named fields plus Extra.
func (r TicketCreateRequest) MarshalJSON() ([]byte, error) {
	type plain TicketCreateRequest
	return marshalWithExtra(plain(r), r.Extra)
}

func (r *TicketCreateRequest) validate() error {
	switch {
	case r == nil:
		return invalidf("ticket: request is nil")
	case r.Subject == "":
		return invalidf("ticket: subject is required")
	case r.DepartmentID == "":
		return invalidf("ticket: departmentId is required")
	case r.ContactID == "" && r.Contact == nil:
		return invalidf("ticket: contactId or contact is required")
	case r.ContactID == "" && r.Contact.LastName == "" && r.Contact.Email == "":
		return invalidf("ticket: contact needs lastName or email")
	}
	return nil
}

// Create creates a ticket. Desk has no idempotency key: a create whose
// answer was lost (a *TransportError with MaybeSent) may or may not exist.
//
//desk:operation POST /api/v1/tickets
func (s *TicketsService) Create(ctx context.Context, orgID string, req *TicketCreateRequest) (*Ticket, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	if err := req.validate(); err != nil {
		return nil, nil, err
	}
	t := new(Ticket)
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "tickets", path: "tickets", orgID: orgID, withOrg: true, jsonBody: req}, t)
	if err != nil {
		return nil, resp, err
	}
	return t, resp, nil
}

// TicketListOptions are the query parameters of Tickets.List. Limit is at
// most MaxLimitTickets. Comma lists are sent as given.
type TicketListOptions struct {
	ListOptions
	DepartmentID  string
	DepartmentIDs string
	ViewID        string
	// Assignee: "Unassigned" or a comma list of agent ids.
	Assignee string
	TeamIDs  string
	Channel  string
	Status   string
	Priority string
	// ReceivedInDays: "15", "30" or "90".
	ReceivedInDays string
	// SortBy: dueDate, createdTime, recentThread (also responseDueDate,
	// customerResponseTime, ticketNumber); "-" prefix sorts descending.
	SortBy string
	// Include: comma list of contacts, products, departments, team, assignee.
	Include string
	Fields  string
}

func (o *TicketListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitTickets); err != nil {
		return nil, err
	}
	o.set(q)
	setStr(q, "departmentId", o.DepartmentID)
	setStr(q, "departmentIds", o.DepartmentIDs)
	setStr(q, "viewId", o.ViewID)
	setStr(q, "assignee", o.Assignee)
	setStr(q, "teamIds", o.TeamIDs)
	setStr(q, "channel", o.Channel)
	setStr(q, "status", o.Status)
	setStr(q, "priority", o.Priority)
	setStr(q, "receivedInDays", o.ReceivedInDays)
	setStr(q, "sortBy", o.SortBy)
	setStr(q, "include", o.Include)
	setStr(q, "fields", o.Fields)
	return q, nil
}

// List returns one page of tickets (empty on 204).
//
//desk:operation GET /api/v1/tickets
func (s *TicketsService) List(ctx context.Context, orgID string, opts *TicketListOptions) ([]*Ticket, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getList[Ticket](ctx, s.client, orgID, "tickets", "tickets", q)
}

// ListRaw is List returning each ticket as Zoho sent it, not decoded: for
// callers that pass Zoho's objects on (deskconn's list views), it spares
// decoding every field of every ticket. The rows are slices of one buffer,
// the answer's body (capped, so appending to one copies it): a row kept
// keeps the whole page in memory.
func (s *TicketsService) ListRaw(ctx context.Context, orgID string, opts *TicketListOptions) ([]json.RawMessage, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getRawList(ctx, s.client, orgID, "tickets", "tickets", q)
}

// ListAll iterates over every ticket matching opts, page by page.
//
// Without SortBy Zoho lists newest first, so tickets created during the walk
// shift later pages and rows repeat; SortBy "createdTime" (oldest first) is
// the order new tickets cannot shift.
func (s *TicketsService) ListAll(ctx context.Context, orgID string, opts *TicketListOptions) iter.Seq2[*Ticket, error] {
	o := TicketListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitTickets, -1, func(lo ListOptions) ([]*Ticket, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, &o)
		return items, err
	})
}

// TicketGetOptions are the query parameters of Tickets.Get.
type TicketGetOptions struct {
	// Include: comma list of contacts, products, assignee, departments,
	// contract, isRead, team, skills.
	Include string
}

// Get returns one ticket. An unknown id is 404 URL_NOT_FOUND (ErrNotFound).
//
//desk:operation GET /api/v1/tickets/{ticketId}
func (s *TicketsService) Get(ctx context.Context, orgID, ticketID string, opts *TicketGetOptions) (*Ticket, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		setStr(q, "include", opts.Include)
	}
	t := new(Ticket)
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "tickets/{ticketId}", path: "tickets/" + id, query: q, orgID: orgID, withOrg: true}, t)
	if err != nil {
		return nil, resp, err
	}
	return t, resp, nil
}

// TicketUpdateRequest is the body of Tickets.Update (a PATCH). Each
// Optional field is left out when unset, sent as a value when Set, and sent
// as JSON null when Null: Null[string]() on AssigneeID unassigns the ticket,
// on TeamID or ProductID clears them. CF values that are nil are sent as
// null (clearing that custom field). Extra holds further Zoho fields (a nil
// value there is sent as null too); the named fields take precedence.
type TicketUpdateRequest struct {
	Subject        Optional[string] `json:"subject,omitzero"`
	DepartmentID   Optional[string] `json:"departmentId,omitzero"`
	ContactID      Optional[string] `json:"contactId,omitzero"`
	Email          Optional[string] `json:"email,omitzero"`
	Phone          Optional[string] `json:"phone,omitzero"`
	Description    Optional[string] `json:"description,omitzero"`
	Status         Optional[string] `json:"status,omitzero"`
	Priority       Optional[string] `json:"priority,omitzero"`
	Channel        Optional[string] `json:"channel,omitzero"`
	Classification Optional[string] `json:"classification,omitzero"`
	Category       Optional[string] `json:"category,omitzero"`
	SubCategory    Optional[string] `json:"subCategory,omitzero"`
	AssigneeID     Optional[string] `json:"assigneeId,omitzero"`
	TeamID         Optional[string] `json:"teamId,omitzero"`
	ProductID      Optional[string] `json:"productId,omitzero"`
	AccountID      Optional[string] `json:"accountId,omitzero"`
	DueDate        Optional[string] `json:"dueDate,omitzero"`
	Language       Optional[string] `json:"language,omitzero"`
	Resolution     Optional[string] `json:"resolution,omitzero"`
	LayoutID       Optional[string] `json:"layoutId,omitzero"`
	CF             map[string]any   `json:"cf,omitempty"`
	Uploads        []string         `json:"uploads,omitempty"`

	Extra map[string]any `json:"-"`
}

// MarshalJSON encodes the set fields plus Extra.
func (r TicketUpdateRequest) MarshalJSON() ([]byte, error) {
	type plain TicketUpdateRequest
	return marshalWithExtra(plain(r), r.Extra)
}

// TicketUpdateOptions are the query parameters of Tickets.Update.
type TicketUpdateOptions struct {
	// DisableClosureNotification suppresses the "ticket closed" email.
	DisableClosureNotification bool
}

// Update changes the fields set in req and returns the whole ticket. An
// empty request is refused locally (Zoho would answer EMPTY_PAYLOAD).
//
//desk:operation PATCH /api/v1/tickets/{ticketId}
func (s *TicketsService) Update(ctx context.Context, orgID, ticketID string, req *TicketUpdateRequest, opts *TicketUpdateOptions) (*Ticket, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalidf("ticket update: request is nil")
	}
	if b, err := json.Marshal(req); err != nil || string(b) == "{}" {
		return nil, nil, invalidf("ticket update: no field is set")
	}
	q := url.Values{}
	if opts != nil && opts.DisableClosureNotification {
		q.Set("disableClosureNotification", "true")
	}
	t := new(Ticket)
	resp, err := s.client.do(ctx, &request{method: http.MethodPatch, tmpl: "tickets/{ticketId}", path: "tickets/" + id, query: q, orgID: orgID, withOrg: true, jsonBody: req}, t)
	if err != nil {
		return nil, resp, err
	}
	return t, resp, nil
}

// MoveToTrash moves tickets to the recycle bin (Desk answers 204; trashed
// tickets stay there 60 days). [GAP] Zoho documents no maximum number of ids
// per call, so none is enforced here.
//
//desk:operation POST /api/v1/tickets/moveToTrash
func (s *TicketsService) MoveToTrash(ctx context.Context, orgID string, ticketIDs []string) (*Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, err
	}
	if len(ticketIDs) == 0 {
		return nil, invalidf("ticketIDs must not be empty")
	}
	for _, id := range ticketIDs {
		if id == "" {
			return nil, invalidf("ticketIDs must not contain an empty id")
		}
	}
	body := struct {
		TicketIDs []string `json:"ticketIds"`
	}{ticketIDs}
	return s.client.do(ctx, &request{method: http.MethodPost, tmpl: "tickets/moveToTrash", path: "tickets/moveToTrash", orgID: orgID, withOrg: true, jsonBody: body}, nil)
}

// TicketSearchOptions are the query parameters of Tickets.Search. From is
// at most MaxFromSearch and Limit at most MaxLimitTicketSearch. Comma values
// mean OR; a trailing "*" is a wildcard. Status also takes ${OPEN},
// ${ONHOLD}, ${CLOSED}. Time ranges are "from,to" ISO timestamps. New or
// changed tickets appear only after an indexing delay.
type TicketSearchOptions struct {
	ListOptions
	ID                        string
	TicketNumber              string
	Subject                   string
	Description               string
	All                       string // Zoho's "_all"
	Email                     string
	Phone                     string
	ContactName               string
	ContactID                 string
	AccountID                 string
	AccountName               string
	ProductID                 string
	ProductName               string
	DepartmentID              string
	AssigneeID                string
	Status                    string
	Priority                  string
	Channel                   string
	Category                  string
	Tag                       string
	CreatedTimeRange          string
	ModifiedTimeRange         string
	DueDateRange              string
	CustomerResponseTimeRange string
	// SortBy: relevance, modifiedTime, createdTime, customerResponseTime;
	// "-" prefix sorts descending.
	SortBy string
	// CustomFields are "cf_api_name:value" terms, sent as customField1..N.
	CustomFields []string
}

func (o *TicketSearchOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitTicketSearch); err != nil {
		return nil, err
	}
	if o.From > MaxFromSearch {
		return nil, invalidf("from %d is above the search maximum %d", o.From, MaxFromSearch)
	}
	o.set(q)
	for k, v := range map[string]string{
		"id": o.ID, "ticketNumber": o.TicketNumber, "subject": o.Subject, "description": o.Description,
		"_all": o.All, "email": o.Email, "phone": o.Phone, "contactName": o.ContactName,
		"contactId": o.ContactID, "accountId": o.AccountID, "accountName": o.AccountName,
		"productId": o.ProductID, "productName": o.ProductName, "departmentId": o.DepartmentID,
		"assigneeId": o.AssigneeID, "status": o.Status, "priority": o.Priority, "channel": o.Channel,
		"category": o.Category, "tag": o.Tag, "createdTimeRange": o.CreatedTimeRange,
		"modifiedTimeRange": o.ModifiedTimeRange, "dueDateRange": o.DueDateRange,
		"customerResponseTimeRange": o.CustomerResponseTimeRange, "sortBy": o.SortBy,
	} {
		setStr(q, k, v)
	}
	setCustomFields(q, o.CustomFields)
	return q, nil
}

// TicketSearchResult is one page of search hits and Zoho's total count (a
// decimal string; "" on 204).
type TicketSearchResult struct {
	Tickets []*Ticket
	Count   string
}

// Search finds tickets (empty on 204).
//
//desk:operation GET /api/v1/tickets/search
func (s *TicketsService) Search(ctx context.Context, orgID string, opts *TicketSearchOptions) (*TicketSearchResult, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	var body struct {
		Data  []*Ticket       `json:"data"`
		Count json.RawMessage `json:"count"`
	}
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "tickets/search", path: "tickets/search", query: q, orgID: orgID, withOrg: true}, &body)
	if err != nil {
		return nil, resp, err
	}
	return &TicketSearchResult{Tickets: body.Data, Count: stringish(body.Count)}, resp, nil
}

// SearchAll iterates over every search hit, page by page, up to Zoho's
// search window (From at most MaxFromSearch); hits beyond it are not
// reachable through search.
func (s *TicketsService) SearchAll(ctx context.Context, orgID string, opts *TicketSearchOptions) iter.Seq2[*Ticket, error] {
	o := TicketSearchOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitTicketSearch, MaxFromSearch, func(lo ListOptions) ([]*Ticket, error) {
		o.ListOptions = lo
		res, _, err := s.Search(ctx, orgID, &o)
		if err != nil {
			return nil, err
		}
		return res.Tickets, nil
	})
}
