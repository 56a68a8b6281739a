package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
)

// AccountsService creates, reads, updates, lists and searches accounts
// (the companies contacts belong to). Zoho guards accounts with the
// Desk.contacts.* scopes; search also needs Desk.search.READ.
type AccountsService service

// Account is a Desk account; Raw keeps Zoho's whole object.
type Account struct {
	ID           string         `json:"id"`
	AccountName  string         `json:"accountName"`
	Email        string         `json:"email,omitempty"`
	Website      string         `json:"website,omitempty"`
	Phone        string         `json:"phone,omitempty"`
	Fax          string         `json:"fax,omitempty"`
	Industry     string         `json:"industry,omitempty"`
	Description  string         `json:"description,omitempty"`
	Code         string         `json:"code,omitempty"`
	Street       string         `json:"street,omitempty"`
	City         string         `json:"city,omitempty"`
	State        string         `json:"state,omitempty"`
	Country      string         `json:"country,omitempty"`
	Zip          string         `json:"zip,omitempty"`
	OwnerID      string         `json:"ownerId,omitempty"`
	WebURL       string         `json:"webUrl,omitempty"`
	CreatedTime  string         `json:"createdTime,omitempty"`
	ModifiedTime string         `json:"modifiedTime,omitempty"`
	CF           map[string]any `json:"cf,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a and keeps the whole object in Raw.
func (a *Account) UnmarshalJSON(b []byte) error {
	type plain Account
	if err := decodeLenient(b, (*plain)(a)); err != nil {
		return err
	}
	a.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Per-endpoint maxima for accounts (OAS-Account, OAS-Search).
const (
	MaxLimitAccounts        = 100
	MaxLimitAccountSearch   = 100
	MaxLimitAccountContacts = 100
)

// AccountCreateRequest is the body of Accounts.Create. AccountName is
// required (OAS-Account; checked locally). Extra holds further Zoho fields;
// the named fields take precedence over it. [GAP] Zoho's handling of a
// duplicate account name is undocumented.
type AccountCreateRequest struct {
	AccountName string         `json:"accountName"`
	Email       string         `json:"email,omitempty"`
	Website     string         `json:"website,omitempty"`
	Phone       string         `json:"phone,omitempty"`
	Fax         string         `json:"fax,omitempty"`
	Industry    string         `json:"industry,omitempty"`
	Description string         `json:"description,omitempty"`
	Code        string         `json:"code,omitempty"`
	Street      string         `json:"street,omitempty"`
	City        string         `json:"city,omitempty"`
	State       string         `json:"state,omitempty"`
	Country     string         `json:"country,omitempty"`
	Zip         string         `json:"zip,omitempty"`
	OwnerID     string         `json:"ownerId,omitempty"`
	CF          map[string]any `json:"cf,omitempty"`

	Extra map[string]any `json:"-"`
}

// MarshalJSON encodes the named fields plus Extra.
func (r AccountCreateRequest) MarshalJSON() ([]byte, error) {
	type plain AccountCreateRequest
	return marshalWithExtra(plain(r), r.Extra)
}

// Create creates an account (Zoho answers 200 with it).
//
//desk:operation POST /api/v1/accounts
func (s *AccountsService) Create(ctx context.Context, orgID string, req *AccountCreateRequest) (*Account, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	if req == nil || req.AccountName == "" {
		return nil, nil, invalidf("account: accountName is required")
	}
	a := new(Account)
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "accounts", path: "accounts", orgID: orgID, withOrg: true, jsonBody: req}, a)
	if err != nil {
		return nil, resp, err
	}
	return a, resp, nil
}

// Get returns one account. An unknown id is ErrNotFound.
//
//desk:operation GET /api/v1/accounts/{accountId}
func (s *AccountsService) Get(ctx context.Context, orgID, accountID string) (*Account, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("accountID", accountID)
	if err != nil {
		return nil, nil, err
	}
	a := new(Account)
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "accounts/{accountId}", path: "accounts/" + id, orgID: orgID, withOrg: true}, a)
	if err != nil {
		return nil, resp, err
	}
	return a, resp, nil
}

// AccountUpdateRequest is the body of Accounts.Update (a PATCH); see
// ContactUpdateRequest for how Optional fields are sent.
type AccountUpdateRequest struct {
	AccountName Optional[string] `json:"accountName,omitzero"`
	Email       Optional[string] `json:"email,omitzero"`
	Website     Optional[string] `json:"website,omitzero"`
	Phone       Optional[string] `json:"phone,omitzero"`
	Fax         Optional[string] `json:"fax,omitzero"`
	Industry    Optional[string] `json:"industry,omitzero"`
	Description Optional[string] `json:"description,omitzero"`
	Code        Optional[string] `json:"code,omitzero"`
	Street      Optional[string] `json:"street,omitzero"`
	City        Optional[string] `json:"city,omitzero"`
	State       Optional[string] `json:"state,omitzero"`
	Country     Optional[string] `json:"country,omitzero"`
	Zip         Optional[string] `json:"zip,omitzero"`
	OwnerID     Optional[string] `json:"ownerId,omitzero"`
	CF          map[string]any   `json:"cf,omitempty"`

	Extra map[string]any `json:"-"`
}

// MarshalJSON encodes the set fields plus Extra.
func (r AccountUpdateRequest) MarshalJSON() ([]byte, error) {
	type plain AccountUpdateRequest
	return marshalWithExtra(plain(r), r.Extra)
}

// Update changes the fields set in req and returns the whole account. An
// empty request is refused locally.
//
//desk:operation PATCH /api/v1/accounts/{accountId}
func (s *AccountsService) Update(ctx context.Context, orgID, accountID string, req *AccountUpdateRequest) (*Account, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("accountID", accountID)
	if err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalidf("account update: request is nil")
	}
	if b, err := json.Marshal(req); err != nil || string(b) == "{}" {
		return nil, nil, invalidf("account update: no field is set")
	}
	a := new(Account)
	resp, err := s.client.do(ctx, &request{method: http.MethodPatch, tmpl: "accounts/{accountId}", path: "accounts/" + id, orgID: orgID, withOrg: true, jsonBody: req}, a)
	if err != nil {
		return nil, resp, err
	}
	return a, resp, nil
}

// AccountListOptions are the query parameters of Accounts.List. From is
// 1-based on this endpoint (OAS default 1; [C NREC] from=0 also returned
// the first row); 0 sends no from.
type AccountListOptions struct {
	ListOptions
	ViewID string
	// SortBy: website, email, phone, accountName, createdTime,
	// modifiedTime; a "-" prefix sorts descending.
	SortBy string
}

// List returns one page of accounts (empty on 204).
//
//desk:operation GET /api/v1/accounts
func (s *AccountsService) List(ctx context.Context, orgID string, opts *AccountListOptions) ([]*Account, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.check(MaxLimitAccounts); err != nil {
			return nil, nil, err
		}
		opts.set(q)
		setStr(q, "viewId", opts.ViewID)
		setStr(q, "sortBy", opts.SortBy)
	}
	return getList[Account](ctx, s.client, orgID, "accounts", "accounts", q)
}

// ListAll iterates over every account, page by page.
func (s *AccountsService) ListAll(ctx context.Context, orgID string, opts *AccountListOptions) iter.Seq2[*Account, error] {
	o := AccountListOptions{}
	if opts != nil {
		o = *opts
	}
	if o.From == 0 {
		o.From = 1 // 1-based
	}
	return pages(ctx, o.ListOptions, MaxLimitAccounts, -1, func(lo ListOptions) ([]*Account, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, &o)
		return items, err
	})
}

// AccountSearchOptions are the query parameters of Accounts.Search. From is
// at most MaxFromSearch and Limit at most MaxLimitAccountSearch; a trailing
// "*" is a wildcard.
type AccountSearchOptions struct {
	ListOptions
	ID          string
	AccountName string
	// All searches every column (Zoho's "_all", at least 3 characters).
	All string
	// SortBy: relevance, modifiedTime, createdTime, accountName.
	SortBy       string
	CustomFields []string
}

// AccountSearchResult is one page of hits and Zoho's total count as
// decimal text ("" on 204).
type AccountSearchResult struct {
	Accounts []*Account
	Count    string
}

// Search finds accounts (empty on 204).
//
//desk:operation GET /api/v1/accounts/search
func (s *AccountsService) Search(ctx context.Context, orgID string, opts *AccountSearchOptions) (*AccountSearchResult, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.check(MaxLimitAccountSearch); err != nil {
			return nil, nil, err
		}
		if opts.From > MaxFromSearch {
			return nil, nil, invalidf("from %d is above the search maximum %d", opts.From, MaxFromSearch)
		}
		opts.set(q)
		setStr(q, "id", opts.ID)
		setStr(q, "accountName", opts.AccountName)
		setStr(q, "_all", opts.All)
		setStr(q, "sortBy", opts.SortBy)
		setCustomFields(q, opts.CustomFields)
	}
	var body struct {
		Data  []*Account      `json:"data"`
		Count json.RawMessage `json:"count"`
	}
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "accounts/search", path: "accounts/search", query: q, orgID: orgID, withOrg: true}, &body)
	if err != nil {
		return nil, resp, err
	}
	return &AccountSearchResult{Accounts: body.Data, Count: stringish(body.Count)}, resp, nil
}

// AccountContactsOptions are the query parameters of Accounts.ListContacts.
type AccountContactsOptions struct {
	ListOptions
	// SortBy: firstName, lastName, phone, fullName, email, createdTime,
	// modifiedTime.
	SortBy string
}

// ListContacts returns one page of the contacts linked to an account
// (empty on 204).
//
//desk:operation GET /api/v1/accounts/{accountId}/contacts
func (s *AccountsService) ListContacts(ctx context.Context, orgID, accountID string, opts *AccountContactsOptions) ([]*Contact, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("accountID", accountID)
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.check(MaxLimitAccountContacts); err != nil {
			return nil, nil, err
		}
		opts.set(q)
		setStr(q, "sortBy", opts.SortBy)
	}
	return getList[Contact](ctx, s.client, orgID, "accounts/{accountId}/contacts", "accounts/"+id+"/contacts", q)
}
