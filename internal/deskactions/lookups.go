package deskactions

import (
	"context"
	"encoding/json"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// ListOrganizationsInput is the (empty) input of list_organizations.
type ListOrganizationsInput struct{}

// OrganizationsOutput lists the organizations of the connection's user.
type OrganizationsOutput struct {
	Data  []json.RawMessage `json:"data" jsonschema:"The organizations, as Zoho Desk returned them; id is the orgId other actions take."`
	Count int               `json:"count" jsonschema:"Number of organizations."`
}

// DepartmentListParams are the query parameters of list_departments.
type DepartmentListParams struct {
	From      int    `json:"from,omitempty" jsonschema:"Index of the first department to return, from 0." schema:"minimum=0,maximum=100000"`
	Limit     int    `json:"limit,omitempty" jsonschema:"Maximum number of departments, 1-200 (default 50)." schema:"minimum=1,maximum=200"`
	IsEnabled *bool  `json:"isEnabled,omitempty" jsonschema:"true: only enabled departments; false: only disabled ones."`
	SearchStr string `json:"searchStr,omitempty" jsonschema:"Search by name: abc* starts with, *abc* contains, abc exact." schema:"minLength=1,maxLength=100"`
}

// ListDepartmentsInput is the input of list_departments.
type ListDepartmentsInput struct {
	OrgRef
	Params DepartmentListParams `json:"params,omitzero" jsonschema:"Filters and paging."`
}

// PageParams are plain paging parameters.
type PageParams struct {
	From  int `json:"from,omitempty" jsonschema:"Index of the first item to return, from 0." schema:"minimum=0,maximum=100000"`
	Limit int `json:"limit,omitempty" jsonschema:"Maximum number of items, 1-200 (default 50)." schema:"minimum=1,maximum=200"`
}

// ListTeamsInput is the input of list_teams.
type ListTeamsInput struct {
	OrgRef
	Params PageParams `json:"params,omitzero" jsonschema:"Paging."`
}

// ProductListParams are the query parameters of list_products.
type ProductListParams struct {
	From         int    `json:"from,omitempty" jsonschema:"Index of the first product to return, from 0." schema:"minimum=0,maximum=100000"`
	Limit        int    `json:"limit,omitempty" jsonschema:"Maximum number of products, 1-100 (default 50)." schema:"minimum=1,maximum=100"`
	DepartmentID string `json:"departmentId,omitempty" jsonschema:"Only products of this department (list_departments); 0 or absent: all departments you can see." schema:"pattern=^[0-9]+$,maxLength=32"`
	SortBy       string `json:"sortBy,omitempty" jsonschema:"Sort key; prefix - for descending." schema:"enum=productName|productCode|unitPrice|createdTime|modifiedTime|-productName|-productCode|-unitPrice|-createdTime|-modifiedTime"`
}

// ListProductsInput is the input of list_products.
type ListProductsInput struct {
	OrgRef
	Params ProductListParams `json:"params,omitzero" jsonschema:"Filters, paging and sorting."`
}

// RoleListParams are the query parameters of list_roles.
type RoleListParams struct {
	From      int    `json:"from,omitempty" jsonschema:"Index of the first role to return, from 0." schema:"minimum=0,maximum=100000"`
	Limit     int    `json:"limit,omitempty" jsonschema:"Maximum number of roles, 1-500 (default 50)." schema:"minimum=1,maximum=500"`
	IsVisible *bool  `json:"isVisible,omitempty" jsonschema:"true: only visible roles."`
	IsDefault *bool  `json:"isDefault,omitempty" jsonschema:"true: only default roles."`
	SearchStr string `json:"searchStr,omitempty" jsonschema:"Search by name: abc* starts with, *abc* contains, abc exact." schema:"minLength=1,maxLength=100"`
}

// ListRolesInput is the input of list_roles.
type ListRolesInput struct {
	OrgRef
	Params RoleListParams `json:"params,omitzero" jsonschema:"Filters and paging."`
}

// ProfileListParams are the query parameters of list_profiles.
type ProfileListParams struct {
	From      int    `json:"from,omitempty" jsonschema:"Index of the first profile to return, from 0." schema:"minimum=0,maximum=100000"`
	Limit     int    `json:"limit,omitempty" jsonschema:"Maximum number of profiles, 1-250 (default 50)." schema:"minimum=1,maximum=250"`
	Default   *bool  `json:"default,omitempty" jsonschema:"true: only Zoho's default profiles."`
	Visible   *bool  `json:"visible,omitempty" jsonschema:"true: only visible profiles."`
	SearchStr string `json:"searchStr,omitempty" jsonschema:"Search by name: abc* starts with, *abc* contains, abc exact." schema:"minLength=1,maxLength=100"`
}

// ListProfilesInput is the input of list_profiles.
type ListProfilesInput struct {
	OrgRef
	Params ProfileListParams `json:"params,omitzero" jsonschema:"Filters and paging."`
}

// defaultPage is the page size used when the caller gives none. It is sent
// explicitly so that hasMore can be computed from the page length.
const defaultPage = 50

func pageLimit(limit, max int) int {
	if limit <= 0 {
		limit = defaultPage
	}
	return min(limit, max)
}

// pageOf builds a ListOutput from one page of Zoho objects.
func pageOf[E any](items []E, raw func(E) json.RawMessage, from, limit int) ListOutput {
	out := ListOutput{Data: make([]json.RawMessage, 0, len(items)), From: from, Limit: limit}
	for _, it := range items {
		out.Data = append(out.Data, raw(it))
	}
	out.Count = len(out.Data)
	if limit > 0 && len(items) >= limit {
		out.HasMore = true
		next := from + len(items)
		out.NextFrom = &next
	}
	return out
}

func lookupActions() []*action.Action {
	ro := action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}
	return []*action.Action{
		action.Define("list_organizations", action.Info{
			Title:       "List organizations",
			Description: "Lists the help desks (organizations) the user belongs to. Gives orgId, needed when the connection has no default one.",
			Toolset:     "lookups",
			Hints:       ro, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, _ ListOrganizationsInput) (OrganizationsOutput, error) {
			orgs, _, err := call.Desk.Organizations.List(ctx)
			if err != nil {
				return OrganizationsOutput{}, err
			}
			out := OrganizationsOutput{Data: make([]json.RawMessage, 0, len(orgs))}
			for _, o := range orgs {
				out.Data = append(out.Data, o.Raw)
			}
			out.Count = len(out.Data)
			return out, nil
		}),
		action.Define("list_departments", action.Info{
			Title:       "List departments",
			Description: "Lists departments, with an optional name search. Gives departmentId for create_ticket, list_tickets and add_agent.",
			Toolset:     "lookups",
			Hints:       ro, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListDepartmentsInput) (ListOutput, error) {
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			p := in.Params
			limit := pageLimit(p.Limit, zohodesk.MaxLimitDepartments)
			items, _, err := call.Desk.Departments.List(ctx, org, &zohodesk.DepartmentListOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit},
				IsEnabled:   p.IsEnabled, SearchStr: p.SearchStr,
			})
			if err != nil {
				return ListOutput{}, err
			}
			return pageOf(items, func(d *zohodesk.Department) json.RawMessage { return d.Raw }, p.From, limit), nil
		}),
		action.Define("list_teams", action.Info{
			Title:       "List teams",
			Description: "Lists the teams of the user's departments. Gives teamId for create_ticket and update_ticket, and teamIds for list_tickets.",
			Toolset:     "lookups",
			Hints:       ro, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListTeamsInput) (ListOutput, error) {
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			p := in.Params
			limit := pageLimit(p.Limit, zohodesk.MaxLimitTeams)
			items, _, err := call.Desk.Teams.List(ctx, org, &zohodesk.TeamListOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit},
			})
			if err != nil {
				return ListOutput{}, err
			}
			return pageOf(items, func(t *zohodesk.Team) json.RawMessage { return t.Raw }, p.From, limit), nil
		}),
		action.Define("list_products", action.Info{
			Title:       "List products",
			Description: "Lists products, optionally of one department. Gives productId for create_ticket and update_ticket.",
			Toolset:     "lookups",
			Hints:       ro, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListProductsInput) (ListOutput, error) {
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			p := in.Params
			limit := pageLimit(p.Limit, zohodesk.MaxLimitProducts)
			items, _, err := call.Desk.Products.List(ctx, org, &zohodesk.ProductListOptions{
				ListOptions:  zohodesk.ListOptions{From: p.From, Limit: limit},
				DepartmentID: p.DepartmentID, SortBy: p.SortBy,
			})
			if err != nil {
				return ListOutput{}, err
			}
			return pageOf(items, func(x *zohodesk.Product) json.RawMessage { return x.Raw }, p.From, limit), nil
		}),
		action.Define("list_roles", action.Info{
			Title:       "List roles",
			Description: "Lists roles (who reports to whom). Gives roleId for add_agent with rolePermissionType Custom, and roleIds for list_agents.",
			Toolset:     "lookups",
			Hints:       ro, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListRolesInput) (ListOutput, error) {
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			p := in.Params
			limit := pageLimit(p.Limit, zohodesk.MaxLimitRoles)
			items, _, err := call.Desk.Roles.List(ctx, org, &zohodesk.RoleListOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit},
				IsVisible:   p.IsVisible, IsDefault: p.IsDefault, SearchStr: p.SearchStr,
			})
			if err != nil {
				return ListOutput{}, err
			}
			return pageOf(items, func(x *zohodesk.Role) json.RawMessage { return x.Raw }, p.From, limit), nil
		}),
		action.Define("list_profiles", action.Info{
			Title:       "List profiles",
			Description: "Lists permission profiles. Gives profileId for add_agent with rolePermissionType Custom, and profileIds for list_agents.",
			Toolset:     "lookups",
			Hints:       ro, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListProfilesInput) (ListOutput, error) {
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return ListOutput{}, err
			}
			p := in.Params
			limit := pageLimit(p.Limit, zohodesk.MaxLimitProfiles)
			items, _, err := call.Desk.Profiles.List(ctx, org, &zohodesk.ProfileListOptions{
				ListOptions: zohodesk.ListOptions{From: p.From, Limit: limit},
				Default:     p.Default, Visible: p.Visible, SearchStr: p.SearchStr,
			})
			if err != nil {
				return ListOutput{}, err
			}
			return pageOf(items, func(x *zohodesk.Profile) json.RawMessage { return x.Raw }, p.From, limit), nil
		}),
	}
}
