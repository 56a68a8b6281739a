package zohodesk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// OrganizationsService lists Desk organizations. Its calls send no orgId.
type OrganizationsService service

// Organization is a Desk organization (portal). Raw keeps Zoho's whole
// object, including fields this struct does not name.
type Organization struct {
	ID                         string `json:"id"`
	CompanyName                string `json:"companyName,omitempty"`
	PortalName                 string `json:"portalName,omitempty"`
	PortalURL                  string `json:"portalURL,omitempty"`
	Alias                      string `json:"alias,omitempty"`
	Edition                    string `json:"edition,omitempty"`
	IsAdminInOrg               bool   `json:"isAdminInOrg"`
	IsDefault                  bool   `json:"isDefault"`
	IsSandboxPortal            bool   `json:"isSandboxPortal"`
	IsPayloadEncryptionEnabled bool   `json:"isPayloadEncryptionEnabled"`
	TimeZone                   string `json:"timeZone,omitempty"`
	CurrencyCode               string `json:"currencyCode,omitempty"`
	CurrencyLocale             string `json:"currencyLocale,omitempty"`
	CurrencySymbol             string `json:"currencySymbol,omitempty"`
	LogoURL                    string `json:"logoURL,omitempty"`
	FaviconURL                 string `json:"faviconURL,omitempty"`
	Country                    string `json:"country,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes o and keeps the whole object in Raw.
func (o *Organization) UnmarshalJSON(b []byte) error {
	type plain Organization
	if err := decodeLenient(b, (*plain)(o)); err != nil {
		return err
	}
	o.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// List returns every organization the user belongs to.
//
//desk:operation GET /api/v1/organizations
func (s *OrganizationsService) List(ctx context.Context) ([]*Organization, *Response, error) {
	return getList[Organization](ctx, s.client, "", "organizations", "organizations", nil)
}

// ListAccessible returns the organizations this token can reach (the one
// bound at consent, for Desk tokens).
//
//desk:operation GET /api/v1/accessibleOrganizations
func (s *OrganizationsService) ListAccessible(ctx context.Context) ([]*Organization, *Response, error) {
	return getList[Organization](ctx, s.client, "", "accessibleOrganizations", "accessibleOrganizations", nil)
}

// getList GETs a {"data":[...]} list; orgID "" sends no orgId header. A 204
// gives an empty (nil) slice.
func getList[T any](ctx context.Context, c *Client, orgID, tmpl, path string, q url.Values) ([]*T, *Response, error) {
	var body listResponse[T]
	resp, err := c.do(ctx, &request{method: http.MethodGet, tmpl: tmpl, path: path, query: q, orgID: orgID, withOrg: orgID != ""}, &body)
	if err != nil {
		return nil, resp, err
	}
	return body.Data, resp, nil
}

// getRawList is getList for callers that pass Zoho's objects on as they
// came: each item is a slice of the answer's body (not a copy), capped at
// its length so that an append cannot write over the next one, and a null
// item is dropped.
func getRawList(ctx context.Context, c *Client, orgID, tmpl, path string, q url.Values) ([]json.RawMessage, *Response, error) {
	var body struct {
		Data []json.RawMessage `json:"data"`
	}
	resp, err := c.do(ctx, &request{method: http.MethodGet, tmpl: tmpl, path: path, query: q, orgID: orgID, withOrg: orgID != "", aliasRaw: true}, &body)
	if err != nil {
		return nil, resp, err
	}
	items := body.Data[:0]
	for _, it := range body.Data {
		if len(it) > 0 && string(it) != "null" {
			items = append(items, it[:len(it):len(it)])
		}
	}
	return items, resp, nil
}
