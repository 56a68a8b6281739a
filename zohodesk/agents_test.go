package zohodesk

import (
	"errors"
	"net/http"
	"testing"
)

func TestAgentsAdd(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/agents", wantReq{
		method: "POST", path: "/api/v1/agents", org: true,
		body: `{"emailId":"jade@zylker.com","lastName":"Tywin","firstName":"Jade","associatedDepartmentIds":["1892000000006907"],"rolePermissionType":"AgentPublic","channelExpert":["Email","Phone"]}`,
	}, http.StatusOK, fixture(t, "agent.json"))
	a, _, err := c.Agents.Add(t.Context(), testOrg, &AgentCreateRequest{
		EmailID: "jade@zylker.com", LastName: "Tywin", FirstName: "Jade",
		AssociatedDepartmentIDs: []string{"1892000000006907"}, RolePermissionType: RolePermissionAgentPublic,
		ChannelExpert: []string{"Email", "Phone"},
	})
	if err != nil {
		t.Fatalf("Agents.Add: %v", err)
	}
	if a.ID != "1892000000056007" || a.IsConfirmed || a.ZUID != "" || a.Status != "ACTIVE" || !hasKey(a.Raw, "role") {
		t.Errorf("Agents.Add = %+v", a)
	}
	for name, req := range map[string]*AgentCreateRequest{
		"nil":      nil,
		"no email": {LastName: "x", AssociatedDepartmentIDs: []string{"1"}, RolePermissionType: "Light"},
		"no last":  {EmailID: "a@b", AssociatedDepartmentIDs: []string{"1"}, RolePermissionType: "Light"},
		"no depts": {EmailID: "a@b", LastName: "x", RolePermissionType: "Light"},
		"no role":  {EmailID: "a@b", LastName: "x", AssociatedDepartmentIDs: []string{"1"}},
	} {
		if _, _, err := c.Agents.Add(t.Context(), testOrg, req); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Agents.Add error = %v, want ErrInvalid", name, err)
		}
	}
}

func TestAgentsAddLicenceLimit(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/agents", wantReq{
		method: "POST", path: "/api/v1/agents", org: true,
		body: `{"emailId":"a@b.c","lastName":"x","associatedDepartmentIds":["1"],"rolePermissionType":"Light"}`,
	}, http.StatusForbidden, fixture(t, "errors/license_access_limited.json"))
	_, _, err := c.Agents.Add(t.Context(), testOrg, &AgentCreateRequest{EmailID: "a@b.c", LastName: "x", AssociatedDepartmentIDs: []string{"1"}, RolePermissionType: "Light"})
	var apiErr *APIError
	if !errors.Is(err, ErrForbidden) || !errors.As(err, &apiErr) || apiErr.Code != CodeLicenseAccessLimited || !hasKey([]byte(apiErr.Raw), "editionType") {
		t.Fatalf("Agents.Add error = %v, want LICENSE_ACCESS_LIMITED with its details in Raw", err)
	}
}

func TestAgentsList(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/agents", wantReq{
		method: "GET", path: "/api/v1/agents", org: true,
		query: q("limit", "200", "status", "ACTIVE", "rolePermissionType", "${NON_LIGHT}", "isConfirmed", "false", "include", "profile,role", "searchStr", "ja*", "fieldName", "emailId", "sortOrder", "asc"),
	}, http.StatusOK, fixture(t, "agents.json"))
	got, _, err := c.Agents.List(t.Context(), testOrg, &AgentListOptions{
		ListOptions: ListOptions{Limit: 200}, Status: "ACTIVE", RolePermissionType: RolePermissionNonLight,
		IsConfirmed: ptr(false), Include: "profile,role", SearchStr: "ja*", FieldName: "emailId", SortOrder: "asc",
	})
	if err != nil {
		t.Fatalf("Agents.List: %v", err)
	}
	if len(got) != 1 || got[0].EmailID != "jade@zylker.com" {
		t.Errorf("Agents.List = %+v", got)
	}
	if _, _, err := c.Agents.List(t.Context(), testOrg, &AgentListOptions{ListOptions: ListOptions{Limit: 201}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 201: error = %v, want ErrInvalid", err)
	}
}

func TestAgentsListEmpty204(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/agents", wantReq{method: "GET", path: "/api/v1/agents", org: true}, http.StatusNoContent, "")
	got, _, err := c.Agents.List(t.Context(), testOrg, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("Agents.List on 204 = %v, %v; want empty", got, err)
	}
}

