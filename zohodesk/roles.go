package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
)

// RolesService lists roles.
type RolesService service

// Role is a Desk role; Raw keeps Zoho's whole object. ReportsTo is "" for
// the root role.
type Role struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Description        string   `json:"description,omitempty"`
	IsDefault          bool     `json:"isDefault"`
	IsVisible          bool     `json:"isVisible"`
	ReportsTo          string   `json:"reportsTo,omitempty"`
	ShareDataWithPeers bool     `json:"shareDataWithPeers"`
	ImmediateSubRoles  []string `json:"immediateSubRoles,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes r and keeps the whole object in Raw.
func (r *Role) UnmarshalJSON(b []byte) error {
	type plain Role
	if err := decodeLenient(b, (*plain)(r)); err != nil {
		return err
	}
	r.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// RoleListOptions are the query parameters of Roles.List. Limit is at most
// MaxLimitRoles.
type RoleListOptions struct {
	ListOptions
	IsVisible *bool
	IsDefault *bool
	SearchStr string
}

func (o *RoleListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitRoles); err != nil {
		return nil, err
	}
	o.set(q)
	setBool(q, "isVisible", o.IsVisible)
	setBool(q, "isDefault", o.IsDefault)
	setStr(q, "searchStr", o.SearchStr)
	return q, nil
}

// List returns one page of roles (empty on 204).
//
//desk:operation GET /api/v1/roles
func (s *RolesService) List(ctx context.Context, orgID string, opts *RoleListOptions) ([]*Role, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getList[Role](ctx, s.client, orgID, "roles", "roles", q)
}

// ListAll iterates over every role, page by page.
func (s *RolesService) ListAll(ctx context.Context, orgID string, opts *RoleListOptions) iter.Seq2[*Role, error] {
	o := RoleListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitRoles, -1, func(lo ListOptions) ([]*Role, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, &o)
		return items, err
	})
}
