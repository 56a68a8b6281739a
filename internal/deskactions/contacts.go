package deskactions

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// Scopes of the contact and account actions (facts part 2 §7: accounts use
// the contacts scopes; search adds Desk.search.READ).
var (
	contactsRead   = []string{"Desk.contacts.READ", "Desk.search.READ"}
	contactsCreate = []string{"Desk.contacts.CREATE", "Desk.contacts.READ", "Desk.search.READ"}
	contactsUpdate = []string{"Desk.contacts.UPDATE", "Desk.contacts.READ", "Desk.search.READ"}
	contactsDelete = []string{"Desk.contacts.DELETE", "Desk.contacts.READ", "Desk.search.READ"}
)

// ContactPayload are the fields of create_contact, in Zoho's names.
type ContactPayload struct {
	LastName       string         `json:"lastName" jsonschema:"Last name (required)." schema:"minLength=1,maxLength=80"`
	FirstName      string         `json:"firstName,omitempty" jsonschema:"First name." schema:"maxLength=40"`
	Email          string         `json:"email,omitempty" jsonschema:"Primary e-mail address. If a contact with it exists the call answers conflict naming it, unless ifExists says otherwise." schema:"maxLength=100"`
	SecondaryEmail string         `json:"secondaryEmail,omitempty" jsonschema:"Secondary e-mail address." schema:"maxLength=100"`
	Phone          string         `json:"phone,omitempty" jsonschema:"Phone number." schema:"maxLength=50"`
	Mobile         string         `json:"mobile,omitempty" jsonschema:"Mobile number." schema:"maxLength=50"`
	Title          string         `json:"title,omitempty" jsonschema:"Job title." schema:"maxLength=100"`
	Description    string         `json:"description,omitempty" jsonschema:"Notes about the contact." schema:"maxLength=65535"`
	Type           string         `json:"type,omitempty" jsonschema:"Contact type, e.g. Customer." schema:"maxLength=120"`
	OwnerID        string         `json:"ownerId,omitempty" jsonschema:"Agent who owns the contact (list_agents, find_agent_by_email)." schema:"pattern=^[0-9]+$,maxLength=32"`
	AccountID      string         `json:"accountId,omitempty" jsonschema:"Account (company) of the contact (search_accounts, list_accounts). Give accountId or accountName, not both." schema:"pattern=^[0-9]+$,maxLength=32"`
	AccountName    string         `json:"accountName,omitempty" jsonschema:"Exact name of the contact's account (company); it must match exactly one account." schema:"maxLength=200"`
	CF             map[string]any `json:"cf,omitempty" jsonschema:"Custom fields by API name (cf_...)."`
}

// CreateContactInput is the input of create_contact.
type CreateContactInput struct {
	OrgRef
	Payload  ContactPayload `json:"payload" jsonschema:"The new contact."`
	IfExists string         `json:"ifExists,omitempty" jsonschema:"What to do when a contact with payload.email exists: conflict (default) answers a conflict error naming it; return returns the existing contact unchanged (existing: true); create creates another contact with the same e-mail, as Zoho allows." schema:"enum=conflict|return|create"`
	action.WriteOptions
}

// ContactOutput is one contact.
type ContactOutput struct {
	ID           string          `json:"id" jsonschema:"The contact id (contactId of other actions)."`
	Name         string          `json:"name" jsonschema:"First and last name."`
	Email        string          `json:"email,omitempty" jsonschema:"Primary e-mail address."`
	Phone        string          `json:"phone,omitempty" jsonschema:"Phone number."`
	AccountID    string          `json:"accountId,omitempty" jsonschema:"The contact's account (company), if any."`
	WebURL       string          `json:"webUrl,omitempty" jsonschema:"Link to the contact in Zoho Desk."`
	CreatedTime  string          `json:"createdTime,omitempty" jsonschema:"When the contact was created (ISO 8601)."`
	ModifiedTime string          `json:"modifiedTime,omitempty" jsonschema:"When the contact last changed (ISO 8601)."`
	Existing     bool            `json:"existing,omitempty" jsonschema:"create_contact only: true when an existing contact with the e-mail was returned (ifExists: return) instead of creating one."`
	Contact      json.RawMessage `json:"contact" jsonschema:"The whole contact as Zoho Desk returned it."`
}

