package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ContactsService lists, searches, creates, gets, updates and trashes
// contacts.
type ContactsService service

// Contact is a Desk contact (a customer); Raw keeps Zoho's whole object.
type Contact struct {
	ID             string         `json:"id"`
	FirstName      string         `json:"firstName,omitempty"`
	LastName       string         `json:"lastName,omitempty"`
	Email          string         `json:"email,omitempty"`
	SecondaryEmail string         `json:"secondaryEmail,omitempty"`
	Phone          string         `json:"phone,omitempty"`
	Mobile         string         `json:"mobile,omitempty"`
	AccountID      string         `json:"accountId,omitempty"`
	OwnerID        string         `json:"ownerId,omitempty"`
	Type           string         `json:"type,omitempty"`
	Title          string         `json:"title,omitempty"`
	Description    string         `json:"description,omitempty"`
	PhotoURL       string         `json:"photoURL,omitempty"`
	WebURL         string         `json:"webUrl,omitempty"`
	CreatedTime    string         `json:"createdTime,omitempty"`
	ModifiedTime   string         `json:"modifiedTime,omitempty"`
	IsAnonymous    bool           `json:"isAnonymous"`
	IsEndUser      bool           `json:"isEndUser"`
	IsSpam         bool           `json:"isSpam"`
	CF             map[string]any `json:"cf,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes c and keeps the whole object in Raw.
func (c *Contact) UnmarshalJSON(b []byte) error {
	type plain Contact
	if err := decodeLenient(b, (*plain)(c)); err != nil {
		return err
	}
	c.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// ContactListOptions are the query parameters of Contacts.List. Limit is at
// most MaxLimitContacts.
type ContactListOptions struct {
	ListOptions
	ViewID   string
	FilterID string
	// SortBy: firstName, lastName, phone, email, account, createdTime,
	// modifiedTime; a "-" prefix sorts descending.
	SortBy string
	// Include: "accounts".
	Include string
	// Fields: comma list of at most 30 field API names.
	Fields string
}

func (o *ContactListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitContacts); err != nil {
		return nil, err
	}
	o.set(q)
	setStr(q, "viewId", o.ViewID)
	setStr(q, "filterId", o.FilterID)
	setStr(q, "sortBy", o.SortBy)
	setStr(q, "include", o.Include)
	setStr(q, "fields", o.Fields)
	return q, nil
}

// List returns one page of contacts (empty on 204).
//
//desk:operation GET /api/v1/contacts
func (s *ContactsService) List(ctx context.Context, orgID string, opts *ContactListOptions) ([]*Contact, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getList[Contact](ctx, s.client, orgID, "contacts", "contacts", q)
}

// ListAll iterates over every contact, page by page.
func (s *ContactsService) ListAll(ctx context.Context, orgID string, opts *ContactListOptions) iter.Seq2[*Contact, error] {
	o := ContactListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitContacts, -1, func(lo ListOptions) ([]*Contact, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, &o)
		return items, err
	})
}

// ContactSearchOptions are the query parameters of Contacts.Search. From is
// at most MaxFromSearch and Limit at most MaxLimitContactSearch. A trailing
// "*" is a wildcard; "${empty}" and "${notempty}" test for presence.
type ContactSearchOptions struct {
	ListOptions
	ID          string
	FullName    string
	FirstName   string
	LastName    string
	Email       string
	Phone       string
	Mobile      string
	AccountName string
	// All searches every column (Zoho's "_all").
	All string
	// SortBy, e.g. "relevance".
	SortBy string
	// CustomFields are "cf_api_name:value" terms, sent as customField1..N.
	CustomFields []string
}

func (o *ContactSearchOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitContactSearch); err != nil {
		return nil, err
	}
	if o.From > MaxFromSearch {
		return nil, invalidf("from %d is above the search maximum %d", o.From, MaxFromSearch)
	}
	o.set(q)
	setStr(q, "id", o.ID)
	setStr(q, "fullName", o.FullName)
	setStr(q, "firstName", o.FirstName)
	setStr(q, "lastName", o.LastName)
	setStr(q, "email", o.Email)
	setStr(q, "phone", o.Phone)
	setStr(q, "mobile", o.Mobile)
	setStr(q, "accountName", o.AccountName)
	setStr(q, "_all", o.All)
	setStr(q, "sortBy", o.SortBy)
	setCustomFields(q, o.CustomFields)
	return q, nil
}

func setCustomFields(q url.Values, terms []string) {
	for i, t := range terms {
		q.Set("customField"+strconv.Itoa(i+1), t)
	}
}

// ContactSearchResult is one page of search hits and Zoho's total count (a
// decimal string; "" on 204).
type ContactSearchResult struct {
	Contacts []*Contact
	Count    string
}

// Search finds contacts (empty on 204).
//
//desk:operation GET /api/v1/contacts/search
func (s *ContactsService) Search(ctx context.Context, orgID string, opts *ContactSearchOptions) (*ContactSearchResult, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	var body struct {
		Data  []*Contact      `json:"data"`
		Count json.RawMessage `json:"count"`
	}
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "contacts/search", path: "contacts/search", query: q, orgID: orgID, withOrg: true}, &body)
	if err != nil {
		return nil, resp, err
	}
	return &ContactSearchResult{Contacts: body.Data, Count: stringish(body.Count)}, resp, nil
}

// ContactCreateRequest is the body of Contacts.Create. LastName is required
// (checked locally). Extra holds further Zoho fields; the named fields take
// precedence over it.
type ContactCreateRequest struct {
	LastName       string         `json:"lastName"`
	FirstName      string         `json:"firstName,omitempty"`
	Email          string         `json:"email,omitempty"`
	SecondaryEmail string         `json:"secondaryEmail,omitempty"`
	Phone          string         `json:"phone,omitempty"`
	Mobile         string         `json:"mobile,omitempty"`
	AccountID      string         `json:"accountId,omitempty"`
	Title          string         `json:"title,omitempty"`
	Description    string         `json:"description,omitempty"`
	Type           string         `json:"type,omitempty"`
	OwnerID        string         `json:"ownerId,omitempty"`
	CF             map[string]any `json:"cf,omitempty"`

	Extra map[string]any `json:"-"`
}

// MarshalJSON encodes the named fields plus Extra.
func (r ContactCreateRequest) MarshalJSON() ([]byte, error) {
	type plain ContactCreateRequest
	return marshalWithExtra(plain(r), r.Extra)
}

// Create creates a contact. Zoho does not refuse an e-mail that another
// contact has ([C NREC]: three contacts with one address, all 200): look
// it up first (FindByEmail, and List for contacts search has not indexed
// yet) when a duplicate must be avoided. A 422 INVALID_DATA answer is
// ErrInvalid.
//
//desk:operation POST /api/v1/contacts
func (s *ContactsService) Create(ctx context.Context, orgID string, req *ContactCreateRequest) (*Contact, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	if req == nil || req.LastName == "" {
		return nil, nil, invalidf("contact: lastName is required")
	}
	c := new(Contact)
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "contacts", path: "contacts", orgID: orgID, withOrg: true, jsonBody: req}, c)
	if err != nil {
		return nil, resp, err
	}
	return c, resp, nil
}

// ContactGetOptions are the query parameters of Contacts.Get.
type ContactGetOptions struct {
	// Include: "accounts", "owner" (comma list).
	Include string
}

// Get returns one contact. An unknown id is ErrNotFound.
//
//desk:operation GET /api/v1/contacts/{contactId}
func (s *ContactsService) Get(ctx context.Context, orgID, contactID string, opts *ContactGetOptions) (*Contact, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("contactID", contactID)
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		setStr(q, "include", opts.Include)
	}
	c := new(Contact)
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "contacts/{contactId}", path: "contacts/" + id, query: q, orgID: orgID, withOrg: true}, c)
	if err != nil {
		return nil, resp, err
	}
	return c, resp, nil
}

// ContactUpdateRequest is the body of Contacts.Update (a PATCH). Each
// Optional field is left out when unset, sent as a value when Set and as
// JSON null when Null (Null[string]() on AccountID unlinks the contact from
// its account). Extra holds further Zoho fields; the named fields take
// precedence over it.
type ContactUpdateRequest struct {
	LastName       Optional[string] `json:"lastName,omitzero"`
	FirstName      Optional[string] `json:"firstName,omitzero"`
	Email          Optional[string] `json:"email,omitzero"`
	SecondaryEmail Optional[string] `json:"secondaryEmail,omitzero"`
	Phone          Optional[string] `json:"phone,omitzero"`
	Mobile         Optional[string] `json:"mobile,omitzero"`
	AccountID      Optional[string] `json:"accountId,omitzero"`
	Title          Optional[string] `json:"title,omitzero"`
	Description    Optional[string] `json:"description,omitzero"`
	Type           Optional[string] `json:"type,omitzero"`
	OwnerID        Optional[string] `json:"ownerId,omitzero"`
	CF             map[string]any   `json:"cf,omitempty"`

	Extra map[string]any `json:"-"`
}

// MarshalJSON encodes the set fields plus Extra.
func (r ContactUpdateRequest) MarshalJSON() ([]byte, error) {
	type plain ContactUpdateRequest
	return marshalWithExtra(plain(r), r.Extra)
}

// Update changes the fields set in req and returns the whole contact
// (Zoho answers 200 with it). An empty request is refused locally.
//
//desk:operation PATCH /api/v1/contacts/{contactId}
func (s *ContactsService) Update(ctx context.Context, orgID, contactID string, req *ContactUpdateRequest) (*Contact, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("contactID", contactID)
	if err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalidf("contact update: request is nil")
	}
	if b, err := json.Marshal(req); err != nil || string(b) == "{}" {
		return nil, nil, invalidf("contact update: no field is set")
	}
	c := new(Contact)
	resp, err := s.client.do(ctx, &request{method: http.MethodPatch, tmpl: "contacts/{contactId}", path: "contacts/" + id, orgID: orgID, withOrg: true, jsonBody: req}, c)
	if err != nil {
		return nil, resp, err
	}
	return c, resp, nil
}

// MoveToTrash moves contacts to the recycle bin (Zoho answers 204).
// [GAP] Zoho documents no maximum number of ids per call.
//
//desk:operation POST /api/v1/contacts/moveToTrash
func (s *ContactsService) MoveToTrash(ctx context.Context, orgID string, contactIDs []string) (*Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, err
	}
	if len(contactIDs) == 0 {
		return nil, invalidf("contactIDs must not be empty")
	}
	for _, id := range contactIDs {
		if id == "" {
			return nil, invalidf("contactIDs must not contain an empty id")
		}
	}
	body := struct {
		ContactIDs []string `json:"contactIds"`
	}{contactIDs}
	return s.client.do(ctx, &request{method: http.MethodPost, tmpl: "contacts/moveToTrash", path: "contacts/moveToTrash", orgID: orgID, withOrg: true, jsonBody: body}, nil)
}

// ContactTicketsOptions are the query parameters of Contacts.ListTickets
// (0-based From, Limit at most MaxLimitContactTickets).
type ContactTicketsOptions struct {
	ListOptions
	DepartmentID string
	// SortBy: createdTime or modifiedTime ("-" prefix sorts descending).
	SortBy string
	// Include: comma list of departments, team, assignee, products.
	Include string
}

// MaxLimitContactTickets is the largest limit of Contacts.ListTickets.
// [GAP] The OAS gives default 25 and no maximum; Desk's general list
// maximum of 100 is used.
const MaxLimitContactTickets = 100

// ListTickets returns one page of the tickets a contact raised (empty on
// 204).
//
//desk:operation GET /api/v1/contacts/{contactId}/tickets
func (s *ContactsService) ListTickets(ctx context.Context, orgID, contactID string, opts *ContactTicketsOptions) ([]*Ticket, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("contactID", contactID)
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.check(MaxLimitContactTickets); err != nil {
			return nil, nil, err
		}
		opts.set(q)
		setStr(q, "departmentId", opts.DepartmentID)
		setStr(q, "sortBy", opts.SortBy)
		setStr(q, "include", opts.Include)
	}
	return getList[Ticket](ctx, s.client, orgID, "contacts/{contactId}/tickets", "contacts/"+id+"/tickets", q)
}

// FindByEmail returns the contacts whose primary e-mail is email (compared
// without regard to case), newest first. Zoho accepts several contacts with
// one e-mail, so there may be more than one. It searches
// (contacts/search?email=) and therefore misses contacts created within
// Zoho's search indexing delay; callers that must not miss a fresh contact
// also read the newest contacts with List.
func (s *ContactsService) FindByEmail(ctx context.Context, orgID, email string) ([]*Contact, error) {
	if email == "" {
		return nil, invalidf("email must not be empty")
	}
	if strings.ContainsAny(email, "*,") || strings.Contains(email, "${") {
		return nil, invalidf("email %q contains a search operator (*, comma or ${...})", email)
	}
	var out []*Contact
	for c, err := range s.SearchAll(ctx, orgID, &ContactSearchOptions{Email: email}) {
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(c.Email, email) {
			out = append(out, c)
		}
	}
	// ISO-8601 times in one zone sort as text.
	slices.SortStableFunc(out, func(a, b *Contact) int { return strings.Compare(b.CreatedTime, a.CreatedTime) })
	return out, nil
}

// SearchAll iterates over every search hit, page by page, up to Zoho's
// search window (From at most MaxFromSearch).
func (s *ContactsService) SearchAll(ctx context.Context, orgID string, opts *ContactSearchOptions) iter.Seq2[*Contact, error] {
	o := ContactSearchOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitContactSearch, MaxFromSearch, func(lo ListOptions) ([]*Contact, error) {
		o.ListOptions = lo
		res, _, err := s.Search(ctx, orgID, &o)
		if err != nil {
			return nil, err
		}
		return res.Contacts, nil
	})
}
