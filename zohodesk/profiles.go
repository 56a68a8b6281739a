package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
)

// ProfilesService lists permission profiles.
type ProfilesService service

// Profile is a Desk permission profile; Raw keeps Zoho's whole object
// (including "permissions" when requested through Fields). Type is ADMIN,
// STANDARD, LIGHT, CUSTOM or PORTAL.
type Profile struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
	Default     bool   `json:"default"`
	IsVisible   bool   `json:"isVisible"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes p and keeps the whole object in Raw.
func (p *Profile) UnmarshalJSON(b []byte) error {
	type plain Profile
	if err := decodeLenient(b, (*plain)(p)); err != nil {
		return err
	}
	p.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// ProfileListOptions are the query parameters of Profiles.List. Limit is at
// most MaxLimitProfiles.
type ProfileListOptions struct {
	ListOptions
	Default   *bool
	Visible   *bool
	SearchStr string
	// Fields: comma list of type, isVisible, default, modifiedBy,
	// modifiedTime, permissions, description.
	Fields string
}

func (o *ProfileListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitProfiles); err != nil {
		return nil, err
	}
	o.set(q)
	setBool(q, "default", o.Default)
	setBool(q, "visible", o.Visible)
	setStr(q, "searchStr", o.SearchStr)
	setStr(q, "fields", o.Fields)
	return q, nil
}

// List returns one page of profiles (empty on 204).
//
//desk:operation GET /api/v1/profiles
func (s *ProfilesService) List(ctx context.Context, orgID string, opts *ProfileListOptions) ([]*Profile, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getList[Profile](ctx, s.client, orgID, "profiles", "profiles", q)
}

// ListAll iterates over every profile, page by page.
func (s *ProfilesService) ListAll(ctx context.Context, orgID string, opts *ProfileListOptions) iter.Seq2[*Profile, error] {
	o := ProfileListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitProfiles, -1, func(lo ListOptions) ([]*Profile, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, &o)
		return items, err
	})
}