func contactOutput(c *zohodesk.Contact) ContactOutput {
	return ContactOutput{
		ID: c.ID, Name: strings.TrimSpace(c.FirstName + " " + c.LastName), Email: c.Email, Phone: c.Phone,
		AccountID: c.AccountID, WebURL: c.WebURL, CreatedTime: c.CreatedTime, ModifiedTime: c.ModifiedTime, Contact: c.Raw,
	}
}

// ContactSelector names one contact: by id or by exact primary e-mail.
type ContactSelector struct {
	ContactID string `json:"contactId,omitempty" jsonschema:"Id of the contact (search_contacts, list_contacts)." schema:"pattern=^[0-9]+$,maxLength=32"`
	Email     string `json:"email,omitempty" jsonschema:"Exact primary e-mail of the contact (case does not matter); several contacts with it give an ambiguous error listing them." schema:"maxLength=100"`
}

func (s ContactSelector) check() []deskconn.FieldError {
	errs := checkOneOf("the contact", "search_contacts or list_contacts return ids", selectorField{"contactId", s.ContactID}, selectorField{"email", s.Email})
	if s.Email != "" && !plainEmail(s.Email) {
		errs = append(errs, deskconn.FieldError{Pointer: "/email", Code: "invalid", Message: "must be one e-mail address like name@example.com (no wildcards or lists)"})
	}
	return errs
}

// GetContactInput is the input of get_contact.
type GetContactInput struct {
	OrgRef
	ContactSelector
}

// UpdateContactPayload are the fields update_contact may change; null
// clears a field (not lastName).
type UpdateContactPayload struct {
	LastName       Nullable       `json:"lastName,omitzero" jsonschema:"New last name (cannot be cleared)." schema:"maxLength=80"`
	FirstName      Nullable       `json:"firstName,omitzero" jsonschema:"New first name; null clears it." schema:"maxLength=40"`
	Email          Nullable       `json:"email,omitzero" jsonschema:"New primary e-mail; null clears it." schema:"maxLength=100"`
	SecondaryEmail Nullable       `json:"secondaryEmail,omitzero" jsonschema:"New secondary e-mail; null clears it." schema:"maxLength=100"`
	Phone          Nullable       `json:"phone,omitzero" jsonschema:"New phone number; null clears it." schema:"maxLength=50"`
	Mobile         Nullable       `json:"mobile,omitzero" jsonschema:"New mobile number; null clears it." schema:"maxLength=50"`
	Title          Nullable       `json:"title,omitzero" jsonschema:"New job title; null clears it." schema:"maxLength=100"`
	Description    Nullable       `json:"description,omitzero" jsonschema:"New notes; null clears them." schema:"maxLength=65535"`
	Type           Nullable       `json:"type,omitzero" jsonschema:"New contact type; null clears it." schema:"maxLength=120"`
	OwnerID        Nullable       `json:"ownerId,omitzero" jsonschema:"New owner (an agent id from list_agents)." schema:"pattern=^[0-9]+$,maxLength=32"`
	AccountID      Nullable       `json:"accountId,omitzero" jsonschema:"Link the contact to this account (search_accounts); null unlinks it." schema:"pattern=^[0-9]+$,maxLength=32"`
	AccountName    string         `json:"accountName,omitempty" jsonschema:"Link the contact to the account with this exact name (instead of accountId)." schema:"maxLength=200"`
	CF             map[string]any `json:"cf,omitempty" jsonschema:"Custom fields to change, by API name (cf_...); null clears one."`
}

// UpdateContactInput is the input of update_contact.
type UpdateContactInput struct {
	OrgRef
	ContactSelector
	Payload UpdateContactPayload `json:"payload" jsonschema:"The fields to change; the others are left as they are."`
	action.WriteOptions
}

// UpdateContactOutput is the updated contact and what changed.
type UpdateContactOutput struct {
	ContactOutput
	UpdatedFields []string `json:"updatedFields" jsonschema:"The fields sent to Zoho Desk."`
}

// ListContactsParams are the paging and sorting of list_contacts.
type ListContactsParams struct {
	Page
	SortBy  string `json:"sortBy,omitempty" jsonschema:"Sort key; prefix - for descending (e.g. -createdTime: newest first)." schema:"enum=firstName|lastName|phone|email|account|createdTime|modifiedTime|-firstName|-lastName|-phone|-email|-account|-createdTime|-modifiedTime"`
	ViewID  string `json:"viewId,omitempty" jsonschema:"Id of a contact view of the Zoho Desk portal (its saved filter)." schema:"pattern=^[0-9]+$,maxLength=32"`
	Include string `json:"include,omitempty" jsonschema:"accounts: embed each contact's account (id, name, website)." schema:"enum=accounts"`
}

