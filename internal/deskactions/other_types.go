package deskactions

import (
	"encoding/json"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

// AttachmentParams are the query parameters of create_ticket_attachment.
type AttachmentParams struct {
	IsPublic bool `json:"isPublic,omitempty" jsonschema:"true: the contact can see the attachment in the help center; false (default): only agents."`
}

// CreateTicketAttachmentInput is the input of create_ticket_attachment.
type CreateTicketAttachmentInput struct {
	OrgRef
	TicketSelector
	FileName string           `json:"fileName" jsonschema:"Name of the file as it should appear on the ticket, with its extension (e.g. error_screenshot.png)." schema:"minLength=1,maxLength=255"`
	FileData string           `json:"fileData" jsonschema:"The file: an http(s) URL to fetch it from (public addresses only), or its content in base64, standard or URL-safe, optionally as a data: URL. At most 20 MiB." schema:"minLength=1"`
	Params   AttachmentParams `json:"params,omitzero" jsonschema:"Optional query parameters."`
	action.WriteOptions
}

// AttachmentOutput is one attachment: the spec's fields at the top and Zoho's
// object whole.
type AttachmentOutput struct {
	ID          string          `json:"id" jsonschema:"Id of the attachment."`
	Name        string          `json:"name" jsonschema:"File name."`
	Size        string          `json:"size" jsonschema:"Size in bytes (a string, as Zoho sends it)."`
	CreatedTime string          `json:"createdTime,omitempty" jsonschema:"When it was uploaded (ISO 8601)."`
	IsPublic    bool            `json:"isPublic" jsonschema:"Whether the contact can see it."`
	TicketID    string          `json:"ticketId" jsonschema:"Id of the ticket it is attached to."`
	Attachment  json.RawMessage `json:"attachment" jsonschema:"The attachment as Zoho Desk returned it (href downloads the content with the connection's credentials)."`
}

// AttachmentListParams are the query parameters of list_ticket_attachments.
type AttachmentListParams struct {
	SortBy   string     `json:"sortBy,omitempty" jsonschema:"Sort key: createdTime (prefix - or use sortOrder for newest first)." schema:"enum=createdTime|-createdTime"`
	From     int        `json:"from,omitempty" jsonschema:"Index of the first attachment to return, from 0." schema:"minimum=0,maximum=100000"`
	Limit    int        `json:"limit,omitempty" jsonschema:"Maximum number of attachments, 1-100." schema:"minimum=1,maximum=100"`
	IsPublic *bool      `json:"isPublic,omitempty" jsonschema:"true: only public attachments; false: only private ones; absent: all."`
	Include  StringList `json:"include,omitempty" jsonschema:"Related objects to embed: creator (who uploaded the file)." schema:"items.enum=creator"`
}

// ListTicketAttachmentsInput is the input of list_ticket_attachments.
type ListTicketAttachmentsInput struct {
	OrgRef
	TicketSelector
	Params    AttachmentListParams `json:"params,omitzero" jsonschema:"Paging, sorting and filters, in Zoho's names."`
	SortOrder string               `json:"sortOrder,omitempty" jsonschema:"Sort direction of sortBy: \"-\" or \"desc\" for descending, \"\" or \"asc\" for ascending (default)." schema:"enum=-||asc|desc"`
}

// AddAgentPayload is a new agent, in Zoho's field names.
type AddAgentPayload struct {
	EmailID                     string     `json:"emailId" jsonschema:"Email address of the agent; Zoho sends the invitation there." schema:"minLength=3,maxLength=100"`
	LastName                    string     `json:"lastName" jsonschema:"Last name of the agent." schema:"minLength=1,maxLength=50"`
	AssociatedDepartmentIDs     StringList `json:"associatedDepartmentIds" jsonschema:"Ids of the departments the agent works in (list_departments), at least one." schema:"minItems=1,maxItems=50"`
	RolePermissionType          string     `json:"rolePermissionType" jsonschema:"Permissions: Admin (support administrator), AgentPublic (sees all tickets of their departments), AgentPersonal (own and unassigned tickets), AgentTeamPersonal (own and team tickets), Light (light agent: read and comment), Custom (give roleId and profileId)." schema:"enum=Admin|AgentPublic|AgentPersonal|AgentTeamPersonal|Light|Custom"`
	FirstName                   string     `json:"firstName,omitempty" jsonschema:"First name of the agent." schema:"maxLength=50"`
	Phone                       string     `json:"phone,omitempty" jsonschema:"Phone number." schema:"maxLength=100"`
	Mobile                      string     `json:"mobile,omitempty" jsonschema:"Mobile number." schema:"maxLength=100"`
	Extn                        string     `json:"extn,omitempty" jsonschema:"Extension number." schema:"maxLength=100"`
	AssociatedChatDepartmentIDs StringList `json:"associatedChatDepartmentIds,omitempty" jsonschema:"Ids of the chat departments of the agent (list_departments)." schema:"maxItems=50"`
	RoleID                      string     `json:"roleId,omitempty" jsonschema:"Role id (list_roles); required when rolePermissionType is Custom." schema:"pattern=^[0-9]+$,maxLength=32"`
	ProfileID                   string     `json:"profileId,omitempty" jsonschema:"Profile id (list_profiles); required when rolePermissionType is Custom." schema:"pattern=^[0-9]+$,maxLength=32"`
	AboutInfo                   string     `json:"aboutInfo,omitempty" jsonschema:"About the agent." schema:"maxLength=255"`
	ChannelExpert               StringList `json:"channelExpert,omitempty" jsonschema:"Channels the agent handles, e.g. Email, Phone, Chat, Web, Twitter, Facebook, Forums." schema:"maxItems=51"`
	CountryCode                 string     `json:"countryCode,omitempty" jsonschema:"Country/locale code, e.g. en_US (Zoho may ignore it for other users)." schema:"maxLength=100,pattern=^[a-zA-Z_]*$"`
	TimeZone                    string     `json:"timeZone,omitempty" jsonschema:"IANA time zone, e.g. America/New_York (Zoho may ignore it for other users)." schema:"maxLength=100"`
	LangCode                    string     `json:"langCode,omitempty" jsonschema:"Language code, e.g. en or fr_FR (Zoho may ignore it for other users)." schema:"maxLength=100,pattern=^[a-zA-Z_]*$"`
}

// AddAgentInput is the input of add_agent.
type AddAgentInput struct {
	OrgRef
	Payload AddAgentPayload `json:"payload" jsonschema:"The agent to add, in Zoho's field names."`
	action.WriteOptions
}

func (in *AddAgentInput) check() []deskconn.FieldError {
	var errs []deskconn.FieldError
	p := in.Payload
	// The spec's own sample carries the literal text "[email protected]"
	// (an artefact of the page it was copied from; it has no "@") and must
	// run unchanged, so the address is only checked for being non-blank here
	// (length by the schema); Zoho Desk judges the address itself.
	if strings.TrimSpace(p.EmailID) == "" {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/emailId", Code: "invalid", Message: "must be the agent's email address"})
	}
	if len(p.AssociatedDepartmentIDs) == 0 {
		errs = append(errs, deskconn.FieldError{Pointer: "/payload/associatedDepartmentIds", Code: "missing", Message: "give at least one department id (list_departments)"})
	}
	errs = append(errs, checkIDs("/payload/associatedDepartmentIds", p.AssociatedDepartmentIDs)...)
	errs = append(errs, checkIDs("/payload/associatedChatDepartmentIds", p.AssociatedChatDepartmentIDs)...)
	if p.RolePermissionType == "Custom" {
		if p.RoleID == "" {
			errs = append(errs, deskconn.FieldError{Pointer: "/payload/roleId", Code: "missing", Message: "is required when rolePermissionType is Custom (list_roles)"})
		}
		if p.ProfileID == "" {
			errs = append(errs, deskconn.FieldError{Pointer: "/payload/profileId", Code: "missing", Message: "is required when rolePermissionType is Custom (list_profiles)"})
		}
	}
	return errs
}

// AgentOutput is one agent: the spec's fields at the top and Zoho's object
// whole.
type AgentOutput struct {
	ID                      string          `json:"id" jsonschema:"Id of the agent."`
	EmailID                 string          `json:"emailId" jsonschema:"Email address."`
	Name                    string          `json:"name,omitempty" jsonschema:"Full name."`
	AssociatedDepartmentIDs []string        `json:"associatedDepartmentIds,omitempty" jsonschema:"Departments of the agent."`
	RolePermissionType      string          `json:"rolePermissionType,omitempty" jsonschema:"Permission type."`
	RoleID                  string          `json:"roleId,omitempty" jsonschema:"Role id."`
	ProfileID               string          `json:"profileId,omitempty" jsonschema:"Profile id."`
	Status                  string          `json:"status,omitempty" jsonschema:"ACTIVE, DISABLED, ..."`
	IsConfirmed             bool            `json:"isConfirmed" jsonschema:"false until the agent accepts the invitation."`
	Agent                   json.RawMessage `json:"agent" jsonschema:"The agent as Zoho Desk returned it."`
}

// AgentListParams are the query parameters of list_agents, in Zoho's names.
type AgentListParams struct {
	From               int        `json:"from,omitempty" jsonschema:"Index of the first agent to return, from 0." schema:"minimum=0,maximum=100000"`
	Limit              int        `json:"limit,omitempty" jsonschema:"Maximum number of agents, 1-200 (default 10)." schema:"minimum=1,maximum=200"`
	Status             string     `json:"status,omitempty" jsonschema:"Only agents with this status: ACTIVE or DISABLED (also DELETED, IMPORTED)." schema:"enum=ACTIVE|DISABLED|DELETED|IMPORTED"`
	DepartmentIDs      StringList `json:"departmentIds,omitempty" jsonschema:"Only agents of these departments (list_departments), at most 50." schema:"maxItems=50"`
	ProfileIDs         StringList `json:"profileIds,omitempty" jsonschema:"Only agents with these profiles (list_profiles), at most 50." schema:"maxItems=50"`
	RoleIDs            StringList `json:"roleIds,omitempty" jsonschema:"Only agents with these roles (list_roles), at most 50." schema:"maxItems=50"`
	RolePermissionType string     `json:"rolePermissionType,omitempty" jsonschema:"Only agents of this permission type; ${NON_LIGHT} for all but light agents." schema:"enum=Admin|AgentPublic|AgentPersonal|AgentTeamPersonal|Light|Custom|${NON_LIGHT}"`
	IsConfirmed        *bool      `json:"isConfirmed,omitempty" jsonschema:"true: only agents who accepted their invitation; false: only those who did not."`
	IsLightAgent       *bool      `json:"isLightAgent,omitempty" jsonschema:"true: only light agents; false: only full agents."`
	Include            StringList `json:"include,omitempty" jsonschema:"Related objects to embed: profile, role." schema:"items.enum=profile|role"`
	SearchStr          string     `json:"searchStr,omitempty" jsonschema:"Search first name, last name and email: abc* starts with, *abc* contains, abc exact." schema:"minLength=1,maxLength=100"`
	FieldName          string     `json:"fieldName,omitempty" jsonschema:"Field that searchStr searches and the list is sorted by: firstName, lastName, name or emailId." schema:"enum=firstName|lastName|name|emailId"`
	SortOrder          string     `json:"sortOrder,omitempty" jsonschema:"asc or desc." schema:"enum=asc|desc"`
}

// ListAgentsInput is the input of list_agents.
type ListAgentsInput struct {
	OrgRef
	Params AgentListParams `json:"params,omitzero" jsonschema:"Filters, paging and sorting, in Zoho's parameter names."`
}

// DeactivateAgentInput is the input of deactivate_agent.
type DeactivateAgentInput struct {
	OrgRef
	AgentID    string `json:"agentId,omitempty" jsonschema:"Id of the agent to deactivate (list_agents, find_agent_by_email). Give agentId or agentEmail." schema:"pattern=^[0-9]+$,maxLength=32"`
	AgentEmail string `json:"agentEmail,omitempty" jsonschema:"Exact email address of the agent, instead of agentId." schema:"minLength=3,maxLength=100"`
	action.WriteOptions
}

func (in *DeactivateAgentInput) check() []deskconn.FieldError {
	switch {
	case in.AgentID == "" && in.AgentEmail == "":
		return []deskconn.FieldError{{Pointer: "/agentId", Code: "missing", Message: "give agentId or agentEmail (find agents with list_agents or find_agent_by_email)"}}
	case in.AgentID != "" && in.AgentEmail != "":
		return []deskconn.FieldError{{Pointer: "/agentEmail", Code: "invalid", Message: "give only one of agentId and agentEmail"}}
	}
	return nil
}

// Describe says what the call would do, for the registry's
// confirmation-required error.
func (in *DeactivateAgentInput) Describe() string {
	if in.AgentEmail != "" {
		return "deactivate the agent " + in.AgentEmail
	}
	return "deactivate the agent " + in.AgentID
}

// DeactivateAgentOutput is the result of deactivate_agent.
type DeactivateAgentOutput struct {
	Deactivated        bool            `json:"deactivated" jsonschema:"true: the agent is deactivated."`
	AlreadyDeactivated bool            `json:"alreadyDeactivated,omitempty" jsonschema:"true: the agent was already deactivated; nothing was sent."`
	ID                 string          `json:"id" jsonschema:"Id of the agent."`
	EmailID            string          `json:"emailId,omitempty" jsonschema:"Email address of the agent."`
	Status             string          `json:"status" jsonschema:"The agent's status after the call, re-read from Zoho Desk (DISABLED)."`
	DeactivatedAt      string          `json:"deactivatedAt" jsonschema:"When the agent was deactivated (ISO 8601, UTC)."`
	Agent              json.RawMessage `json:"agent,omitempty" jsonschema:"The agent as Zoho Desk returned it after the call."`
}

// FindAgentByEmailInput is the input of find_agent_by_email.
type FindAgentByEmailInput struct {
	OrgRef
	Email string `json:"email" jsonschema:"Exact email address of the agent." schema:"minLength=3,maxLength=100"`
}
