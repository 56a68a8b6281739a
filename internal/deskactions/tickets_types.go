package deskactions

import (
	"encoding/json"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

// TicketSelector picks one ticket: by id, by number, or by exact subject.
type TicketSelector struct {
	TicketID      string `json:"ticketId,omitempty" jsonschema:"Id of the ticket (digits, e.g. \"1892000000042032\"). Give exactly one of ticketId, ticketNumber or ticketSubject; ids come from list_tickets or search_tickets." schema:"pattern=^[0-9]+$,maxLength=32"`
	TicketNumber  string `json:"ticketNumber,omitempty" jsonschema:"The ticket number shown to people (e.g. \"101\"), instead of ticketId." schema:"pattern=^[0-9]+$,maxLength=32"`
	TicketSubject string `json:"ticketSubject,omitempty" jsonschema:"The ticket's exact subject (case-insensitive), instead of ticketId (at least 3 characters: Zoho's search minimum). If several tickets have this subject the action fails with the candidates; retry with one of their ids." schema:"minLength=3,maxLength=255"`
}

// pointer is the JSON Pointer of the field that selected the ticket.
func (s TicketSelector) pointer() string {
	switch {
	case s.TicketID != "":
		return "/ticketId"
	case s.TicketNumber != "":
		return "/ticketNumber"
	case s.TicketSubject != "":
		return "/ticketSubject"
	}
	return "/ticketId"
}

// check reports a selector that names no ticket or more than one way.
func (s TicketSelector) check() []deskconn.FieldError {
	return checkOneOf("the ticket", "find ids with search_tickets or list_tickets",
		selectorField{"ticketId", s.TicketID}, selectorField{"ticketNumber", s.TicketNumber}, selectorField{"ticketSubject", s.TicketSubject})
}

// ContactInput describes the contact of a new ticket when no contactId is
// given. Zoho uses an existing contact with the same email, or creates one.
type ContactInput struct {
	LastName  string `json:"lastName,omitempty" jsonschema:"Last name of the contact (required when email is not given)." schema:"maxLength=80"`
	FirstName string `json:"firstName,omitempty" jsonschema:"First name of the contact." schema:"maxLength=40"`
	Email     string `json:"email,omitempty" jsonschema:"Email of the contact (the 'Contact's Email'); an existing contact with this email is reused." schema:"maxLength=100"`
	Phone     string `json:"phone,omitempty" jsonschema:"Phone number of the contact." schema:"maxLength=50"`
	Mobile    string `json:"mobile,omitempty" jsonschema:"Mobile number of the contact." schema:"maxLength=50"`
}

// CreateTicketPayload is the body of a new ticket, in Zoho's field names.
type CreateTicketPayload struct {
	Subject           string         `json:"subject" jsonschema:"Title of the ticket." schema:"minLength=1,maxLength=255"`
	DepartmentID      string         `json:"departmentId" jsonschema:"Id of the department the ticket belongs to; list them with list_departments." schema:"pattern=^[0-9]+$,maxLength=32"`
	ContactID         string         `json:"contactId,omitempty" jsonschema:"Id of an existing contact (find it with search_contacts). Give contactId or contact." schema:"pattern=^[0-9]+$,maxLength=32"`
	Contact           *ContactInput  `json:"contact,omitempty" jsonschema:"A contact to use or create when there is no contactId: at least lastName or email."`
	ProductID         string         `json:"productId,omitempty" jsonschema:"Id of the product the ticket is about; list them with list_products." schema:"pattern=^[0-9]+$,maxLength=32"`
	Uploads           []UploadRef    `json:"uploads,omitempty" jsonschema:"Files to attach: ids of files already uploaded, or {fileName, fileData} objects (fileData is an http(s) URL or base64), which are uploaded first." schema:"maxItems=10"`
	Email             string         `json:"email,omitempty" jsonschema:"Email address recorded on the ticket." schema:"maxLength=150"`
	Phone             string         `json:"phone,omitempty" jsonschema:"Phone number recorded on the ticket." schema:"maxLength=120"`
	Description       string         `json:"description,omitempty" jsonschema:"Description of the problem; HTML is allowed." schema:"maxLength=65535"`
	Status            string         `json:"status,omitempty" jsonschema:"Status name: Open, On Hold, Escalated, Closed, or a custom status of the help desk. Default: the department's default (Open)." schema:"minLength=1,maxLength=120"`
	AssigneeID        string         `json:"assigneeId,omitempty" jsonschema:"Id of the agent to assign; find it with list_agents or find_agent_by_email." schema:"pattern=^[0-9]+$,maxLength=32"`
	Category          string         `json:"category,omitempty" jsonschema:"Category of the ticket (a picklist value of the help desk)." schema:"maxLength=300"`
	SubCategory       string         `json:"subCategory,omitempty" jsonschema:"Sub category of the ticket (a picklist value of the help desk)." schema:"maxLength=300"`
	Resolution        string         `json:"resolution,omitempty" jsonschema:"Resolution notes." schema:"maxLength=65535"`
	DueDate           string         `json:"dueDate,omitempty" jsonschema:"Due date for resolving the ticket, ISO 8601 (e.g. 2026-12-31T17:00:00.000Z)." schema:"format=date-time"`
	Priority          string         `json:"priority,omitempty" jsonschema:"Priority: High, Medium, Low, or a custom priority of the help desk." schema:"minLength=1,maxLength=120"`
	Language          string         `json:"language,omitempty" jsonschema:"Language of the ticket (e.g. English)." schema:"maxLength=100"`
	Channel           string         `json:"channel,omitempty" jsonschema:"Channel the ticket came from: Email, Phone, Web, Chat, Twitter, Facebook, Forums, or a custom channel." schema:"minLength=1,maxLength=120"`
	Classification    string         `json:"classification,omitempty" jsonschema:"Type of ticket: Problem, Request, Question, Others, or a custom value of the help desk." schema:"maxLength=300"`
	WebURL            string         `json:"webUrl,omitempty" jsonschema:"URL of the resource the ticket is about." schema:"format=uri"`
	TeamID            string         `json:"teamId,omitempty" jsonschema:"Id of the team to assign; list them with list_teams." schema:"pattern=^[0-9]+$,maxLength=32"`
	SecondaryContacts StringList     `json:"secondaryContacts,omitempty" jsonschema:"Ids of secondary (CC) contacts, as an array or a comma-separated string; find them with search_contacts." schema:"maxItems=20"`
	EntitySkills      StringList     `json:"entitySkills,omitempty" jsonschema:"Skill ids for skill-based assignment, highest priority first, as an array or a comma-separated string." schema:"maxItems=10"`
	CF                map[string]any `json:"cf,omitempty" jsonschema:"Custom fields by API name, e.g. {\"cf_model\": \"F3\"}."`
}

// CreateTicketInput is the input of create_ticket.
type CreateTicketInput struct {
	OrgRef
	Payload CreateTicketPayload `json:"payload" jsonschema:"The ticket to create, in Zoho's field names."`
	action.WriteOptions
}

func (in *CreateTicketInput) check() []deskconn.FieldError {
	var errs []deskconn.FieldError
	p := in.Payload
	if strings.TrimSpace(p.Subject) == "" {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/subject", Code: "missing", Message: "give the ticket's subject"})
	}
	if p.DepartmentID == "" {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/departmentId", Code: "missing", Message: "give the department id (list_departments)"})
	}
	switch {
	case p.ContactID == "" && p.Contact == nil:
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/contactId", Code: "missing", Message: "give contactId (an existing contact, see search_contacts) or contact {lastName or email} for a new one"})
	case p.ContactID != "" && p.Contact != nil:
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/contact", Code: "invalid", Message: "give either contactId or contact, not both"})
	case p.Contact != nil && strings.TrimSpace(p.Contact.LastName) == "" && strings.TrimSpace(p.Contact.Email) == "":
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/contact/lastName", Code: "missing", Message: "a new contact needs lastName or email"})
	}
	if p.Contact != nil && p.Contact.Email != "" && !looksLikeEmail(p.Contact.Email) {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/contact/email", Code: "invalid", Message: "must be an email address"})
	}
	errs = append(errs, checkUploads("/payload/uploads", p.Uploads)...)
	errs = append(errs, checkIDs("/payload/secondaryContacts", p.SecondaryContacts)...)
	errs = append(errs, checkIDs("/payload/entitySkills", p.EntitySkills)...)
	return errs
}

func checkUploads(at string, ups []UploadRef) []deskconn.FieldError {
	var errs []deskconn.FieldError
	for i, u := range ups {
		p := at + "/" + itoa(i)
		switch {
		case u.File == nil && strings.TrimSpace(u.ID) == "":
			errs = append(errs, deskconn.FieldError{Pointer: p, Code: "invalid", Message: "give an upload id or {fileName, fileData}"})
		case u.File != nil && strings.TrimSpace(u.File.FileName) == "":
			errs = append(errs, deskconn.FieldError{Pointer: p + "/fileName", Code: "missing", Message: "give the file's name"})
		case u.File != nil && strings.TrimSpace(u.File.FileData) == "":
			errs = append(errs, deskconn.FieldError{Pointer: p + "/fileData", Code: "missing", Message: "give the file as an http(s) URL or base64"})
		}
	}
	return errs
}

// checkIDs reports items that are not Zoho ids (digits).
func checkIDs(at string, ids []string) []deskconn.FieldError {
	var errs []deskconn.FieldError
	for i, id := range ids {
		if !isID(id) {
			errs = append(errs, deskconn.FieldError{Pointer: at + "/" + itoa(i), Code: "invalid", Message: "must be a Zoho id (digits)"})
		}
	}
	return errs
}

// CreateTicketOutput is the result of create_ticket: the spec's promised
// fields at the top, and Zoho's ticket whole.
type CreateTicketOutput struct {
	ID           string          `json:"id" jsonschema:"Id of the new ticket."`
	TicketNumber string          `json:"ticketNumber" jsonschema:"Ticket number shown to people."`
	WebURL       string          `json:"webUrl,omitempty" jsonschema:"Link to the ticket in Zoho Desk."`
	CreatedTime  string          `json:"createdTime,omitempty" jsonschema:"When the ticket was created (ISO 8601)."`
	AssigneeID   string          `json:"assigneeId,omitempty" jsonschema:"Id of the assigned agent, if any."`
	Assignee     json.RawMessage `json:"assignee,omitempty" jsonschema:"The assigned agent, if any."`
	UploadIDs    []string        `json:"uploadIds,omitempty" jsonschema:"Ids of the files attached to the ticket."`
	Ticket       json.RawMessage `json:"ticket" jsonschema:"The ticket as Zoho Desk returned it."`
}

// TicketListParams are the query parameters of list_tickets, in Zoho's names.
type TicketListParams struct {
	From           int        `json:"from,omitempty" jsonschema:"Index of the first ticket to return, from 0. Use nextFrom of the previous page." schema:"minimum=0,maximum=100000"`
	Limit          int        `json:"limit,omitempty" jsonschema:"Maximum number of tickets per page, 1-100 (default 25)." schema:"minimum=1,maximum=100"`
	DepartmentID   string     `json:"departmentId,omitempty" jsonschema:"Only tickets of this department (list_departments). Default: all departments you can see." schema:"pattern=^[0-9]+$,maxLength=32"`
	TeamIDs        StringList `json:"teamIds,omitempty" jsonschema:"Only tickets of these teams (list_teams), or 'Unassigned'." schema:"maxItems=50"`
	Assignee       StringList `json:"assignee,omitempty" jsonschema:"Only tickets assigned to these agent ids (list_agents), or 'Unassigned' for unassigned tickets." schema:"maxItems=50"`
	Channel        StringList `json:"channel,omitempty" jsonschema:"Only tickets from these channels (e.g. Email, Phone, Web, Chat)." schema:"maxItems=20"`
	Status         StringList `json:"status,omitempty" jsonschema:"Only tickets with these statuses (e.g. Open, On Hold, Escalated, Closed, or custom)." schema:"maxItems=20"`
	SortBy         string     `json:"sortBy,omitempty" jsonschema:"Sort key; prefix with - (or use sortOrder) for descending." schema:"enum=dueDate|createdTime|recentThread|responseDueDate|customerResponseTime|ticketNumber|-dueDate|-createdTime|-recentThread|-responseDueDate|-customerResponseTime|-ticketNumber"`
	ReceivedInDays int        `json:"receivedInDays,omitempty" jsonschema:"Only tickets with a customer response in the last 15, 30 or 90 days." schema:"enum=15|30|90"`
	Include        StringList `json:"include,omitempty" jsonschema:"Related objects to embed: contacts, products, departments, team, assignee." schema:"items.enum=contacts|products|departments|team|assignee"`
	Fields         StringList `json:"fields,omitempty" jsonschema:"Only return these fields (API names, standard or custom), at most 30." schema:"maxItems=30"`
	Priority       StringList `json:"priority,omitempty" jsonschema:"Only tickets with these priorities (e.g. High, Medium, Low)." schema:"maxItems=20"`
}

// ListTicketsInput is the input of list_tickets.
type ListTicketsInput struct {
	OrgRef
	Params    TicketListParams `json:"params,omitzero" jsonschema:"Filters, paging and sorting, in Zoho's parameter names."`
	SortOrder string           `json:"sortOrder,omitempty" jsonschema:"Sort direction of sortBy (default createdTime): \"-\" or \"desc\" for descending (newest first), \"\" or \"asc\" for ascending (oldest first, the default)." schema:"enum=-||asc|desc"`
	All       bool             `json:"all,omitempty" jsonschema:"Walk every page from 'from' until the end (at most 5000 tickets, the first 5000 of the order: oldest ascending, newest descending; 'truncated' says when more exist). Rows are de-duplicated by id and 'walk' says how the walk was done."`
	View      string           `json:"view,omitempty" jsonschema:"compact (default): the main fields of each ticket; full: every field Zoho returns." schema:"enum=compact|full"`
}

// ListOutput is a page (or, with all, several pages) of Zoho objects.
type ListOutput struct {
	Data      []json.RawMessage `json:"data" jsonschema:"The objects, as Zoho Desk returned them (compact rows unless view is full)."`
	From      int               `json:"from" jsonschema:"Index of the first object returned."`
	Limit     int               `json:"limit" jsonschema:"Page size used."`
	Count     int               `json:"count" jsonschema:"Number of objects returned."`
	HasMore   bool              `json:"hasMore" jsonschema:"Whether more objects may exist after these."`
	NextFrom  *int              `json:"nextFrom,omitempty" jsonschema:"Pass as params.from to get the next page (absent when hasMore is false)."`
	Truncated bool              `json:"truncated,omitempty" jsonschema:"With all: true, the hard cap was reached and more objects exist."`
	Walk      *ListWalk         `json:"walk,omitempty" jsonschema:"With all: true (list_tickets), the order walked, whether pages were fetched in parallel, duplicate rows dropped, and what that guarantees."`
}

// ListWalk says how list_tickets with all: true walked the pages.
type ListWalk struct {
	Order             string `json:"order" jsonschema:"The sortBy sent to Zoho on every page, e.g. createdTime (oldest first) or -createdTime (newest first)."`
	Parallel          bool   `json:"parallel" jsonschema:"Whether pages were fetched several at a time: only in an order that tickets created during the walk cannot shift (createdTime or ticketNumber ascending: new tickets come last)."`
	DuplicatesDropped int    `json:"duplicatesDropped" jsonschema:"Rows dropped because a ticket with the same id was already returned (tickets created or changed during the walk shift later rows)."`
	Note              string `json:"note" jsonschema:"What the walk guarantees in this order."`
}

// GetTicketParams are the query parameters of get_ticket.
type GetTicketParams struct {
	Include StringList `json:"include,omitempty" jsonschema:"Related objects to embed: contacts, products, assignee, departments, contract, isRead, team, skills." schema:"items.enum=contacts|products|assignee|departments|contract|isRead|team|skills"`
}

// GetTicketInput is the input of get_ticket.
type GetTicketInput struct {
	OrgRef
	TicketSelector
	Params GetTicketParams `json:"params,omitzero" jsonschema:"Optional query parameters."`
	// LatestConversations adds the newest items of the conversation
	// (conversations.go), so one call answers "what is this ticket about".
	LatestConversations int `json:"latestConversations,omitempty" jsonschema:"Also return this many of the newest conversation items (messages and comments as plain text, see list_ticket_conversations), 1-20." schema:"minimum=0,maximum=20"`
}

// GetTicketOutput is get_ticket's answer: the ticket and, when asked, the
// newest items of its conversation.
type GetTicketOutput struct {
	TicketOutput
	Conversation []ConversationEntry `json:"conversation,omitempty" jsonschema:"With latestConversations: the newest messages and comments, newest first."`
}

// TicketOutput is one ticket: promised fields at the top and Zoho's ticket
// whole.
type TicketOutput struct {
	ID              string          `json:"id" jsonschema:"Id of the ticket."`
	TicketNumber    string          `json:"ticketNumber" jsonschema:"Ticket number shown to people."`
	Subject         string          `json:"subject" jsonschema:"Subject of the ticket."`
	Status          string          `json:"status,omitempty" jsonschema:"Status of the ticket."`
	WebURL          string          `json:"webUrl,omitempty" jsonschema:"Link to the ticket in Zoho Desk."`
	ModifiedTime    string          `json:"modifiedTime,omitempty" jsonschema:"When the ticket was last modified (ISO 8601)."`
	DescriptionText string          `json:"descriptionText,omitempty" jsonschema:"The description as plain text (Zoho's description is HTML)."`
	Ticket          json.RawMessage `json:"ticket" jsonschema:"The ticket as Zoho Desk returned it."`
}

// UpdateTicketPayload is a partial ticket: only the fields present are sent;
// an explicit null clears a field (e.g. "assigneeId": null unassigns).
type UpdateTicketPayload struct {
	Subject           Nullable       `json:"subject,omitzero" jsonschema:"New subject." schema:"maxLength=255"`
	DepartmentID      Nullable       `json:"departmentId,omitzero" jsonschema:"Move to this department (list_departments)." schema:"pattern=^[0-9]+$,maxLength=32"`
	ContactID         Nullable       `json:"contactId,omitzero" jsonschema:"Id of an existing contact (search_contacts)." schema:"pattern=^[0-9]+$,maxLength=32"`
	Contact           *ContactInput  `json:"contact,omitempty" jsonschema:"A contact to use or create instead of contactId: at least lastName or email."`
	ProductID         Nullable       `json:"productId,omitzero" jsonschema:"Id of the product (list_products); null clears it." schema:"pattern=^[0-9]+$,maxLength=32"`
	Uploads           []string       `json:"uploads,omitempty" jsonschema:"Ids of files already uploaded to attach (to attach a new file use create_ticket_attachment)." schema:"maxItems=10,items.pattern=^[0-9]+$"`
	Email             Nullable       `json:"email,omitzero" jsonschema:"Email address recorded on the ticket." schema:"maxLength=150"`
	Phone             Nullable       `json:"phone,omitzero" jsonschema:"Phone number recorded on the ticket." schema:"maxLength=120"`
	Description       Nullable       `json:"description,omitzero" jsonschema:"Description; HTML is allowed." schema:"maxLength=65535"`
	Status            Nullable       `json:"status,omitzero" jsonschema:"Status name: Open, On Hold, Escalated, Closed, or a custom status." schema:"maxLength=120"`
	AssigneeID        Nullable       `json:"assigneeId,omitzero" jsonschema:"Id of the agent to assign (list_agents, find_agent_by_email); null unassigns." schema:"pattern=^[0-9]+$,maxLength=32"`
	Category          Nullable       `json:"category,omitzero" jsonschema:"Category of the ticket." schema:"maxLength=300"`
	SubCategory       Nullable       `json:"subCategory,omitzero" jsonschema:"Sub category of the ticket." schema:"maxLength=300"`
	Resolution        Nullable       `json:"resolution,omitzero" jsonschema:"Resolution notes." schema:"maxLength=65535"`
	DueDate           Nullable       `json:"dueDate,omitzero" jsonschema:"Due date, ISO 8601 (e.g. 2026-12-31T17:00:00.000Z); null clears it." schema:"format=date-time"`
	Priority          Nullable       `json:"priority,omitzero" jsonschema:"Priority: High, Medium, Low, or custom." schema:"maxLength=120"`
	Language          Nullable       `json:"language,omitzero" jsonschema:"Language of the ticket." schema:"maxLength=100"`
	Channel           Nullable       `json:"channel,omitzero" jsonschema:"Channel: Email, Phone, Web, Chat, ... or custom." schema:"maxLength=120"`
	Classification    Nullable       `json:"classification,omitzero" jsonschema:"Type of ticket: Problem, Request, Question, Others, or custom." schema:"maxLength=300"`
	WebURL            Nullable       `json:"webUrl,omitzero" jsonschema:"URL of the resource the ticket is about." schema:"format=uri"`
	TeamID            Nullable       `json:"teamId,omitzero" jsonschema:"Id of the team (list_teams); null clears it." schema:"pattern=^[0-9]+$,maxLength=32"`
	SecondaryContacts StringList     `json:"secondaryContacts,omitempty" jsonschema:"Ids of secondary (CC) contacts." schema:"maxItems=20"`
	EntitySkills      StringList     `json:"entitySkills,omitempty" jsonschema:"Skill ids, highest priority first." schema:"maxItems=10"`
	CF                map[string]any `json:"cf,omitempty" jsonschema:"Custom fields by API name; null values clear them."`
}

// UpdateTicketParams are the query parameters of update_ticket.
type UpdateTicketParams struct {
	DisableClosureNotification bool `json:"disableClosureNotification,omitempty" jsonschema:"true: do not email the contact when this update closes the ticket."`
}

// UpdateTicketInput is the input of update_ticket.
type UpdateTicketInput struct {
	OrgRef
	TicketSelector
	Payload UpdateTicketPayload `json:"payload" jsonschema:"The fields to change, in Zoho's names; only these are sent. null clears a field."`
	Params  UpdateTicketParams  `json:"params,omitzero" jsonschema:"Optional query parameters."`
	action.WriteOptions
}

// body returns the PATCH body: the fields present, with explicit nulls.
func (p *UpdateTicketPayload) body() map[string]any {
	b := map[string]any{}
	for k, v := range map[string]Nullable{
		"subject": p.Subject, "departmentId": p.DepartmentID, "contactId": p.ContactID,
		"productId": p.ProductID, "email": p.Email, "phone": p.Phone, "description": p.Description,
		"status": p.Status, "assigneeId": p.AssigneeID, "category": p.Category, "subCategory": p.SubCategory,
		"resolution": p.Resolution, "dueDate": p.DueDate, "priority": p.Priority, "language": p.Language,
		"channel": p.Channel, "classification": p.Classification, "webUrl": p.WebURL, "teamId": p.TeamID,
	} {
		if v.Set {
			b[k] = v.wireValue()
		}
	}
	if p.Contact != nil {
		b["contact"] = p.Contact
	}
	if p.Uploads != nil {
		b["uploads"] = p.Uploads
	}
	if p.SecondaryContacts != nil {
		b["secondaryContacts"] = []string(p.SecondaryContacts)
	}
	if p.EntitySkills != nil {
		b["entitySkills"] = []string(p.EntitySkills)
	}
	if p.CF != nil {
		b["cf"] = p.CF
	}
	return b
}

func (in *UpdateTicketInput) check() []deskconn.FieldError {
	errs := in.TicketSelector.check()
	if len(in.Payload.body()) == 0 {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload", Code: "missing", Message: "give at least one field to change (e.g. status, assigneeId, priority, resolution)"})
	}
	p := in.Payload
	if p.Subject.Set && strings.TrimSpace(p.Subject.Value) == "" {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/subject", Code: "invalid", Message: "a ticket's subject cannot be empty or null"})
	}
	if p.DepartmentID.Null {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/departmentId", Code: "invalid", Message: "a ticket must have a department; give a department id"})
	}
	if p.Contact != nil && strings.TrimSpace(p.Contact.LastName) == "" && strings.TrimSpace(p.Contact.Email) == "" {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/contact/lastName", Code: "missing", Message: "a new contact needs lastName or email"})
	}
	errs = append(errs, checkIDs("/payload/secondaryContacts", p.SecondaryContacts)...)
	errs = append(errs, checkIDs("/payload/entitySkills", p.EntitySkills)...)
	return errs
}

// UpdateTicketOutput is the result of update_ticket.
type UpdateTicketOutput struct {
	TicketOutput
	UpdatedFields              []string `json:"updatedFields" jsonschema:"The fields sent to Zoho Desk."`
	ClosureNotificationEnabled bool     `json:"closureNotificationEnabled" jsonschema:"Whether Zoho may email the contact about a closure caused by this update (false when disableClosureNotification was set)."`
}

// TrashPayload names the tickets to move to the trash: by id (the spec's
// ticketIds), by number, or by exact subject, in any mix.
type TrashPayload struct {
	TicketIDs      StringList `json:"ticketIds,omitempty" jsonschema:"Ids of the tickets to move to the trash (list_tickets, search_tickets)." schema:"maxItems=500"`
	TicketNumbers  StringList `json:"ticketNumbers,omitempty" jsonschema:"Ticket numbers, instead of or besides ids." schema:"maxItems=500"`
	TicketSubjects []string   `json:"ticketSubjects,omitempty" jsonschema:"Exact ticket subjects (case-insensitive), each of which must match exactly one ticket." schema:"maxItems=50,items.minLength=3,items.maxLength=255"`
}

// MoveTicketsToTrashInput is the input of move_tickets_to_trash.
type MoveTicketsToTrashInput struct {
	OrgRef
	Payload TrashPayload `json:"payload" jsonschema:"The tickets to move to the trash."`
	action.WriteOptions
}

func (in *MoveTicketsToTrashInput) check() []deskconn.FieldError {
	p := in.Payload
	if len(p.TicketIDs)+len(p.TicketNumbers)+len(p.TicketSubjects) == 0 {
		return []deskconn.FieldError{{Pointer: "/payload/ticketIds", Code: "missing", Message: "give at least one ticket: ticketIds, ticketNumbers or ticketSubjects"}}
	}
	errs := checkIDs("/payload/ticketIds", p.TicketIDs)
	errs = append(errs, checkIDs("/payload/ticketNumbers", p.TicketNumbers)...)
	return errs
}

// Describe says what the call would do, for the registry's
// confirmation-required error.
func (in *MoveTicketsToTrashInput) Describe() string {
	p := in.Payload
	var parts []string
	if len(p.TicketIDs) > 0 {
		parts = append(parts, "ids "+strings.Join(p.TicketIDs, ", "))
	}
	if len(p.TicketNumbers) > 0 {
		parts = append(parts, "numbers "+strings.Join(p.TicketNumbers, ", "))
	}
	for _, s := range p.TicketSubjects {
		parts = append(parts, "subject "+quote(s))
	}
	n := len(p.TicketIDs) + len(p.TicketNumbers) + len(p.TicketSubjects)
	return "move " + itoa(n) + " ticket(s) (" + strings.Join(parts, "; ") + ") to the Recycle Bin"
}

// TrashFailure is one ticket that could not be moved to the trash.
type TrashFailure struct {
	TicketID string `json:"ticketId" jsonschema:"Id of the ticket."`
	Code     string `json:"code" jsonschema:"Error code: not_found, invalid, forbidden, unavailable, ..."`
	Message  string `json:"message" jsonschema:"Why it failed."`
}

// MoveTicketsToTrashOutput is the result of move_tickets_to_trash. A partial
// failure is not an error: Moved and Failed say what happened to each ticket.
type MoveTicketsToTrashOutput struct {
	Success bool           `json:"success" jsonschema:"true when every ticket was moved to the trash."`
	Moved   []string       `json:"moved" jsonschema:"Ids of the tickets moved to the trash (restorable from Zoho Desk's recycle bin for 60 days)."`
	Failed  []TrashFailure `json:"failed,omitempty" jsonschema:"Tickets that were not moved, and why."`
	MovedAt string         `json:"movedAt" jsonschema:"When the operation finished (ISO 8601, UTC)."`
}
