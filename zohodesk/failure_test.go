package zohodesk

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestEveryMethodFailsCleanly calls every method against a server that is
// gone: each must return a nil result and a *TransportError that names the
// method and path and holds no token.
func TestEveryMethodFailsCleanly(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nil)
	srv.Close()
	c, err := New(Config{BaseURL: srv.URL + basePath, Tokens: StaticToken(testToken), Retry: RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	o := testOrg
	tc := &TicketCreateRequest{Subject: "s", DepartmentID: "1", ContactID: "2"}
	ac := &AgentCreateRequest{EmailID: "a@b", LastName: "x", AssociatedDepartmentIDs: []string{"1"}, RolePermissionType: "Light"}
	calls := map[string]func() (bool, error){
		"Organizations.List":           func() (bool, error) { r, _, err := c.Organizations.List(ctx); return r == nil, err },
		"Organizations.ListAccessible": func() (bool, error) { r, _, err := c.Organizations.ListAccessible(ctx); return r == nil, err },
		"Departments.List":             func() (bool, error) { r, _, err := c.Departments.List(ctx, o, nil); return r == nil, err },
		"Teams.List":                   func() (bool, error) { r, _, err := c.Teams.List(ctx, o, nil); return r == nil, err },
		"Products.List":                func() (bool, error) { r, _, err := c.Products.List(ctx, o, nil); return r == nil, err },
		"Roles.List":                   func() (bool, error) { r, _, err := c.Roles.List(ctx, o, nil); return r == nil, err },
		"Profiles.List":                func() (bool, error) { r, _, err := c.Profiles.List(ctx, o, nil); return r == nil, err },
		"Contacts.List":                func() (bool, error) { r, _, err := c.Contacts.List(ctx, o, nil); return r == nil, err },
		"Contacts.Search":              func() (bool, error) { r, _, err := c.Contacts.Search(ctx, o, nil); return r == nil, err },
		"Contacts.Create": func() (bool, error) {
			r, _, err := c.Contacts.Create(ctx, o, &ContactCreateRequest{LastName: "x"})
			return r == nil, err
		},
		"Contacts.Get":      func() (bool, error) { r, _, err := c.Contacts.Get(ctx, o, "1", nil); return r == nil, err },
		"Agents.Add":        func() (bool, error) { r, _, err := c.Agents.Add(ctx, o, ac); return r == nil, err },
		"Agents.List":       func() (bool, error) { r, _, err := c.Agents.List(ctx, o, nil); return r == nil, err },
		"Agents.Get":        func() (bool, error) { r, _, err := c.Agents.Get(ctx, o, "1", nil); return r == nil, err },
		"Agents.GetByEmail": func() (bool, error) { r, _, err := c.Agents.GetByEmail(ctx, o, "a@b"); return r == nil, err },
		"Agents.Deactivate": func() (bool, error) { r, err := c.Agents.Deactivate(ctx, o, "1"); return r == nil, err },
		"Agents.Activate":   func() (bool, error) { r, err := c.Agents.Activate(ctx, o, []string{"1"}); return r == nil, err },
		"MyInfo":            func() (bool, error) { r, _, err := c.MyInfo(ctx, o, nil); return r == nil, err },
		"Tickets.Create":    func() (bool, error) { r, _, err := c.Tickets.Create(ctx, o, tc); return r == nil, err },
		"Tickets.List":      func() (bool, error) { r, _, err := c.Tickets.List(ctx, o, nil); return r == nil, err },
		"Tickets.Get":       func() (bool, error) { r, _, err := c.Tickets.Get(ctx, o, "1", nil); return r == nil, err },
		"Tickets.Update": func() (bool, error) {
			r, _, err := c.Tickets.Update(ctx, o, "1", &TicketUpdateRequest{Status: Set("Open")}, nil)
			return r == nil, err
		},
		"Tickets.MoveToTrash": func() (bool, error) { r, err := c.Tickets.MoveToTrash(ctx, o, []string{"1"}); return r == nil, err },
		"Tickets.Search":      func() (bool, error) { r, _, err := c.Tickets.Search(ctx, o, nil); return r == nil, err },
		"Uploads.Create": func() (bool, error) {
			r, _, err := c.Uploads.Create(ctx, o, "a.txt", strings.NewReader("x"))
			return r == nil, err
		},
		"TicketAttachments.Create": func() (bool, error) {
			r, _, err := c.TicketAttachments.Create(ctx, o, "1", "a.txt", strings.NewReader("x"), nil)
			return r == nil, err
		},
		"TicketAttachments.List": func() (bool, error) { r, _, err := c.TicketAttachments.List(ctx, o, "1", nil); return r == nil, err },
		"TicketAttachments.Download": func() (bool, error) {
			r, _, err := c.TicketAttachments.Download(ctx, o, "tickets/1/attachments/2/content")
			return r == nil, err
		},
	}
	for name, call := range calls {
		isNil, err := call()
		var te *TransportError
		if !isNil || !errors.As(err, &te) || te.Path == "" || te.Method == "" || !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: nil result %v, err %v; want nil and a *TransportError", name, isNil, err)
			continue
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: error text holds the token", name)
		}
	}
}
