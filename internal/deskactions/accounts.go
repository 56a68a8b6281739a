package deskactions

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// AccountPayload are the fields of create_account, in Zoho's names.
type AccountPayload struct {
	AccountName string         `json:"accountName" jsonschema:"Name of the company (required)." schema:"minLength=1,maxLength=200"`
	Email       string         `json:"email,omitempty" jsonschema:"E-mail address of the company." schema:"maxLength=100"`
	Website     string         `json:"website,omitempty" jsonschema:"Web site." schema:"maxLength=120"`
	Phone       string         `json:"phone,omitempty" jsonschema:"Phone number." schema:"maxLength=50"`
	Fax         string         `json:"fax,omitempty" jsonschema:"Fax number." schema:"maxLength=50"`
	Industry    string         `json:"industry,omitempty" jsonschema:"Industry." schema:"maxLength=120"`
	Description string         `json:"description,omitempty" jsonschema:"Notes about the company." schema:"maxLength=65535"`
	Code        string         `json:"code,omitempty" jsonschema:"Account code." schema:"maxLength=50"`
	Street      string         `json:"street,omitempty" jsonschema:"Street address." schema:"maxLength=250"`
	City        string         `json:"city,omitempty" jsonschema:"City." schema:"maxLength=100"`
	State       string         `json:"state,omitempty" jsonschema:"State or region." schema:"maxLength=100"`
	Country     string         `json:"country,omitempty" jsonschema:"Country." schema:"maxLength=100"`
	Zip         string         `json:"zip,omitempty" jsonschema:"Postal code." schema:"maxLength=50"`
	OwnerID     string         `json:"ownerId,omitempty" jsonschema:"Agent who owns the account (list_agents)." schema:"pattern=^[0-9]+$,maxLength=32"`
	CF          map[string]any `json:"cf,omitempty" jsonschema:"Custom fields by API name (cf_...)."`
}

// CreateAccountInput is the input of create_account.
type CreateAccountInput struct {
	OrgRef
	Payload  AccountPayload `json:"payload" jsonschema:"The new account."`
	IfExists string         `json:"ifExists,omitempty" jsonschema:"What to do when an account with payload.accountName exists (same name, any case): conflict (default) answers a conflict error naming it; return returns the existing account unchanged (existing: true); create creates another account with the same name." schema:"enum=conflict|return|create"`
	action.WriteOptions
}

// AccountOutput is one account.
type AccountOutput struct {
	ID          string          `json:"id" jsonschema:"The account id (accountId of other actions)."`
	AccountName string          `json:"accountName" jsonschema:"Name of the company."`
	Website     string          `json:"website,omitempty" jsonschema:"Web site."`
	Email       string          `json:"email,omitempty" jsonschema:"E-mail address."`
	Phone       string          `json:"phone,omitempty" jsonschema:"Phone number."`
	WebURL      string          `json:"webUrl,omitempty" jsonschema:"Link to the account in Zoho Desk."`
	Existing    bool            `json:"existing,omitempty" jsonschema:"create_account only: true when an existing account with the name was returned (ifExists: return) instead of creating one."`
	Account     json.RawMessage `json:"account" jsonschema:"The whole account as Zoho Desk returned it."`
}

func accountOutput(a *zohodesk.Account) AccountOutput {
	return AccountOutput{ID: a.ID, AccountName: a.AccountName, Website: a.Website, Email: a.Email, Phone: a.Phone, WebURL: a.WebURL, Account: a.Raw}
}

// AccountSelector names one account: by id or by exact name.
type AccountSelector struct {
	AccountID   string `json:"accountId,omitempty" jsonschema:"Id of the account (search_accounts, list_accounts)." schema:"pattern=^[0-9]+$,maxLength=32"`
	AccountName string `json:"accountName,omitempty" jsonschema:"Exact name of the account (case does not matter); several accounts with it give an ambiguous error listing them." schema:"maxLength=200"`
}