// ListContactsInput is the input of list_contacts.
type ListContactsInput struct {
	OrgRef
	Params ListContactsParams `json:"params,omitzero" jsonschema:"Paging, sorting and an optional view."`
	All    bool               `json:"all,omitempty" jsonschema:"Walk every page from params.from until the end (at most 5000 contacts; 'truncated' says when more exist)."`
}

// TrashContactsPayload names the contacts to move to the trash.
type TrashContactsPayload struct {
	ContactIDs []string `json:"contactIds,omitempty" jsonschema:"Ids of the contacts (search_contacts, list_contacts)." schema:"maxItems=200,items.pattern=^[0-9]+$"`
	Emails     []string `json:"emails,omitempty" jsonschema:"Exact primary e-mails; each must belong to exactly one contact." schema:"maxItems=50,items.maxLength=100"`
}

// MoveContactsToTrashInput is the input of move_contacts_to_trash.
type MoveContactsToTrashInput struct {
	OrgRef
	Payload TrashContactsPayload `json:"payload" jsonschema:"The contacts to move to the trash."`
	action.WriteOptions
}

// Describe says what the call would do, for the confirmation error.
func (in *MoveContactsToTrashInput) Describe() string {
	p := in.Payload
	var parts []string
	if len(p.ContactIDs) > 0 {
		parts = append(parts, "ids "+strings.Join(p.ContactIDs, ", "))
	}
	if len(p.Emails) > 0 {
		parts = append(parts, "e-mails "+strings.Join(p.Emails, ", "))
	}
	return "move " + itoa(len(p.ContactIDs)+len(p.Emails)) + " contact(s) (" + strings.Join(parts, "; ") + ") to the Recycle Bin"
}

// MoveContactsToTrashOutput says which contacts were moved.
type MoveContactsToTrashOutput struct {
	Success bool     `json:"success" jsonschema:"True when every contact was moved."`
	Moved   []string `json:"moved" jsonschema:"Ids of the contacts moved to the trash."`
	MovedAt string   `json:"movedAt" jsonschema:"When (ISO 8601)."`
}

// ContactTicketsParams are the paging and filters of list_contact_tickets.
type ContactTicketsParams struct {
	Page
	SortBy       string `json:"sortBy,omitempty" jsonschema:"Sort key; prefix - for descending. Default: Zoho's order (newest first)." schema:"enum=createdTime|modifiedTime|-createdTime|-modifiedTime"`
	DepartmentID string `json:"departmentId,omitempty" jsonschema:"Only tickets of this department (list_departments)." schema:"pattern=^[0-9]+$,maxLength=32"`
}

// ListContactTicketsInput is the input of list_contact_tickets.
type ListContactTicketsInput struct {
	OrgRef
	ContactSelector
	Params ContactTicketsParams `json:"params,omitzero" jsonschema:"Paging, sorting and filters."`
}

