package zohodesk

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"
)

// TagsService lists, adds and removes the tags of a ticket.
type TagsService service

// Tag is a ticket tag. TagType is MANUAL or SYSTEM.
type Tag struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	TagType     string `json:"tagType,omitempty"`
	TicketCount string `json:"ticketCount,omitempty"`
}

// UnmarshalJSON decodes t, accepting ids sent as numbers (Zoho's examples
// print tag ids as numbers).
func (t *Tag) UnmarshalJSON(b []byte) error {
	type plain Tag
	return decodeLenient(b, (*plain)(t))
}

// MaxTagsPerCall is the most tag names one associate or dissociate call
// takes (OAS: 1-51).
const MaxTagsPerCall = 51

// CheckTagNames reports the first tag name Zoho would refuse: each must be
// 3-50 characters of letters, digits, spaces, "_ . - + %" or non-ASCII
// characters, and not "null"; 1-51 names per call (OAS TicketTag).
func CheckTagNames(names []string) error {
	if len(names) == 0 || len(names) > MaxTagsPerCall {
		return invalidf("tags: give 1 to %d tag names, not %d", MaxTagsPerCall, len(names))
	}
	for _, n := range names {
		if c := utf8.RuneCountInString(n); c < 3 || c > 50 {
			return invalidf("tag %q: a tag name has 3 to 50 characters", n)
		}
		if strings.EqualFold(n, "null") {
			return invalidf("tag %q is reserved", n)
		}
		for _, r := range n {
			ok := r >= 0x80 || r == ' ' || r == '_' || r == '.' || r == '-' || r == '+' || r == '%' ||
				(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
			if !ok {
				return invalidf("tag %q: character %q is not allowed (letters, digits, spaces and _ . - + %% only)", n, r)
			}
		}
	}
	return nil
}

// List returns a ticket's tags. Zoho wraps them as {"tags": [...]}, not
// {"data": [...]}.
//
//desk:operation GET /api/v1/tickets/{ticketId}/tags
func (s *TagsService) List(ctx context.Context, orgID, ticketID string) ([]*Tag, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	var body struct {
		Tags []*Tag `json:"tags"`
	}
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "tickets/{ticketId}/tags", path: "tickets/" + id + "/tags", orgID: orgID, withOrg: true}, &body)
	if err != nil {
		return nil, resp, err
	}
	return body.Tags, resp, nil
}

type tagNames struct {
	Tags []string `json:"tags"`
}

// Add associates tags with a ticket by name; a name the department does not
// have yet becomes a new tag. It returns the ticket's tags that were added.
//
//desk:operation POST /api/v1/tickets/{ticketId}/associateTag
func (s *TagsService) Add(ctx context.Context, orgID, ticketID string, names []string) ([]*Tag, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckTagNames(names); err != nil {
		return nil, nil, err
	}
	var body struct {
		Data []*Tag `json:"data"`
	}
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "tickets/{ticketId}/associateTag", path: "tickets/" + id + "/associateTag", orgID: orgID, withOrg: true, jsonBody: tagNames{names}}, &body)
	if err != nil {
		return nil, resp, err
	}
	return body.Data, resp, nil
}

// Remove dissociates tags from a ticket by name (the tags themselves stay).
//
//desk:operation POST /api/v1/tickets/{ticketId}/dissociateTag
func (s *TagsService) Remove(ctx context.Context, orgID, ticketID string, names []string) (*Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, err
	}
	id, err := segment("ticketID", ticketID)
	if err != nil {
		return nil, err
	}
	if err := CheckTagNames(names); err != nil {
		return nil, err
	}
	return s.client.do(ctx, &request{method: http.MethodPost, tmpl: "tickets/{ticketId}/dissociateTag", path: "tickets/" + id + "/dissociateTag", orgID: orgID, withOrg: true, jsonBody: tagNames{names}}, nil)
}