func (s AccountSelector) check() []deskconn.FieldError {
	return checkOneOf("the account", "search_accounts or list_accounts return ids", selectorField{"accountId", s.AccountID}, selectorField{"accountName", s.AccountName})
}

// GetAccountInput is the input of get_account.
type GetAccountInput struct {
	OrgRef
	AccountSelector
}

// UpdateAccountPayload are the fields update_account may change; null
// clears a field (not accountName).
type UpdateAccountPayload struct {
	AccountName Nullable       `json:"accountName,omitzero" jsonschema:"New name (cannot be cleared)." schema:"maxLength=200"`
	Email       Nullable       `json:"email,omitzero" jsonschema:"New e-mail; null clears it." schema:"maxLength=100"`
	Website     Nullable       `json:"website,omitzero" jsonschema:"New web site; null clears it." schema:"maxLength=120"`
	Phone       Nullable       `json:"phone,omitzero" jsonschema:"New phone; null clears it." schema:"maxLength=50"`
	Fax         Nullable       `json:"fax,omitzero" jsonschema:"New fax; null clears it." schema:"maxLength=50"`
	Industry    Nullable       `json:"industry,omitzero" jsonschema:"New industry; null clears it." schema:"maxLength=120"`
	Description Nullable       `json:"description,omitzero" jsonschema:"New notes; null clears them." schema:"maxLength=65535"`
	Code        Nullable       `json:"code,omitzero" jsonschema:"New account code; null clears it." schema:"maxLength=50"`
	Street      Nullable       `json:"street,omitzero" jsonschema:"New street; null clears it." schema:"maxLength=250"`
	City        Nullable       `json:"city,omitzero" jsonschema:"New city; null clears it." schema:"maxLength=100"`
	State       Nullable       `json:"state,omitzero" jsonschema:"New state; null clears it." schema:"maxLength=100"`
	Country     Nullable       `json:"country,omitzero" jsonschema:"New country; null clears it." schema:"maxLength=100"`
	Zip         Nullable       `json:"zip,omitzero" jsonschema:"New postal code; null clears it." schema:"maxLength=50"`
	OwnerID     Nullable       `json:"ownerId,omitzero" jsonschema:"New owner (an agent id from list_agents)." schema:"pattern=^[0-9]+$,maxLength=32"`
	CF          map[string]any `json:"cf,omitempty" jsonschema:"Custom fields to change, by API name (cf_...)."`
}

// UpdateAccountInput is the input of update_account.
type UpdateAccountInput struct {
	OrgRef
	AccountSelector
	Payload UpdateAccountPayload `json:"payload" jsonschema:"The fields to change; the others are left as they are."`
	action.WriteOptions
}

// UpdateAccountOutput is the updated account and what changed.
type UpdateAccountOutput struct {
	AccountOutput
	UpdatedFields []string `json:"updatedFields" jsonschema:"The fields sent to Zoho Desk."`
}

// ListAccountsParams are the paging and sorting of list_accounts.
type ListAccountsParams struct {
	Page
	SortBy string `json:"sortBy,omitempty" jsonschema:"Sort key; prefix - for descending." schema:"enum=accountName|website|email|phone|createdTime|modifiedTime|-accountName|-website|-email|-phone|-createdTime|-modifiedTime"`
}

// ListAccountsInput is the input of list_accounts.
type ListAccountsInput struct {
	OrgRef
	Params ListAccountsParams `json:"params,omitzero" jsonschema:"Paging and sorting."`
}

