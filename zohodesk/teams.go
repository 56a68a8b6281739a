package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
)

// TeamsService lists teams.
type TeamsService service

// Team is a Desk team; Raw keeps Zoho's whole object.
type Team struct {
	ID                    string   `json:"id"`
	Name                  string   `json:"name"`
	Description           string   `json:"description,omitempty"`
	DepartmentID          string   `json:"departmentId,omitempty"`
	Roles                 []string `json:"roles,omitempty"`
	RolesWithSubordinates []string `json:"rolesWithSubordinates,omitempty"`
	SubTeams              []string `json:"subTeams,omitempty"`
	Agents                []string `json:"agents,omitempty"`
	DerivedAgents         []string `json:"derivedAgents,omitempty"`
	LogoURL               string   `json:"logoUrl,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes t and keeps the whole object in Raw.
func (t *Team) UnmarshalJSON(b []byte) error {
	type plain Team
	if err := decodeLenient(b, (*plain)(t)); err != nil {
		return err
	}
	t.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// TeamListOptions are the query parameters of Teams.List. Limit is at most
// MaxLimitTeams; Zoho treats 0 (the default) as "all teams".
type TeamListOptions struct {
	ListOptions
}

// List returns the teams of the departments the current user belongs to
// (empty on 204).
//
//desk:operation GET /api/v1/teams
func (s *TeamsService) List(ctx context.Context, orgID string, opts *TeamListOptions) ([]*Team, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.check(MaxLimitTeams); err != nil {
			return nil, nil, err
		}
		opts.set(q)
	}
	// The OAS wraps this list as {"teams":[...]}; accept "data" as well in
	// case the live API uses the common wrapper ([GAP] in the facts).
	var body struct {
		Teams []*Team `json:"teams"`
		Data  []*Team `json:"data"`
	}
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "teams", path: "teams", query: q, orgID: orgID, withOrg: true}, &body)
	if err != nil {
		return nil, resp, err
	}
	if body.Teams == nil {
		body.Teams = body.Data
	}
	return body.Teams, resp, nil
}

// ListAll iterates over every team, page by page.
func (s *TeamsService) ListAll(ctx context.Context, orgID string, opts *TeamListOptions) iter.Seq2[*Team, error] {
	o := TeamListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(ctx, o.ListOptions, MaxLimitTeams, -1, func(lo ListOptions) ([]*Team, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, &o)
		return items, err
	})
}
