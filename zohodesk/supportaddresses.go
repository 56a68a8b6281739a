package zohodesk

import (
	"context"
	"encoding/json"
	"net/url"
)

// SupportEmailAddressesService lists the portal's support (from) addresses,
// the values a reply's FromEmailAddress may take.
type SupportEmailAddressesService service

// SupportEmailAddress is one configured support address. [D] PD reads
// "address"; the other fields are [GAP] and kept in Raw.
type SupportEmailAddress struct {
	ID           string `json:"id,omitempty"`
	Address      string `json:"address"`
	DisplayName  string `json:"displayName,omitempty"`
	DepartmentID string `json:"departmentId,omitempty"`
	IsDefault    bool   `json:"isDefault"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a and keeps the whole object in Raw.
func (a *SupportEmailAddress) UnmarshalJSON(b []byte) error {
	type plain SupportEmailAddress
	if err := decodeLenient(b, (*plain)(a)); err != nil {
		return err
	}
	a.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MaxLimitSupportEmailAddresses is the largest page. [GAP] undocumented;
// 100 like most lists.
const MaxLimitSupportEmailAddresses = 100

// SupportEmailAddressListOptions are the query parameters of
// SupportEmailAddresses.List.
type SupportEmailAddressListOptions struct {
	ListOptions
	// DepartmentID keeps the addresses of one department.
	DepartmentID string
}

// List returns one page of support addresses (empty on 204). [D] The
// endpoint is GET /supportEmailAddress (PD); it is not in Zoho's OpenAPI
// files.
func (s *SupportEmailAddressesService) List(ctx context.Context, orgID string, opts *SupportEmailAddressListOptions) ([]*SupportEmailAddress, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.check(MaxLimitSupportEmailAddresses); err != nil {
			return nil, nil, err
		}
		opts.set(q)
		setStr(q, "departmentId", opts.DepartmentID)
	}
	return getList[SupportEmailAddress](ctx, s.client, orgID, "supportEmailAddress", "supportEmailAddress", q)
}