// SearchAccountsParams are the criteria of search_accounts.
type SearchAccountsParams struct {
	From        int    `json:"from,omitempty" jsonschema:"Index of the first hit to return, from 0 (at most 999)." schema:"minimum=0,maximum=999"`
	Limit       int    `json:"limit,omitempty" jsonschema:"Maximum number of hits, 1-100 (default 50)." schema:"minimum=1,maximum=100"`
	AccountName string `json:"accountName,omitempty" jsonschema:"Account name; a trailing * is a wildcard (Zylker*)." schema:"minLength=1,maxLength=200"`
	Text        string `json:"text,omitempty" jsonschema:"Text to find in any field (Zoho's _all), at least 3 characters." schema:"minLength=3,maxLength=255"`
	SortBy      string `json:"sortBy,omitempty" jsonschema:"Sort key; prefix - for descending." schema:"enum=relevance|accountName|createdTime|modifiedTime|-accountName|-createdTime|-modifiedTime"`
}

// SearchAccountsInput is the input of search_accounts.
type SearchAccountsInput struct {
	OrgRef
	Params SearchAccountsParams `json:"params" jsonschema:"Search criteria (all must match) and paging."`
}

// AccountContactsParams are the paging and sorting of list_account_contacts.
type AccountContactsParams struct {
	Page
	SortBy string `json:"sortBy,omitempty" jsonschema:"Sort key; prefix - for descending." schema:"enum=firstName|lastName|fullName|email|phone|createdTime|modifiedTime|-firstName|-lastName|-fullName|-email|-phone|-createdTime|-modifiedTime"`
}

// ListAccountContactsInput is the input of list_account_contacts.
type ListAccountContactsInput struct {
	OrgRef
	AccountSelector
	Params AccountContactsParams `json:"params,omitzero" jsonschema:"Paging and sorting."`
}

