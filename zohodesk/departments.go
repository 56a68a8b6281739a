package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
)

// DepartmentsService lists departments.
type DepartmentsService service

// Department is a Desk department; Raw keeps Zoho's whole object.
type Department struct {
	ID                        string `json:"id"`
	Name                      string `json:"name"`
	NameInCustomerPortal      string `json:"nameInCustomerPortal,omitempty"`
	Description               string `json:"description,omitempty"`
	IsDefault                 bool   `json:"isDefault"`
	IsEnabled                 bool   `json:"isEnabled"`
	IsVisibleInCustomerPortal bool   `json:"isVisibleInCustomerPortal"`
	IsAssignToTeamEnabled     bool   `json:"isAssignToTeamEnabled"`
	HasLogo                   bool   `json:"hasLogo"`
	ChatStatus                string `json:"chatStatus,omitempty"`
	CreatorID                 string `json:"creatorId,omitempty"`
	CreatedTime               string `json:"createdTime,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes d and keeps the whole object in Raw.
func (d *Department) UnmarshalJSON(b []byte) error {
	type plain Department
	if err := decodeLenient(b, (*plain)(d)); err != nil {
		return err
	}
	d.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// DepartmentListOptions are the query parameters of Departments.List.
// Limit is at most MaxLimitDepartments.
type DepartmentListOptions struct {
	ListOptions
	IsEnabled *bool
	// SearchStr: "abc*" starts with, "*abc*" contains, "abc" exact.
	SearchStr string
	// ChatStatus: AVAILABLE, DISABLED, NOT_CREATED or ${UNAVAILABLE}.
	ChatStatus string
}

func (o *DepartmentListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitDepartments); err != nil {
		return nil, err
	}
	o.set(q)
	setBool(q, "isEnabled", o.IsEnabled)
	setStr(q, "searchStr", o.SearchStr)
	setStr(q, "chatStatus", o.ChatStatus)
	return q, nil
}

// List returns one page of departments (empty on 204).
//
//desk:operation GET /api/v1/departments
func (s *DepartmentsService) List(ctx context.Context, orgID string, opts *DepartmentListOptions) ([]*Department, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getList[Department](ctx, s.client, orgID, "departments", "departments", q)
}

// ListAll iterates over every department from opts.From on, page by page.
func (s *DepartmentsService) ListAll(ctx context.Context, orgID string, opts *DepartmentListOptions) iter.Seq2[*Department, error] {
	o := DepartmentListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitDepartments, -1, func(lo ListOptions) ([]*Department, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, &o)
		return items, err
	})
}
