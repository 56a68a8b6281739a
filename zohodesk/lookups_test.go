package zohodesk

import (
	"errors"
	"net/http"
	"testing"
)

func TestOrganizations(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/organizations", wantReq{method: "GET", path: "/api/v1/organizations"}, http.StatusOK, fixture(t, "organizations.json"))
	serve(t, mux, "/api/v1/accessibleOrganizations", wantReq{method: "GET", path: "/api/v1/accessibleOrganizations"}, http.StatusOK, fixture(t, "organizations.json"))
	for name, list := range map[string]func() ([]*Organization, *Response, error){
		"List":           func() ([]*Organization, *Response, error) { return c.Organizations.List(t.Context()) },
		"ListAccessible": func() ([]*Organization, *Response, error) { return c.Organizations.ListAccessible(t.Context()) },
	} {
		orgs, _, err := list()
		if err != nil {
			t.Fatalf("Organizations.%s: %v", name, err)
		}
		if len(orgs) != 1 || orgs[0].ID != "2389290" || orgs[0].PortalName != "zylker" || !orgs[0].IsDefault || orgs[0].Alias != "" || !hasKey(orgs[0].Raw, "currencyCode") {
			t.Errorf("Organizations.%s = %+v", name, orgs[0])
		}
	}
}

func TestDepartmentsList(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/departments", wantReq{
		method: "GET", path: "/api/v1/departments", org: true,
		query: q("limit", "200", "isEnabled", "true", "searchStr", "Zyl*", "chatStatus", "AVAILABLE"),
	}, http.StatusOK, fixture(t, "departments.json"))
	got, _, err := c.Departments.List(t.Context(), testOrg, &DepartmentListOptions{
		ListOptions: ListOptions{Limit: 200}, IsEnabled: ptr(true), SearchStr: "Zyl*", ChatStatus: "AVAILABLE",
	})
	if err != nil {
		t.Fatalf("Departments.List: %v", err)
	}
	if len(got) != 1 || got[0].Name != "Zylker Support" || !got[0].IsEnabled {
		t.Errorf("Departments.List = %+v", got)
	}
	if _, _, err := c.Departments.List(t.Context(), testOrg, &DepartmentListOptions{ListOptions: ListOptions{Limit: 201}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 201: error = %v, want ErrInvalid", err)
	}
}

func TestTeamsList(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/teams", wantReq{method: "GET", path: "/api/v1/teams", org: true, query: q("from", "1", "limit", "50")}, http.StatusOK, fixture(t, "teams.json"))
	got, _, err := c.Teams.List(t.Context(), testOrg, &TeamListOptions{ListOptions{From: 1, Limit: 50}})
	if err != nil {
		t.Fatalf("Teams.List: %v", err)
	}
	if len(got) != 1 || got[0].ID != "6000000083003" || len(got[0].DerivedAgents) != 2 || got[0].LogoURL != "" {
		t.Errorf("Teams.List = %+v", got)
	}
}

func TestTeamsListAcceptsDataWrapper(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/teams", wantReq{method: "GET", path: "/api/v1/teams", org: true}, http.StatusOK, `{"data":[{"id":"1","name":"A"}]}`)
	got, _, err := c.Teams.List(t.Context(), testOrg, nil)
	if err != nil || len(got) != 1 || got[0].Name != "A" {
		t.Errorf("Teams.List = %v, %v", got, err)
	}
}

func TestProductsList(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/products", wantReq{
		method: "GET", path: "/api/v1/products", org: true,
		query: q("departmentId", "0", "sortBy", "productName", "include", "owner", "limit", "100"),
	}, http.StatusOK, fixture(t, "products.json"))
	got, _, err := c.Products.List(t.Context(), testOrg, &ProductListOptions{ListOptions: ListOptions{Limit: 100}, DepartmentID: "0", SortBy: "productName", Include: "owner"})
	if err != nil {
		t.Fatalf("Products.List: %v", err)
	}
	if len(got) != 1 || got[0].UnitPrice != "100.0" || got[0].DepartmentIDs[0] != "1892000000006907" {
		t.Errorf("Products.List = %+v", got)
	}
	if _, _, err := c.Products.List(t.Context(), testOrg, &ProductListOptions{ListOptions: ListOptions{Limit: 101}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 101: error = %v, want ErrInvalid", err)
	}
}

