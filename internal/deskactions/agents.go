package deskactions

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

func orgHeader(org string) map[string]string { return map[string]string{"orgId": org} }

func agentOutput(a *zohodesk.Agent) AgentOutput {
	name := a.Name
	if name == "" {
		name = strings.TrimSpace(a.FirstName + " " + a.LastName)
	}
	return AgentOutput{
		ID: a.ID, EmailID: a.EmailID, Name: name,
		AssociatedDepartmentIDs: a.AssociatedDepartmentIDs,
		RolePermissionType:      a.RolePermissionType, RoleID: a.RoleID, ProfileID: a.ProfileID,
		Status: a.Status, IsConfirmed: a.IsConfirmed, Agent: a.Raw,
	}
}

func agentActions(deps Deps) []*action.Action {
	return []*action.Action{
		action.Define("add_agent", action.Info{
			Title:       "Add an agent",
			Description: "Invites an agent; check first with find_agent_by_email. associatedDepartmentIds: list_departments; rolePermissionType Custom needs roleId (list_roles) and profileId (list_profiles).",
			Toolset:     "agents",
			Hints:       action.Hints{OpenWorld: true}, Write: true, ZohoFieldPrefix: "/payload", TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in AddAgentInput) (AgentOutput, error) {
			if err := invalid(in.check()); err != nil {
				return AgentOutput{}, err
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return AgentOutput{}, err
			}
			p := in.Payload
			req := &zohodesk.AgentCreateRequest{
				EmailID: strings.TrimSpace(p.EmailID), LastName: p.LastName,
				AssociatedDepartmentIDs: p.AssociatedDepartmentIDs, RolePermissionType: p.RolePermissionType,
				FirstName: p.FirstName, Phone: p.Phone, Mobile: p.Mobile, Extn: p.Extn,
				AssociatedChatDepartmentIDs: p.AssociatedChatDepartmentIDs, AboutInfo: p.AboutInfo,
				ChannelExpert: p.ChannelExpert, CountryCode: p.CountryCode, LangCode: p.LangCode,
				TimeZone: p.TimeZone, RoleID: p.RoleID, ProfileID: p.ProfileID,
			}
			if call.DryRun {
				return AgentOutput{}, call.Plan(action.PlannedRequest{Method: "POST", Path: "/agents", Header: orgHeader(org), Body: req})
			}
			a, resp, err := call.Desk.Agents.Add(ctx, org, req)
			if resp != nil {
				call.SetRequestID(resp.RequestID)
			}
			if err != nil {
				return AgentOutput{}, err
			}
			call.SetDetail("agent " + a.ID + " added")
			return agentOutput(a), nil
		}),
		action.Define("list_agents", action.Info{
			Title:       "List agents",
			Description: "Lists agents with filters, a page at a time. departmentIds: list_departments; roleIds: list_roles; profileIds: list_profiles. To find one by email use find_agent_by_email.",
			Toolset:     "agents",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListAgentsInput) (ListOutput, error) {
			p := in.Params
			var errs []deskconn.FieldError
			errs = append(errs, checkEnumList("/params/include", p.Include, []string{"profile", "role"}, 0)...)
			for at, l := range map[string]StringList{"/params/departmentIds": p.DepartmentIDs, "/params/profileIds": p.ProfileIDs, "/params/roleIds": p.RoleIDs} {
				errs = append(errs, checkEnumList(at, l, nil, 50)...)
				errs = append(errs, checkIDs(at, l)...)
			}
			if err := invalid(errs); err != nil {
				return ListOutput{}, err
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			limit := pageLimit(p.Limit, zohodesk.MaxLimitAgents)
			items, _, err := call.Desk.Agents.List(ctx, org, &zohodesk.AgentListOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit},
				Status:      p.Status, DepartmentIDs: p.DepartmentIDs.Join(), ProfileIDs: p.ProfileIDs.Join(),
				RoleIDs: p.RoleIDs.Join(), RolePermissionType: p.RolePermissionType,
				IsConfirmed: p.IsConfirmed, IsLightAgent: p.IsLightAgent, Include: p.Include.Join(),
				SearchStr: p.SearchStr, FieldName: p.FieldName, SortOrder: p.SortOrder,
			})
			if err != nil {
				return ListOutput{}, err
			}
			return pageOf(items, func(a *zohodesk.Agent) json.RawMessage { return a.Raw }, p.From, limit), nil
		}),
		action.Define("deactivate_agent", action.Info{
			Title:       "Deactivate an agent",
			Description: "Deactivates an agent (offboarding): no sign-in, no tickets. agentId: list_agents (or give agentEmail). Refuses the connection's own user.",
			Toolset:     "agents",
			Hints:       action.Hints{Destructive: true, Idempotent: true, OpenWorld: true}, Write: true, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in DeactivateAgentInput) (DeactivateAgentOutput, error) {
			if err := invalid(in.check()); err != nil {
				return DeactivateAgentOutput{}, err
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return DeactivateAgentOutput{}, err
			}
			a, err := resolveAgent(ctx, call, org, in.AgentID, in.AgentEmail)
			if err != nil {
				return DeactivateAgentOutput{}, err
			}
			if isSelf(call.Conn, a) {
				ptr := "/agentId"
				if in.AgentEmail != "" {
					ptr = "/agentEmail"
				}
				return DeactivateAgentOutput{}, &deskconn.Error{Code: deskconn.CodeForbidden,
					Message: "refusing to deactivate the connection's own Zoho user: the connection would lock itself out; deactivate this agent from another account",
					Fields:  []deskconn.FieldError{{Pointer: ptr, Code: "invalid", Message: "is the connection's own user"}}}
			}
			if a.Status == "DISABLED" {
				// Already done (e.g. a retry): report it without a call.
				return DeactivateAgentOutput{Deactivated: true, AlreadyDeactivated: true, ID: a.ID, EmailID: a.EmailID,
					Status: a.Status, DeactivatedAt: deps.now().Format(time.RFC3339Nano), Agent: a.Raw}, nil
			}
			req := action.PlannedRequest{Method: "POST", Path: "/agents/" + a.ID + "/deactivate", Header: orgHeader(org)}
			if call.DryRun {
				return DeactivateAgentOutput{}, call.Plan(req)
			}
			resp, err := call.Desk.Agents.Deactivate(ctx, org, a.ID)
			if resp != nil {
				call.SetRequestID(resp.RequestID)
			}
			if err != nil {
				return DeactivateAgentOutput{}, err
			}
			at := deps.now()
			call.SetDetail("agent " + a.ID + " deactivated")
			out := DeactivateAgentOutput{Deactivated: true, ID: a.ID, EmailID: a.EmailID, Status: "DISABLED", DeactivatedAt: at.Format(time.RFC3339Nano)}
			// Re-read so that the status reported is Zoho's, not assumed. The
			// deactivation has happened: a failed re-read keeps the assumed
			// status rather than failing the call.
			if after, _, err := call.Desk.Agents.Get(ctx, org, a.ID, nil); err == nil {
				out.Status, out.EmailID, out.Agent = after.Status, after.EmailID, after.Raw
			}
			return out, nil
		}),
		action.Define("find_agent_by_email", action.Info{
			Title:       "Find an agent by email",
			Description: "Finds the one agent with exactly this email address. Gives assigneeId for tickets and agentId for deactivate_agent.",
			Toolset:     "agents",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in FindAgentByEmailInput) (AgentOutput, error) {
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return AgentOutput{}, err
			}
			a, err := resolveAgent(ctx, call, org, "", in.Email)
			if err != nil {
				return AgentOutput{}, err
			}
			return agentOutput(a), nil
		}),
	}
}

