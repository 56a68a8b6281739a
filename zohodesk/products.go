package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
)

// ProductsService lists products.
type ProductsService service

// Product is a Desk product; Raw keeps Zoho's whole object. UnitPrice is a
// decimal string as Zoho sends it ("100.0").
type Product struct {
	ID              string         `json:"id"`
	ProductName     string         `json:"productName"`
	ProductCode     string         `json:"productCode,omitempty"`
	UnitPrice       string         `json:"unitPrice,omitempty"`
	DepartmentIDs   []string       `json:"departmentIds,omitempty"`
	ProductCategory string         `json:"productCategory,omitempty"`
	Description     string         `json:"description,omitempty"`
	OwnerID         string         `json:"ownerId,omitempty"`
	CF              map[string]any `json:"cf,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes p and keeps the whole object in Raw.
func (p *Product) UnmarshalJSON(b []byte) error {
	type plain Product
	if err := decodeLenient(b, (*plain)(p)); err != nil {
		return err
	}
	p.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// ProductListOptions are the query parameters of Products.List. Limit is at
// most MaxLimitProducts.
type ProductListOptions struct {
	ListOptions
	ViewID string
	// DepartmentID "0" means all accessible departments.
	DepartmentID string
	OwnerID      string
	// SortBy: productName, productCode, unitPrice, createdTime or
	// modifiedTime; a "-" prefix sorts descending.
	SortBy string
	// Fields is a comma-separated list of field API names.
	Fields string
	// Include: "owner".
	Include string
}

func (o *ProductListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if err := o.check(MaxLimitProducts); err != nil {
		return nil, err
	}
	o.set(q)
	setStr(q, "viewId", o.ViewID)
	setStr(q, "departmentId", o.DepartmentID)
	setStr(q, "ownerId", o.OwnerID)
	setStr(q, "sortBy", o.SortBy)
	setStr(q, "fields", o.Fields)
	setStr(q, "include", o.Include)
	return q, nil
}

// List returns one page of products (empty on 204).
//
//desk:operation GET /api/v1/products
func (s *ProductsService) List(ctx context.Context, orgID string, opts *ProductListOptions) ([]*Product, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	return getList[Product](ctx, s.client, orgID, "products", "products", q)
}

// ListAll iterates over every product, page by page.
func (s *ProductsService) ListAll(ctx context.Context, orgID string, opts *ProductListOptions) iter.Seq2[*Product, error] {
	o := ProductListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitProducts, -1, func(lo ListOptions) ([]*Product, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, &o)
		return items, err
	})
}