func accountActions() []*action.Action {
	ro := action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}
	return []*action.Action{
		action.Define("create_account", action.Info{
			Title:       "Create account",
			Description: "Creates an account (customer company). An existing name answers conflict unless ifExists says otherwise.",
			Toolset:     "customers",
			Hints:       action.Hints{OpenWorld: true}, Write: true, ZohoFieldPrefix: "/payload", Scopes: []string{"Desk.contacts.CREATE"}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in CreateAccountInput) (AccountOutput, error) {
			if strings.TrimSpace(in.Payload.AccountName) == "" {
				return AccountOutput{}, invalid([]deskconn.FieldError{{Pointer: "/payload/accountName", Code: "missing", Message: "give the company's name"}})
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return AccountOutput{}, err
			}
			p := in.Payload
			if in.IfExists != "create" {
				existing, err := accountsNamed(ctx, call, org, strings.TrimSpace(p.AccountName), zohodesk.MaxLimitAccounts)
				if err != nil {
					return AccountOutput{}, err
				}
				if len(existing) > 0 {
					if in.IfExists == "return" {
						out := accountOutput(existing[0])
						out.Existing = true
						call.SetDetail("account " + existing[0].ID + " exists with that name; returned it")
						return out, nil
					}
					e := &deskconn.Error{Code: deskconn.CodeConflict,
						Message: "an account named " + quote(p.AccountName) + " already exists (id " + existing[0].ID + "); use it, or send ifExists: return to get it back, or ifExists: create to add another account with this name",
						Fields:  []deskconn.FieldError{{Pointer: "/payload/accountName", Code: "duplicate", Message: "is the name of account " + existing[0].ID}}}
					e.Candidates = accountCandidates(existing)
					return AccountOutput{}, e
				}
			}
			req := &zohodesk.AccountCreateRequest{
				AccountName: p.AccountName, Email: p.Email, Website: p.Website, Phone: p.Phone, Fax: p.Fax, Industry: p.Industry,
				Description: p.Description, Code: p.Code, Street: p.Street, City: p.City, State: p.State, Country: p.Country,
				Zip: p.Zip, OwnerID: p.OwnerID, CF: p.CF,
			}
			if call.DryRun {
				return AccountOutput{}, call.Plan(action.PlannedRequest{Method: "POST", Path: "/accounts", Header: orgHeader(org), Body: req})
			}
			a, resp, err := call.Desk.Accounts.Create(ctx, org, req)
			if resp != nil {
				call.SetRequestID(resp.RequestID)
			}
			if err != nil {
				return AccountOutput{}, err
			}
			call.SetDetail("account " + a.ID + " created")
			call.Created("account", a.ID, a.ModifiedTime)
			return accountOutput(a), nil
		}),
		action.Define("get_account", action.Info{
			Title:       "Get account",
			Description: "Returns one account (customer company) whole, by accountId (search_accounts, or a contact's accountId) or exact accountName.",
			Toolset:     "customers",
			Hints:       ro, Scopes: contactsRead, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in GetAccountInput) (AccountOutput, error) {
			if err := invalid(in.AccountSelector.check()); err != nil {
				return AccountOutput{}, err
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return AccountOutput{}, err
			}
			id, err := resolveAccount(ctx, call, org, in.AccountSelector, "/accountName")
			if err != nil {
				return AccountOutput{}, err
			}
			a, _, err := call.Desk.Accounts.Get(ctx, org, id)
			if err != nil {
				return AccountOutput{}, accountNotFound(err, id)
			}
			return accountOutput(a), nil
		}),
		action.Define("update_account", action.Info{
			Title:       "Update account",
			Description: "Changes the payload fields of an account (company); null clears one. accountId: search_accounts (or an exact accountName).",
			Toolset:     "customers",
			Hints:       action.Hints{Idempotent: true, OpenWorld: true}, Write: true, ZohoFieldPrefix: "/payload", Scopes: []string{"Desk.contacts.UPDATE", "Desk.contacts.READ", "Desk.search.READ"}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in UpdateAccountInput) (UpdateAccountOutput, error) {
			return updateAccount(ctx, call, in)
		}),
		action.Define("list_accounts", action.Info{
			Title:       "List accounts",
			Description: "Lists accounts (customer companies) a page at a time, sorted by params.sortBy. To find one by name use search_accounts.",
			Toolset:     "customers",
			Hints:       ro, Scopes: []string{"Desk.contacts.READ"}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListAccountsInput) (ListOutput, error) {
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			p := in.Params
			limit := pageLimit(p.Limit, zohodesk.MaxLimitAccounts)
			// deskconn pages from 0 everywhere; /accounts pages from 1.
			items, _, err := call.Desk.Accounts.List(ctx, org, &zohodesk.AccountListOptions{
				ListOptions: zohodesk.ListOptions{From: p.From + 1, Limit: limit}, SortBy: p.SortBy,
			})
			if err != nil {
				return ListOutput{}, err
			}
			return pageOf(items, func(a *zohodesk.Account) json.RawMessage { return a.Raw }, p.From, limit), nil
		}),
		action.Define("search_accounts", action.Info{
			Title:       "Search accounts",
			Description: "Finds accounts (customer companies) by name (trailing * is a wildcard) or text. Gives accountId for the account and contact tools.",
			Toolset:     "customers",
			Hints:       ro, Scopes: contactsRead, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in SearchAccountsInput) (SearchOutput, error) {
			p := in.Params
			if p.AccountName == "" && p.Text == "" {
				return SearchOutput{}, invalid([]deskconn.FieldError{{Pointer: "/params", Code: "missing",
					Message: "give at least one criterion: accountName or text; to list accounts without one use list_accounts"}})
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return SearchOutput{}, err
			}
			limit := pageLimit(p.Limit, zohodesk.MaxLimitAccountSearch)
			res, _, err := call.Desk.Accounts.Search(ctx, org, &zohodesk.AccountSearchOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit}, AccountName: p.AccountName, All: p.Text, SortBy: p.SortBy,
			})
			if err != nil {
				return SearchOutput{}, err
			}
			return searchOutput(res.Accounts, func(a *zohodesk.Account) json.RawMessage { return a.Raw }, res.Count, p.From, limit), nil
		}),
		action.Define("list_account_contacts", action.Info{
			Title:       "List account's contacts",
			Description: "Lists the contacts of an account (company), a page at a time. accountId: search_accounts (or an exact accountName).",
			Toolset:     "customers",
			Hints:       ro, Scopes: contactsRead, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListAccountContactsInput) (ListOutput, error) {
			if err := invalid(in.AccountSelector.check()); err != nil {
				return ListOutput{}, err
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			id, err := resolveAccount(ctx, call, org, in.AccountSelector, "/accountName")
			if err != nil {
				return ListOutput{}, err
			}
			p := in.Params
			limit := pageLimit(p.Limit, zohodesk.MaxLimitAccountContacts)
			items, _, err := call.Desk.Accounts.ListContacts(ctx, org, id, &zohodesk.AccountContactsOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit}, SortBy: p.SortBy,
			})
			if err != nil {
				return ListOutput{}, accountNotFound(err, id)
			}
			return pageOf(items, func(c *zohodesk.Contact) json.RawMessage { return c.Raw }, p.From, limit), nil
		}),
	}
}