func TestAgentsGet(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/agents/1892000000056007", wantReq{
		method: "GET", path: "/api/v1/agents/1892000000056007", org: true, query: q("include", "role,profile"),
	}, http.StatusOK, fixture(t, "agent.json"))
	a, _, err := c.Agents.Get(t.Context(), testOrg, "1892000000056007", &AgentGetOptions{Include: "role,profile"})
	if err != nil || a.LastName != "Tywin" {
		t.Fatalf("Agents.Get = %+v, %v", a, err)
	}
}

func TestAgentsGetByEmail(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/agents/email/jade@zylker.com", wantReq{method: "GET", path: "/api/v1/agents/email/jade@zylker.com", org: true}, http.StatusOK, fixture(t, "agent.json"))
	serve(t, mux, "/api/v1/agents/email/nobody@zylker.com", wantReq{method: "GET", path: "/api/v1/agents/email/nobody@zylker.com", org: true}, http.StatusNoContent, "")
	a, _, err := c.Agents.GetByEmail(t.Context(), testOrg, "jade@zylker.com")
	if err != nil || a.ID != "1892000000056007" {
		t.Fatalf("Agents.GetByEmail = %+v, %v", a, err)
	}
	a, resp, err := c.Agents.GetByEmail(t.Context(), testOrg, "nobody@zylker.com")
	if a != nil || !errors.Is(err, ErrNotFound) || resp == nil || resp.StatusCode != http.StatusNoContent {
		t.Errorf("Agents.GetByEmail(unknown) = %v, %v, %v; want nil, ErrNotFound", a, resp, err)
	}
}

func TestAgentsDeactivateActivate(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/agents/5/deactivate", wantReq{method: "POST", path: "/api/v1/agents/5/deactivate", org: true}, http.StatusNoContent, "")
	serve(t, mux, "/api/v1/agents/activate", wantReq{method: "POST", path: "/api/v1/agents/activate", org: true, body: `{"agentIds":["5","6"]}`}, http.StatusNoContent, "")
	if resp, err := c.Agents.Deactivate(t.Context(), testOrg, "5"); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Errorf("Agents.Deactivate = %v, %v", resp, err)
	}
	if resp, err := c.Agents.Activate(t.Context(), testOrg, []string{"5", "6"}); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Errorf("Agents.Activate = %v, %v", resp, err)
	}
	if _, err := c.Agents.Activate(t.Context(), testOrg, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Activate(nil) error = %v, want ErrInvalid", err)
	}
	if _, err := c.Agents.Deactivate(t.Context(), testOrg, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("Deactivate(\"\") error = %v, want ErrInvalid", err)
	}
}

func TestAgentsDeactivateIntegrationAdmin(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/agents/5/deactivate", wantReq{method: "POST", path: "/api/v1/agents/5/deactivate", org: true},
		http.StatusUnprocessableEntity, `{"errorCode":"INTEGRATION_ADMIN_ERROR","message":"The agent administers an integration.","integration":"CRM"}`)
	_, err := c.Agents.Deactivate(t.Context(), testOrg, "5")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "INTEGRATION_ADMIN_ERROR" || !errors.Is(err, ErrInvalid) {
		t.Errorf("Deactivate error = %v, want INTEGRATION_ADMIN_ERROR matching ErrInvalid", err)
	}
}

func TestMyInfo(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/myinfo", wantReq{method: "GET", path: "/api/v1/myinfo", org: true, query: q("include", "profile")}, http.StatusOK, fixture(t, "agent.json"))
	a, _, err := c.MyInfo(t.Context(), testOrg, &AgentGetOptions{Include: "profile"})
	if err != nil || a.Name != "Jade Tywin" {
		t.Fatalf("MyInfo = %+v, %v", a, err)
	}
}

func TestAgentsCount(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/agents/count", wantReq{
		method: "GET", path: "/api/v1/agents/count", org: true, query: q("status", "ACTIVE", "includeLightAgent", "false"),
	}, http.StatusOK, `{"count":"7"}`)
	no := false
	n, _, err := c.Agents.Count(t.Context(), testOrg, &AgentCountOptions{Status: "ACTIVE", IncludeLightAgent: &no})
	if err != nil || n != 7 {
		t.Fatalf("Agents.Count = %d, %v; want 7", n, err)
	}
}

func TestAgentsCountNotANumber(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/agents/count", wantReq{method: "GET", path: "/api/v1/agents/count", org: true}, http.StatusOK, `{"count":null}`)
	if n, _, err := c.Agents.Count(t.Context(), testOrg, nil); err == nil {
		t.Fatalf("Agents.Count(null) = %d, nil; want an error", n)
	}
}
