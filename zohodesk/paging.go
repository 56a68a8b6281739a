package zohodesk

import (
	"context"
	"iter"
	"net/url"
	"strconv"
)

// ListOptions are the paging parameters shared by list endpoints. Desk pages
// by offset: From is the 0-based index of the first item (recorded
// desk.zoho.com answers: from=1 skips the first row; fidelity audit row
// 20), Limit the page
// size (0 means the endpoint's default). Each endpoint has its own maximum
// (the MaxLimit... constants); a value out of range is refused locally with
// ErrInvalid before any request is sent.
type ListOptions struct {
	From  int
	Limit int
}

// Per-endpoint maxima of the "limit" query parameter (Zoho's OpenAPI files
// and Desk documentation).
const (
	MaxLimitTickets           = 100 // GET /tickets: OAS gives no maximum; Desk docs say 100
	MaxLimitTicketSearch      = 100
	MaxLimitContacts          = 100
	MaxLimitContactSearch     = 100
	MaxLimitTicketAttachments = 100
	MaxLimitAgents            = 200
	MaxLimitDepartments       = 200
	MaxLimitTeams             = 200 // 0 = all teams
	MaxLimitProducts          = 100
	MaxLimitRoles             = 500
	MaxLimitProfiles          = 250
	// MaxFromSearch is the largest "from" the search endpoints accept
	// (OAS: 999). [GAP] Other sources say 4,999; we use the documented 999.
	MaxFromSearch = 999
)

// check validates the paging values against an endpoint's limits; minLimit
// is 0 or 1 (0 when the endpoint accepts limit=0).
func (o ListOptions) check(maxLimit int) error {
	if o.From < 0 {
		return invalidf("from %d is negative", o.From)
	}
	if o.Limit < 0 || o.Limit > maxLimit {
		return invalidf("limit %d is out of range 1..%d", o.Limit, maxLimit)
	}
	return nil
}

func (o ListOptions) set(q url.Values) {
	if o.From > 0 {
		q.Set("from", strconv.Itoa(o.From))
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
}

func setStr(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}

func setBool(q url.Values, key string, v *bool) {
	if v != nil {
		q.Set(key, strconv.FormatBool(*v))
	}
}

// listResponse is Desk's list wrapper. Search endpoints add "count".
type listResponse[T any] struct {
	Data  []*T   `json:"data"`
	Count string `json:"count,omitempty"`
}

// pages walks a list endpoint page by page. It starts at first (with Limit
// defaulting to maxLimit), stops after a short page (including a 204 empty
// page), when maxFrom would be passed (maxFrom < 0 means no bound), when
// yield returns false, or when ctx is done (yielding ctx.Err()).
func pages[T any](ctx context.Context, first ListOptions, maxLimit, maxFrom int, page func(ListOptions) ([]*T, error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		lo := first
		if lo.Limit == 0 {
			lo.Limit = maxLimit
		}
		for {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			items, err := page(lo)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if len(items) < lo.Limit {
				return
			}
			lo.From += len(items)
			if maxFrom >= 0 && lo.From > maxFrom {
				return
			}
		}
	}
}