// maxAccountScan bounds how many accounts a by-name selector lists when
// search cannot be used or finds nothing (names with * or , are search
// operators; fresh accounts may not be indexed yet). create_account's
// duplicate check reads one page of the newest instead.
const maxAccountScan = 1000

// accountsNamed returns the live accounts named name (ignoring case and
// surrounding spaces): search hits, and when search finds no exact match
// up to scan of the newest accounts too (Zoho's search lags behind writes).
// A name with * or , (search operators) is not searched: up to
// maxAccountScan accounts are listed instead.
func accountsNamed(ctx context.Context, call *action.Call, org, name string, scan int) ([]*zohodesk.Account, error) {
	match := func(a *zohodesk.Account) bool { return strings.EqualFold(strings.TrimSpace(a.AccountName), name) }
	var hits []*zohodesk.Account
	add := func(a *zohodesk.Account) {
		if match(a) && !slices.ContainsFunc(hits, func(h *zohodesk.Account) bool { return h.ID == a.ID }) {
			hits = append(hits, a)
		}
	}
	if strings.ContainsAny(name, "*,") || strings.Contains(name, "${") {
		scan = maxAccountScan
	} else {
		res, _, err := call.Desk.Accounts.Search(ctx, org, &zohodesk.AccountSearchOptions{AccountName: name, ListOptions: zohodesk.ListOptions{Limit: zohodesk.MaxLimitAccountSearch}})
		if err != nil {
			return nil, err
		}
		for _, a := range res.Accounts {
			add(a)
		}
	}
	if len(hits) == 0 {
		n := 0
		opts := &zohodesk.AccountListOptions{SortBy: "-createdTime", ListOptions: zohodesk.ListOptions{Limit: min(scan, zohodesk.MaxLimitAccounts)}}
		for a, err := range call.Desk.Accounts.ListAll(ctx, org, opts) {
			if err != nil {
				return nil, err
			}
			add(a)
			if n++; n >= scan {
				break
			}
		}
	}
	return hits, nil
}

func accountCandidates(as []*zohodesk.Account) []deskconn.Candidate {
	out := make([]deskconn.Candidate, 0, len(as))
	for _, a := range as {
		out = append(out, deskconn.Candidate{ID: a.ID, Label: a.AccountName, Details: strings.TrimSpace(a.Website + " created " + a.CreatedTime)})
	}
	return out
}

