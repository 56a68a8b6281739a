package zohodesk

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// AgentsService adds, lists, looks up, deactivates and activates agents.
type AgentsService service

// Values of Agent.RolePermissionType (Zoho's OAS enum). For filtering only,
// Desk also accepts RolePermissionNonLight.
const (
	RolePermissionAdmin             = "Admin"
	RolePermissionAgentPublic       = "AgentPublic"
	RolePermissionAgentPersonal     = "AgentPersonal"
	RolePermissionAgentTeamPersonal = "AgentTeamPersonal"
	RolePermissionLight             = "Light"
	RolePermissionCustom            = "Custom"
	RolePermissionNonLight          = "${NON_LIGHT}"
)

// Agent is a Desk agent; Raw keeps Zoho's whole object (including included
// role, profile and departments). ZUID is "" until the invitation is
// accepted. Status is ACTIVE or DISABLED (also DELETED, IMPORTED).
type Agent struct {
	ID                          string         `json:"id"`
	ZUID                        string         `json:"zuid,omitempty"`
	FirstName                   string         `json:"firstName,omitempty"`
	LastName                    string         `json:"lastName,omitempty"`
	Name                        string         `json:"name,omitempty"`
	EmailID                     string         `json:"emailId,omitempty"`
	Phone                       string         `json:"phone,omitempty"`
	Mobile                      string         `json:"mobile,omitempty"`
	Extn                        string         `json:"extn,omitempty"`
	PhotoURL                    string         `json:"photoURL,omitempty"`
	RoleID                      string         `json:"roleId,omitempty"`
	ProfileID                   string         `json:"profileId,omitempty"`
	RolePermissionType          string         `json:"rolePermissionType,omitempty"`
	AssociatedDepartmentIDs     []string       `json:"associatedDepartmentIds,omitempty"`
	AssociatedChatDepartmentIDs []string       `json:"associatedChatDepartmentIds,omitempty"`
	ChannelExpert               []string       `json:"channelExpert,omitempty"`
	CountryCode                 string         `json:"countryCode,omitempty"`
	LangCode                    string         `json:"langCode,omitempty"`
	TimeZone                    string         `json:"timeZone,omitempty"`
	AboutInfo                   string         `json:"aboutInfo,omitempty"`
	IsConfirmed                 bool           `json:"isConfirmed"`
	IsLightAgent                bool           `json:"isLightAgent"`
	IsZiaAgent                  bool           `json:"isZiaAgent"`
	Status                      string         `json:"status,omitempty"`
	CF                          map[string]any `json:"cf,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a and keeps the whole object in Raw.
func (a *Agent) UnmarshalJSON(b []byte) error {
	type plain Agent
	if err := decodeLenient(b, (*plain)(a)); err != nil {
		return err
	}
	a.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// AgentCreateRequest is the body of Agents.Add. EmailID, LastName,
// AssociatedDepartmentIDs and RolePermissionType are required (checked
// locally). RoleID and ProfileID go with RolePermissionCustom. Extra holds
// further Zoho fields; the named fields take precedence over it.
type AgentCreateRequest struct {
	EmailID                     string         `json:"emailId"`
	LastName                    string         `json:"lastName"`
	AssociatedDepartmentIDs     []string       `json:"associatedDepartmentIds"`
	RolePermissionType          string         `json:"rolePermissionType"`
	FirstName                   string         `json:"firstName,omitempty"`
	Phone                       string         `json:"phone,omitempty"`
	Mobile                      string         `json:"mobile,omitempty"`
	Extn                        string         `json:"extn,omitempty"`
	AssociatedChatDepartmentIDs []string       `json:"associatedChatDepartmentIds,omitempty"`
	AboutInfo                   string         `json:"aboutInfo,omitempty"`
	ChannelExpert               []string       `json:"channelExpert,omitempty"`
	CountryCode                 string         `json:"countryCode,omitempty"`
	LangCode                    string         `json:"langCode,omitempty"`
	TimeZone                    string         `json:"timeZone,omitempty"`
	RoleID                      string         `json:"roleId,omitempty"`
	ProfileID                   string         `json:"profileId,omitempty"`
	Status                      string         `json:"status,omitempty"`
	CF                          map[string]any `json:"cf,omitempty"`

	Extra map[string]any `json:"-"`
}

// MarshalJSON encodes the named fields plus Extra.
func (r AgentCreateRequest) MarshalJSON() ([]byte, error) {
	type plain AgentCreateRequest
	return marshalWithExtra(plain(r), r.Extra)
}

func (r *AgentCreateRequest) validate() error {
	switch {
	case r == nil:
		return invalidf("agent: request is nil")
	case r.EmailID == "":
		return invalidf("agent: emailId is required")
	case r.LastName == "":
		return invalidf("agent: lastName is required")
	case len(r.AssociatedDepartmentIDs) == 0:
		return invalidf("agent: associatedDepartmentIds is required")
	case r.RolePermissionType == "":
		return invalidf("agent: rolePermissionType is required")
	}
	return nil
}

// Add invites a new agent (unconfirmed until they accept). A licence limit
// gives 403 LICENSE_ACCESS_LIMITED (ErrForbidden).
//
//desk:operation POST /api/v1/agents
func (s *AgentsService) Add(ctx context.Context, orgID string, req *AgentCreateRequest) (*Agent, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	if err := req.validate(); err != nil {
		return nil, nil, err
	}
	a := new(Agent)
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "agents", path: "agents", orgID: orgID, withOrg: true, jsonBody: req}, a)
	if err != nil {
		return nil, resp, err
	}
	return a, resp, nil
}

// AgentListOptions are the query parameters of Agents.List. Limit is at
// most MaxLimitAgents. Comma lists take at most 50 ids.
type AgentListOptions struct {
	ListOptions
	// Status: ACTIVE, DISABLED (also DELETED, IMPORTED).
	Status             string
	DepartmentIDs      string
	ProfileIDs         string
	RoleIDs            string
	RolePermissionType string
	IsConfirmed        *bool
	IsLightAgent       *bool
	// Include: "profile", "role" (comma list).
	Include string
	// SearchStr: "str*" starts with, "*str*" contains, "str" exact.
	SearchStr   string
	FieldName   string
	SortOrder   string
	CFSearchStr string
	CFFieldName string
}

func (o *AgentListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitAgents); err != nil {
		return nil, err
	}
	o.set(q)
	setStr(q, "status", o.Status)
	setStr(q, "departmentIds", o.DepartmentIDs)
	setStr(q, "profileIds", o.ProfileIDs)
	setStr(q, "roleIds", o.RoleIDs)
	setStr(q, "rolePermissionType", o.RolePermissionType)
	setBool(q, "isConfirmed", o.IsConfirmed)
	setBool(q, "isLightAgent", o.IsLightAgent)
	setStr(q, "include", o.Include)
	setStr(q, "searchStr", o.SearchStr)
	setStr(q, "fieldName", o.FieldName)
	setStr(q, "sortOrder", o.SortOrder)
	setStr(q, "cfSearchStr", o.CFSearchStr)
	setStr(q, "cfFieldName", o.CFFieldName)
	return q, nil
}

// List returns one page of agents (empty on 204).
//
//desk:operation GET /api/v1/agents
func (s *AgentsService) List(ctx context.Context, orgID string, opts *AgentListOptions) ([]*Agent, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getList[Agent](ctx, s.client, orgID, "agents", "agents", q)
}

// ListAll iterates over every agent matching opts, page by page.
func (s *AgentsService) ListAll(ctx context.Context, orgID string, opts *AgentListOptions) iter.Seq2[*Agent, error] {
	o := AgentListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitAgents, -1, func(lo ListOptions) ([]*Agent, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, &o)
		return items, err
	})
}

// AgentGetOptions are the query parameters of Agents.Get and MyInfo.
type AgentGetOptions struct {
	// Include: comma list of profile, role, associatedDepartments,
	// associatedChatDepartments, verifiedEmails.
	Include string
}

func (o *AgentGetOptions) values() url.Values {
	q := url.Values{}
	if o != nil {
		setStr(q, "include", o.Include)
	}
	return q
}

// Get returns one agent. An unknown id is ErrNotFound.
//
//desk:operation GET /api/v1/agents/{agentId}
func (s *AgentsService) Get(ctx context.Context, orgID, agentID string, opts *AgentGetOptions) (*Agent, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("agentID", agentID)
	if err != nil {
		return nil, nil, err
	}
	return s.client.getAgent(ctx, orgID, "agents/{agentId}", "agents/"+id, opts.values())
}

// GetByEmail returns the agent with this email address. Desk answers 204
// when there is none; that is returned as an error matching ErrNotFound.
//
//desk:operation GET /api/v1/agents/email/{emailId}
func (s *AgentsService) GetByEmail(ctx context.Context, orgID, email string) (*Agent, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	e, err := segment("email", email)
	if err != nil {
		return nil, nil, err
	}
	return s.client.getAgent(ctx, orgID, "agents/email/{emailId}", "agents/email/"+e, nil)
}

func (c *Client) getAgent(ctx context.Context, orgID, tmpl, path string, q url.Values) (*Agent, *Response, error) {
	a := new(Agent)
	resp, err := c.do(ctx, &request{method: http.MethodGet, tmpl: tmpl, path: path, query: q, orgID: orgID, withOrg: true}, a)
	if err != nil {
		return nil, resp, err
	}
	if resp.StatusCode == http.StatusNoContent {
		return nil, resp, fmt.Errorf("zohodesk: GET %s%s: no such agent (204): %w", c.base.Path, path, ErrNotFound)
	}
	return a, resp, nil
}

// Deactivate disables an agent (Desk answers 204). Deactivation can fail
// with 422 INTEGRATION_ADMIN_ERROR or ONLY_LIVECHAT_USER (ErrInvalid).
//
//desk:operation POST /api/v1/agents/{agentId}/deactivate
func (s *AgentsService) Deactivate(ctx context.Context, orgID, agentID string) (*Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, err
	}
	id, err := segment("agentID", agentID)
	if err != nil {
		return nil, err
	}
	return s.client.do(ctx, &request{method: http.MethodPost, tmpl: "agents/{agentId}/deactivate", path: "agents/" + id + "/deactivate", orgID: orgID, withOrg: true}, nil)
}

// Activate re-activates deactivated agents (Desk answers 204).
//
//desk:operation POST /api/v1/agents/activate
func (s *AgentsService) Activate(ctx context.Context, orgID string, agentIDs []string) (*Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, err
	}
	if len(agentIDs) == 0 {
		return nil, invalidf("agentIDs must not be empty")
	}
	body := struct {
		AgentIDs []string `json:"agentIds"`
	}{agentIDs}
	return s.client.do(ctx, &request{method: http.MethodPost, tmpl: "agents/activate", path: "agents/activate", orgID: orgID, withOrg: true, jsonBody: body}, nil)
}

// MyInfo returns the agent the access token belongs to; it is also a cheap
// check that a token and orgID work together.
//
//desk:operation GET /api/v1/myinfo
func (c *Client) MyInfo(ctx context.Context, orgID string, opts *AgentGetOptions) (*Agent, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	return c.getAgent(ctx, orgID, "myinfo", "myinfo", opts.values())
}

// AgentCountOptions are the query parameters of Agents.Count. Nil fields
// are not sent.
type AgentCountOptions struct {
	// Status: ACTIVE or DISABLED (Zoho's OAS enum).
	Status            string
	IsConfirmed       *bool
	IncludeLightAgent *bool
}

// Count returns how many agents match opts. Zoho's OAS (Agent.json,
// getAgentsCount, response agentCountResponse) types count as a string or
// an integer; both are accepted. A count that is not a non-negative
// integer is an error.
//
//desk:operation GET /api/v1/agents/count
func (s *AgentsService) Count(ctx context.Context, orgID string, opts *AgentCountOptions) (int, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return 0, nil, err
	}
	q := url.Values{}
	if opts != nil {
		setStr(q, "status", opts.Status)
		setBool(q, "isConfirmed", opts.IsConfirmed)
		setBool(q, "includeLightAgent", opts.IncludeLightAgent)
	}
	var body struct {
		Count json.RawMessage `json:"count"`
	}
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "agents/count", path: "agents/count", query: q, orgID: orgID, withOrg: true}, &body)
	if err != nil {
		return 0, resp, err
	}
	n, err := strconv.Atoi(stringish(body.Count))
	if err != nil || n < 0 {
		return 0, resp, fmt.Errorf("zohodesk: agents count: Zoho answered count %s, not a non-negative integer", body.Count)
	}
	return n, resp, nil
}