func contactActions(deps Deps) []*action.Action {
	ro := action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}
	return []*action.Action{
		action.Define("create_contact", action.Info{
			Title:       "Create contact",
			Description: "Creates a contact (customer). accountId: search_accounts. An existing e-mail answers conflict unless ifExists says otherwise.",
			Toolset:     "customers",
			Hints:       action.Hints{OpenWorld: true}, Write: true, ZohoFieldPrefix: "/payload", Scopes: contactsCreate, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in CreateContactInput) (ContactOutput, error) {
			return createContact(ctx, call, in)
		}),
		action.Define("get_contact", action.Info{
			Title:       "Get contact",
			Description: "Returns one contact whole, by contactId (search_contacts) or exact primary email. Use it to learn who raised a ticket.",
			Toolset:     "customers",
			Hints:       ro, Scopes: contactsRead, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in GetContactInput) (ContactOutput, error) {
			if err := invalid(in.ContactSelector.check()); err != nil {
				return ContactOutput{}, err
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ContactOutput{}, err
			}
			id, err := resolveContact(ctx, call, org, in.ContactSelector)
			if err != nil {
				return ContactOutput{}, err
			}
			c, _, err := call.Desk.Contacts.Get(ctx, org, id, nil)
			if err != nil {
				return ContactOutput{}, contactNotFound(err, id)
			}
			return contactOutput(c), nil
		}),
		action.Define("update_contact", action.Info{
			Title:       "Update contact",
			Description: "Changes the payload fields of a contact (null clears one), including its account (accountId: search_accounts). contactId: search_contacts.",
			Toolset:     "customers",
			Hints:       action.Hints{Idempotent: true, OpenWorld: true}, Write: true, ZohoFieldPrefix: "/payload", Scopes: contactsUpdate, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in UpdateContactInput) (UpdateContactOutput, error) {
			return updateContact(ctx, call, in)
		}),
		action.Define("list_contacts", action.Info{
			Title:       "List contacts",
			Description: "Lists contacts a page at a time, sorted by params.sortBy; all: true walks every page. To find one use search_contacts.",
			Toolset:     "customers",
			Hints:       ro, Scopes: []string{"Desk.contacts.READ"}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListContactsInput) (ListOutput, error) {
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			p := in.Params
			limit := pageLimit(p.Limit, zohodesk.MaxLimitContacts)
			opts := &zohodesk.ContactListOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit}, SortBy: p.SortBy, ViewID: p.ViewID, Include: p.Include,
			}
			if in.All {
				return listAllContacts(ctx, call, org, opts)
			}
			items, _, err := call.Desk.Contacts.List(ctx, org, opts)
			if err != nil {
				return ListOutput{}, err
			}
			return pageOf(items, func(c *zohodesk.Contact) json.RawMessage { return c.Raw }, p.From, limit), nil
		}),
		action.Define("move_contacts_to_trash", action.Info{
			Title:       "Move contacts to trash",
			Description: "Moves contacts to the recycle bin (restorable), by contactIds (search_contacts) or exact e-mails. Needs confirm: true by default.",
			Toolset:     "customers",
			Hints:       action.Hints{Destructive: true, Idempotent: true, OpenWorld: true}, Write: true, ZohoFieldPrefix: "/payload", Scopes: contactsDelete, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in MoveContactsToTrashInput) (MoveContactsToTrashOutput, error) {
			return moveContactsToTrash(ctx, deps, call, in)
		}),
		action.Define("list_contact_tickets", action.Info{
			Title:       "List contact's tickets",
			Description: "Lists the tickets a contact raised, newest first, as compact rows. contactId: search_contacts (or an exact email).",
			Toolset:     "customers",
			Hints:       ro, Scopes: []string{"Desk.contacts.READ", "Desk.tickets.READ", "Desk.search.READ"}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListContactTicketsInput) (ListOutput, error) {
			if err := invalid(in.ContactSelector.check()); err != nil {
				return ListOutput{}, err
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			id, err := resolveContact(ctx, call, org, in.ContactSelector)
			if err != nil {
				return ListOutput{}, err
			}
			p := in.Params
			limit := pageLimit(p.Limit, zohodesk.MaxLimitContactTickets)
			// No sortBy by default: Zoho's enum for this endpoint lists only
			// ascending keys (OAS-Ticket); its default order is [GAP],
			// newest first in the emulator.
			items, _, err := call.Desk.Contacts.ListTickets(ctx, org, id, &zohodesk.ContactTicketsOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit}, SortBy: p.SortBy, DepartmentID: p.DepartmentID,
			})
			if err != nil {
				return ListOutput{}, contactNotFound(err, id)
			}
			return pageOf(items, func(t *zohodesk.Ticket) json.RawMessage { return project(t.Raw, compactKeys) }, p.From, limit), nil
		}),
	}
}

// listAllContacts walks pages of the maximum size from opts.From until a
// short page or maxListAll contacts.
func listAllContacts(ctx context.Context, call *action.Call, org string, opts *zohodesk.ContactListOptions) (ListOutput, error) {
	out := ListOutput{Data: []json.RawMessage{}, From: opts.From, Limit: zohodesk.MaxLimitContacts}
	opts.Limit = zohodesk.MaxLimitContacts
	for c, err := range call.Desk.Contacts.ListAll(ctx, org, opts) {
		if err != nil {
			return ListOutput{}, err
		}
		if len(out.Data) == maxListAll {
			out.HasMore, out.Truncated = true, true
			next := opts.From + maxListAll
			out.NextFrom = &next
			break
		}
		out.Data = append(out.Data, c.Raw)
	}
	out.Count = len(out.Data)
	return out, nil
}