// resolveAccount returns the id an account selector names; a name must
// match exactly one live account. ptr is where a name problem points.
func resolveAccount(ctx context.Context, call *action.Call, org string, s AccountSelector, ptr string) (string, error) {
	if s.AccountID != "" {
		return s.AccountID, nil
	}
	name := strings.TrimSpace(s.AccountName)
	hits, err := accountsNamed(ctx, call, org, name, maxAccountScan)
	if err != nil {
		return "", err
	}
	switch len(hits) {
	case 0:
		return "", &deskconn.Error{Code: deskconn.CodeNotFound,
			Message: "no account is named " + quote(name) + "; find accounts with search_accounts or list_accounts, or create it with create_account",
			Fields:  []deskconn.FieldError{{Pointer: ptr, Code: "invalid", Message: "matches no account"}}}
	case 1:
		return hits[0].ID, nil
	}
	return "", &deskconn.Error{Code: deskconn.CodeAmbiguous,
		Message:    itoa(len(hits)) + " accounts are named " + quote(name) + "; choose one and send its accountId",
		Fields:     []deskconn.FieldError{{Pointer: ptr, Code: "invalid", Message: "matches several accounts"}},
		Candidates: accountCandidates(hits)}
}

// accountNotFound turns a 404 for an account into not_found naming it.
func accountNotFound(err error, id string) error {
	if !errors.Is(err, zohodesk.ErrNotFound) {
		return err
	}
	return &deskconn.Error{Code: deskconn.CodeNotFound, Err: err,
		Message: "no account has id " + id + "; find accounts with search_accounts or list_accounts",
		Fields:  []deskconn.FieldError{{Pointer: "/accountId", Code: "invalid", Message: "no such account"}}}
}

func updateAccount(ctx context.Context, call *action.Call, in UpdateAccountInput) (UpdateAccountOutput, error) {
	p := in.Payload
	errs := in.AccountSelector.check()
	body := map[string]Nullable{
		"accountName": p.AccountName, "email": p.Email, "website": p.Website, "phone": p.Phone, "fax": p.Fax,
		"industry": p.Industry, "description": p.Description, "code": p.Code, "street": p.Street, "city": p.City,
		"state": p.State, "country": p.Country, "zip": p.Zip, "ownerId": p.OwnerID,
	}
	var fields []string
	for k, v := range body {
		if v.Set {
			fields = append(fields, k)
		}
	}
	if len(p.CF) > 0 {
		fields = append(fields, "cf")
	}
	slices.Sort(fields)
	switch {
	case len(fields) == 0:
		errs = append(errs, deskconn.FieldError{Pointer: "/payload", Code: "missing", Message: "give at least one field to change"})
	case p.AccountName.Set && (p.AccountName.Null || strings.TrimSpace(p.AccountName.Value) == ""):
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/accountName", Code: "invalid", Message: "cannot be cleared; give the new name"})
	}
	if err := invalid(errs); err != nil {
		return UpdateAccountOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return UpdateAccountOutput{}, err
	}
	req := &zohodesk.AccountUpdateRequest{
		AccountName: optional(p.AccountName), Email: optional(p.Email), Website: optional(p.Website), Phone: optional(p.Phone),
		Fax: optional(p.Fax), Industry: optional(p.Industry), Description: optional(p.Description), Code: optional(p.Code),
		Street: optional(p.Street), City: optional(p.City), State: optional(p.State), Country: optional(p.Country),
		Zip: optional(p.Zip), OwnerID: optional(p.OwnerID), CF: p.CF,
	}
	id, err := resolveAccount(ctx, call, org, in.AccountSelector, "/accountName")
	if err != nil {
		return UpdateAccountOutput{}, err
	}
	if call.DryRun {
		return UpdateAccountOutput{}, call.Plan(action.PlannedRequest{Method: "PATCH", Path: "/accounts/" + id, Header: orgHeader(org), Body: req})
	}
	a, resp, err := call.Desk.Accounts.Update(ctx, org, id, req)
	if resp != nil {
		call.SetRequestID(resp.RequestID)
	}
	if err != nil {
		return UpdateAccountOutput{}, accountNotFound(err, id)
	}
	call.SetDetail("account " + a.ID + " updated")
	call.Updated("account", a.ID, a.ModifiedTime)
	return UpdateAccountOutput{AccountOutput: accountOutput(a), UpdatedFields: fields}, nil
}