func TestRolesList(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/roles", wantReq{
		method: "GET", path: "/api/v1/roles", org: true, query: q("limit", "500", "isVisible", "true", "isDefault", "false"),
	}, http.StatusOK, fixture(t, "roles.json"))
	got, _, err := c.Roles.List(t.Context(), testOrg, &RoleListOptions{ListOptions: ListOptions{Limit: 500}, IsVisible: ptr(true), IsDefault: ptr(false)})
	if err != nil {
		t.Fatalf("Roles.List: %v", err)
	}
	if len(got) != 2 || got[0].ReportsTo != "" || got[1].ReportsTo != "1892000000005007" {
		t.Errorf("Roles.List = %+v %+v", got[0], got[1])
	}
}

func TestProfilesList(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/profiles", wantReq{
		method: "GET", path: "/api/v1/profiles", org: true, query: q("default", "true", "visible", "true", "fields", "type,description"),
	}, http.StatusOK, fixture(t, "profiles.json"))
	got, _, err := c.Profiles.List(t.Context(), testOrg, &ProfileListOptions{Default: ptr(true), Visible: ptr(true), Fields: "type,description"})
	if err != nil {
		t.Fatalf("Profiles.List: %v", err)
	}
	if len(got) != 2 || got[0].Type != "ADMIN" || !got[0].Default || got[1].Name != "Light Agent" {
		t.Errorf("Profiles.List = %+v", got)
	}
	if _, _, err := c.Profiles.List(t.Context(), testOrg, &ProfileListOptions{ListOptions: ListOptions{Limit: 251}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 251: error = %v, want ErrInvalid", err)
	}
}

// TestListAllEveryService walks each lookup iterator over two pages.
func TestListAllEveryService(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var froms []int
	for _, p := range []string{"departments", "teams", "products", "roles", "profiles", "contacts", "agents", "tickets/9/attachments"} {
		pagedTickets(t, mux, "/api/v1/"+p, 3, &froms)
	}
	ctx := t.Context()
	lo := ListOptions{Limit: 2}
	count := func(name string, n int, err error) {
		if err != nil || n != 3 {
			t.Errorf("%s.ListAll: %d items, err %v; want 3", name, n, err)
		}
	}
	n, err := drain(c.Departments.ListAll(ctx, testOrg, &DepartmentListOptions{ListOptions: lo}))
	count("Departments", n, err)
	n, err = drain(c.Teams.ListAll(ctx, testOrg, &TeamListOptions{lo}))
	count("Teams", n, err)
	n, err = drain(c.Products.ListAll(ctx, testOrg, &ProductListOptions{ListOptions: lo}))
	count("Products", n, err)
	n, err = drain(c.Roles.ListAll(ctx, testOrg, &RoleListOptions{ListOptions: lo}))
	count("Roles", n, err)
	n, err = drain(c.Profiles.ListAll(ctx, testOrg, &ProfileListOptions{ListOptions: lo}))
	count("Profiles", n, err)
	n, err = drain(c.Contacts.ListAll(ctx, testOrg, &ContactListOptions{ListOptions: lo}))
	count("Contacts", n, err)
	n, err = drain(c.Agents.ListAll(ctx, testOrg, &AgentListOptions{ListOptions: lo}))
	count("Agents", n, err)
	n, err = drain(c.TicketAttachments.ListAll(ctx, testOrg, "9", &TicketAttachmentListOptions{ListOptions: lo}))
	count("TicketAttachments", n, err)
}