// plainEmail reports whether s is one e-mail address without Zoho's search
// operators (*, a comma, ${...}), so that it can be looked up exactly.
func plainEmail(s string) bool {
	return looksLikeEmail(s) && !strings.ContainsAny(s, "*,") && !strings.Contains(s, "${")
}

// newestContactsRead is how many of the newest contacts a by-e-mail lookup
// reads besides searching: Zoho's search index lags behind writes, so a
// contact created moments ago (a retried create, say) is found only by the
// list. [I] Zoho documents no indexing delay; one page of 100 covers the
// creates of the last moments.
const newestContactsRead = zohodesk.MaxLimitContacts

// contactsByEmail returns the live contacts whose primary e-mail is email
// (any case), newest first: search hits and exact matches among the
// newest contacts, without duplicates.
func contactsByEmail(ctx context.Context, call *action.Call, org, email string) ([]*zohodesk.Contact, error) {
	found, err := call.Desk.Contacts.FindByEmail(ctx, org, email)
	if err != nil {
		return nil, err
	}
	newest, _, err := call.Desk.Contacts.List(ctx, org, &zohodesk.ContactListOptions{
		ListOptions: zohodesk.ListOptions{Limit: newestContactsRead}, SortBy: "-createdTime",
	})
	if err != nil {
		return nil, err
	}
	for _, c := range newest {
		if strings.EqualFold(c.Email, email) && !slices.ContainsFunc(found, func(f *zohodesk.Contact) bool { return f.ID == c.ID }) {
			found = append(found, c)
		}
	}
	slices.SortStableFunc(found, func(a, b *zohodesk.Contact) int { return strings.Compare(b.CreatedTime, a.CreatedTime) })
	return found, nil
}

func contactCandidates(cs []*zohodesk.Contact) []deskconn.Candidate {
	out := make([]deskconn.Candidate, 0, len(cs))
	for _, c := range cs {
		out = append(out, deskconn.Candidate{ID: c.ID, Label: strings.TrimSpace(c.FirstName+" "+c.LastName) + " <" + c.Email + ">", Details: "created " + c.CreatedTime})
	}
	return out
}

// resolveContact returns the id a selector names; an e-mail must match
// exactly one contact.
func resolveContact(ctx context.Context, call *action.Call, org string, s ContactSelector) (string, error) {
	if s.ContactID != "" {
		return s.ContactID, nil
	}
	email := strings.TrimSpace(s.Email)
	cs, err := contactsByEmail(ctx, call, org, email)
	if err != nil {
		return "", err
	}
	switch len(cs) {
	case 0:
		return "", &deskconn.Error{Code: deskconn.CodeNotFound,
			Message: "no contact has the e-mail " + quote(email) + "; find contacts with search_contacts or list_contacts",
			Fields:  []deskconn.FieldError{{Pointer: "/email", Code: "invalid", Message: "matches no contact"}}}
	case 1:
		return cs[0].ID, nil
	}
	return "", &deskconn.Error{Code: deskconn.CodeAmbiguous,
		Message:    itoa(len(cs)) + " contacts have the e-mail " + quote(email) + "; choose one and send its contactId",
		Fields:     []deskconn.FieldError{{Pointer: "/email", Code: "invalid", Message: "matches several contacts"}},
		Candidates: contactCandidates(cs)}
}

// contactNotFound turns a 404 for a contact into not_found naming it.
func contactNotFound(err error, id string) error {
	if !errors.Is(err, zohodesk.ErrNotFound) {
		return err
	}
	return &deskconn.Error{Code: deskconn.CodeNotFound, Err: err,
		Message: "no contact has id " + id + " (or it is in the trash); find contacts with search_contacts or list_contacts",
		Fields:  []deskconn.FieldError{{Pointer: "/contactId", Code: "invalid", Message: "no such contact"}}}
}

