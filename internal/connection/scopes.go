package connection

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/spelling"
	"github.com/deskconn/deskconn/internal/store"
)

// deskScopeGroups are the scope groups of Zoho Desk's OAuth scopes
// (Desk.<group>.<OPERATION>), from Zoho's API documentation (reference
// zoho-desk-api.md §2.3). A scope outside them is refused when a
// connection is added or edited, with the closest known name.
var deskScopeGroups = []string{
	"tickets", "contacts", "basic", "settings", "search", "products", "tasks", "activities", "calls", "events",
	"articles", "community", "feeds", "zia", "extensions", "integrations", "phonebridge",
	"agents", "teams", "departments", "organization", "permissions",
}

var deskScopeOps = []string{"READ", "CREATE", "UPDATE", "DELETE", "ALL"}

// knownScopes lists every scope name deskconn accepts.
var knownScopes = func() []string {
	var out []string
	for _, g := range deskScopeGroups {
		if g == "search" {
			out = append(out, "Desk.search.READ")
			continue
		}
		for _, op := range deskScopeOps {
			out = append(out, "Desk."+g+"."+op)
		}
	}
	return append(out, "Desk.imports", "Desk.exports")
}()

// KnownScope reports whether s is a Zoho Desk scope name (the operation's
// case is not significant: Zoho's texts use both).
func KnownScope(s string) bool {
	for _, k := range knownScopes {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}

// ClosestScope returns the known scope name nearest to s by edit distance
// (case-insensitive).
func ClosestScope(s string) string {
	best, bestD := "", -1
	ls := strings.ToLower(s)
	for _, k := range knownScopes {
		if d := editDistance(ls, strings.ToLower(k)); bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	if len(a) > 200 || len(b) > 200 {
		return max(len(a), len(b)) // too long to be a scope: no need to be exact
	}
	return spelling.Distance(a, b)
}

// EditInput changes a connection's OAuth client settings. Nil Scopes and
// an empty ClientSecret keep the current values.
type EditInput struct {
	Scopes       []string
	ClientSecret deskconn.Secret
}

// Edit changes a connection's scopes and/or client secret. They take
// effect at the next connect: the stored tokens keep the scopes they were
// granted until the person reconnects, so the connection's last error says
// to reconnect. Scopes are checked as in Create.
func (m *Manager) Edit(ctx context.Context, tenantID, idOrName string, in EditInput) (*store.Connection, error) {
	c, err := m.Get(ctx, tenantID, idOrName)
	if err != nil {
		return nil, err
	}
	var fields []deskconn.FieldError
	for i, s := range in.Scopes {
		switch {
		case !scopeRE.MatchString(s):
			fields = append(fields, deskconn.FieldError{Pointer: fmt.Sprintf("/scopes/%d", i), Code: "invalid", Message: "a scope looks like Desk.tickets.ALL"})
		case !KnownScope(s):
			fields = append(fields, deskconn.FieldError{Pointer: fmt.Sprintf("/scopes/%d", i), Code: "invalid",
				Message: fmt.Sprintf("%s is not a Zoho Desk scope: did you mean %s?", s, ClosestScope(s))})
		}
	}
	if in.Scopes != nil && len(in.Scopes) == 0 {
		fields = append(fields, deskconn.FieldError{Pointer: "/scopes", Code: "missing", Message: "give at least one scope, e.g. Desk.tickets.ALL"})
	}
	secret := strings.TrimSpace(in.ClientSecret.Reveal())
	if len(secret) > 500 {
		fields = append(fields, deskconn.FieldError{Pointer: "/clientSecret", Code: "invalid", Message: "paste the client secret from the Zoho API console"})
	}
	if len(fields) > 0 {
		return nil, deskconn.Invalid("the connection cannot be changed", fields...)
	}
	var out *store.Connection
	err = m.opts.Store.WithRefreshLock(ctx, c.ID, func(ctx context.Context) error {
		cur, err := m.opts.Store.GetConnection(ctx, tenantID, c.ID)
		if err != nil {
			return err
		}
		if in.Scopes != nil {
			cur.Scopes = in.Scopes
		}
		if secret != "" {
			if cur.SealedClientSecret, err = m.seal(cur.ID, colClientSecret, secret); err != nil {
				return err
			}
		}
		if cur.Status != store.StatusPending {
			cur.LastError = "the client settings changed: reconnect to apply them"
		}
		if err := m.opts.Store.UpdateConnection(ctx, cur); err != nil {
			return err
		}
		out = cur
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, deskconn.Errorf(deskconn.CodeNotFound, "no connection %q", idOrName)
	}
	if err != nil {
		return nil, fmt.Errorf("edit connection: %w", err)
	}
	m.forget(c.ID)
	m.log.Info("connection client settings changed", "tenant", tenantID, "connection", c.ID, "scopes_changed", in.Scopes != nil, "secret_changed", secret != "")
	return out, nil
}