// resolveAgent returns the agent with id, or else the one whose email is
// exactly email (case-insensitive). A missing agent is not_found.
func resolveAgent(ctx context.Context, call *action.Call, org, id, email string) (*zohodesk.Agent, error) {
	if id != "" {
		a, _, err := call.Desk.Agents.Get(ctx, org, id, nil)
		if errors.Is(err, zohodesk.ErrNotFound) {
			return nil, &deskconn.Error{Code: deskconn.CodeNotFound, Message: "no agent has id " + id + "; find agents with list_agents or find_agent_by_email", Err: err,
				Fields: []deskconn.FieldError{{Pointer: "/agentId", Code: "invalid", Message: "no such agent"}}}
		}
		return a, err
	}
	email = strings.TrimSpace(email)
	a, _, err := call.Desk.Agents.GetByEmail(ctx, org, email)
	if err == nil && !strings.EqualFold(a.EmailID, email) {
		err = zohodesk.ErrNotFound // Zoho answered with another agent: treat as absent, never guess
	}
	if errors.Is(err, zohodesk.ErrNotFound) {
		return nil, &deskconn.Error{Code: deskconn.CodeNotFound, Message: "no agent has the email address " + email + "; list agents with list_agents", Err: err}
	}
	return a, err
}

// isSelf reports whether a is the connection's own Zoho user.
func isSelf(c action.Conn, a *zohodesk.Agent) bool {
	return (c.UserID != "" && (c.UserID == a.ID || c.UserID == a.ZUID)) ||
		(c.UserEmail != "" && strings.EqualFold(c.UserEmail, a.EmailID))
}