func createContact(ctx context.Context, call *action.Call, in CreateContactInput) (ContactOutput, error) {
	p := in.Payload
	var errs []deskconn.FieldError
	if strings.TrimSpace(p.LastName) == "" {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/lastName", Code: "missing", Message: "give the contact's last name"})
	}
	if p.Email != "" && !plainEmail(p.Email) {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/email", Code: "invalid", Message: "must be one e-mail address like name@example.com (no wildcards or lists)"})
	}
	if p.AccountID != "" && p.AccountName != "" {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/accountId", Code: "invalid", Message: "give only one of accountId and accountName"})
	}
	if err := invalid(errs); err != nil {
		return ContactOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return ContactOutput{}, err
	}
	accountID := p.AccountID
	if p.AccountName != "" {
		if accountID, err = resolveAccount(ctx, call, org, AccountSelector{AccountName: p.AccountName}, "/payload/accountName"); err != nil {
			return ContactOutput{}, err
		}
	}
	if p.Email != "" && in.IfExists != "create" {
		existing, err := contactsByEmail(ctx, call, org, strings.TrimSpace(p.Email))
		if err != nil {
			return ContactOutput{}, err
		}
		if len(existing) > 0 {
			if in.IfExists == "return" {
				out := contactOutput(existing[0])
				out.Existing = true
				call.SetDetail("contact " + existing[0].ID + " exists with e-mail " + p.Email + "; returned it")
				return out, nil
			}
			return ContactOutput{}, &deskconn.Error{Code: deskconn.CodeConflict,
				Message:    "a contact with the e-mail " + quote(p.Email) + " already exists (id " + existing[0].ID + "); use it, or send ifExists: return to get it back, or ifExists: create to add another contact with this e-mail",
				Fields:     []deskconn.FieldError{{Pointer: "/payload/email", Code: "duplicate", Message: "belongs to contact " + existing[0].ID}},
				Candidates: contactCandidates(existing)}
		}
	}
	req := &zohodesk.ContactCreateRequest{
		LastName: p.LastName, FirstName: p.FirstName, Email: p.Email, SecondaryEmail: p.SecondaryEmail,
		Phone: p.Phone, Mobile: p.Mobile, AccountID: accountID, Title: p.Title, Description: p.Description,
		Type: p.Type, OwnerID: p.OwnerID, CF: p.CF,
	}
	if call.DryRun {
		return ContactOutput{}, call.Plan(action.PlannedRequest{Method: "POST", Path: "/contacts", Header: orgHeader(org), Body: req})
	}
	c, resp, err := call.Desk.Contacts.Create(ctx, org, req)
	if resp != nil {
		call.SetRequestID(resp.RequestID)
	}
	if err != nil {
		return ContactOutput{}, err
	}
	call.SetDetail("contact " + c.ID + " created")
	call.Created("contact", c.ID, c.ModifiedTime)
	return contactOutput(c), nil
}

func updateContact(ctx context.Context, call *action.Call, in UpdateContactInput) (UpdateContactOutput, error) {
	p := in.Payload
	errs := in.ContactSelector.check()
	body := map[string]Nullable{
		"lastName": p.LastName, "firstName": p.FirstName, "email": p.Email, "secondaryEmail": p.SecondaryEmail,
		"phone": p.Phone, "mobile": p.Mobile, "title": p.Title, "description": p.Description, "type": p.Type,
		"ownerId": p.OwnerID, "accountId": p.AccountID,
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
	if p.AccountName != "" {
		fields = append(fields, "accountId")
	}
	slices.Sort(fields)
	switch {
	case len(fields) == 0:
		errs = append(errs, deskconn.FieldError{Pointer: "/payload", Code: "missing", Message: "give at least one field to change"})
	case p.LastName.Set && (p.LastName.Null || strings.TrimSpace(p.LastName.Value) == ""):
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/lastName", Code: "invalid", Message: "cannot be cleared; give the new last name"})
	}
	if p.AccountName != "" && p.AccountID.Set {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/accountId", Code: "invalid", Message: "give only one of accountId and accountName"})
	}
	if p.Email.Set && !p.Email.Null && !looksLikeEmail(p.Email.Value) {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/email", Code: "invalid", Message: "must be an e-mail address like name@example.com"})
	}
	if err := invalid(errs); err != nil {
		return UpdateContactOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return UpdateContactOutput{}, err
	}
	req := &zohodesk.ContactUpdateRequest{
		LastName: optional(p.LastName), FirstName: optional(p.FirstName), Email: optional(p.Email),
		SecondaryEmail: optional(p.SecondaryEmail), Phone: optional(p.Phone), Mobile: optional(p.Mobile),
		Title: optional(p.Title), Description: optional(p.Description), Type: optional(p.Type),
		OwnerID: optional(p.OwnerID), AccountID: optional(p.AccountID), CF: p.CF,
	}
	if p.AccountName != "" {
		acct, err := resolveAccount(ctx, call, org, AccountSelector{AccountName: p.AccountName}, "/payload/accountName")
		if err != nil {
			return UpdateContactOutput{}, err
		}
		req.AccountID = zohodesk.Set(acct)
	}
	id, err := resolveContact(ctx, call, org, in.ContactSelector)
	if err != nil {
		return UpdateContactOutput{}, err
	}
	if call.DryRun {
		return UpdateContactOutput{}, call.Plan(action.PlannedRequest{Method: "PATCH", Path: "/contacts/" + id, Header: orgHeader(org), Body: req})
	}
	c, resp, err := call.Desk.Contacts.Update(ctx, org, id, req)
	if resp != nil {
		call.SetRequestID(resp.RequestID)
	}
	if err != nil {
		return UpdateContactOutput{}, contactNotFound(err, id)
	}
	call.SetDetail("contact " + c.ID + " updated")
	call.Updated("contact", c.ID, c.ModifiedTime)
	return UpdateContactOutput{ContactOutput: contactOutput(c), UpdatedFields: fields}, nil
}

// contactTrashBatch is how many ids one moveToTrash call carries. [GAP]
// Zoho documents no maximum; the ticket batch size is used.
const contactTrashBatch = trashBatch

func moveContactsToTrash(ctx context.Context, deps Deps, call *action.Call, in MoveContactsToTrashInput) (MoveContactsToTrashOutput, error) {
	p := in.Payload
	var errs []deskconn.FieldError
	if len(p.ContactIDs)+len(p.Emails) == 0 {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/contactIds", Code: "missing", Message: "give at least one contact: contactIds or emails"})
	}
	errs = append(errs, checkIDs("/payload/contactIds", p.ContactIDs)...)
	for i, e := range p.Emails {
		if !plainEmail(e) {
			errs = append(errs, deskconn.FieldError{Pointer: "/payload/emails/" + itoa(i), Code: "invalid", Message: "must be an e-mail address like name@example.com"})
		}
	}
	if err := invalid(errs); err != nil {
		return MoveContactsToTrashOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return MoveContactsToTrashOutput{}, err
	}
	var ids []string
	for _, id := range p.ContactIDs {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for i, e := range p.Emails {
		id, err := resolveContact(ctx, call, org, ContactSelector{Email: e})
		if err != nil {
			return MoveContactsToTrashOutput{}, repoint(err, "/payload/emails/"+itoa(i))
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if call.DryRun {
		var plan []action.PlannedRequest
		for b := range slices.Chunk(ids, contactTrashBatch) {
			plan = append(plan, action.PlannedRequest{Method: "POST", Path: "/contacts/moveToTrash", Header: orgHeader(org), Body: map[string]any{"contactIds": b}})
		}
		return MoveContactsToTrashOutput{}, call.Plan(plan...)
	}
	out := MoveContactsToTrashOutput{Moved: []string{}}
	for b := range slices.Chunk(ids, contactTrashBatch) {
		resp, err := call.Desk.Contacts.MoveToTrash(ctx, org, b)
		if resp != nil {
			call.SetRequestID(resp.RequestID)
		}
		if err != nil {
			if len(out.Moved) > 0 {
				call.SetDetail(itoa(len(out.Moved)) + " contact(s) moved to trash before an error")
			}
			return MoveContactsToTrashOutput{}, repointIDs(err, p.ContactIDs)
		}
		out.Moved = append(out.Moved, b...)
	}
	out.Success = true
	out.MovedAt = deps.now().Format(time.RFC3339Nano)
	call.SetDetail(itoa(len(out.Moved)) + " contact(s) moved to trash")
	return out, nil
}

// repointIDs names Zoho's "/contactIds/N" field errors in the input's
// terms when the ids were given directly; other errors pass through.
func repointIDs(err error, given []string) error {
	var ae *zohodesk.APIError
	if !errors.As(err, &ae) || !errors.Is(err, zohodesk.ErrInvalid) || len(given) == 0 {
		return err
	}
	return &deskconn.Error{Code: deskconn.CodeInvalid, Err: err,
		Message: "Zoho Desk refused the contacts: an id is unknown or already in the trash; check them with get_contact",
		Fields:  []deskconn.FieldError{{Pointer: "/payload/contactIds", Code: "invalid", Message: "contains an unknown or trashed contact"}}}
}
