package restapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/store"
)

// KeyScope returns the scope of the API key that authenticated the request
// (the zero scope for an unscoped key, and outside the middleware).
func KeyScope(ctx context.Context) action.KeyScope {
	v, _ := ctx.Value(keyScope).(action.KeyScope)
	return v
}

// WithScope returns ctx carrying an API key's scope, as the middleware
// sets it (for handlers tested without the server).
func WithScope(ctx context.Context, s action.KeyScope) context.Context {
	return context.WithValue(ctx, keyScope, s)
}

// scopeOf returns k's scope, with the name of its connection for messages
// (its id when the connection is gone).
func (s *Server) scopeOf(ctx context.Context, k *store.APIKey) (action.KeyScope, error) {
	sc := action.KeyScope{ReadOnly: k.ReadOnly, ConnectionID: k.ConnectionID, Actions: k.Actions}
	if sc.ConnectionID == "" {
		return sc, nil
	}
	c, err := s.store.GetConnection(ctx, k.TenantID, k.ConnectionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		sc.ConnectionName = k.ConnectionID
	case err != nil:
		return sc, fmt.Errorf("read the API key's connection: %w", err)
	default:
		sc.ConnectionName = c.Name
	}
	return sc, nil
}

// requireFullKey refuses a request whose API key is limited in any way:
// creating, connecting and deleting connections and changing their
// policies would let a limited key escape its limits. what says what the
// request does ("change policies").
func requireFullKey(ctx context.Context, what string) error {
	sc := KeyScope(ctx)
	if !sc.Limited() {
		return nil
	}
	if sc.ReadOnly {
		return &deskconn.Error{Code: deskconn.CodeForbidden, Err: action.ErrOutOfScope,
			Message: fmt.Sprintf("this API key is read-only: it cannot %s; use a key without limits", what)}
	}
	return &deskconn.Error{Code: deskconn.CodeForbidden, Err: action.ErrOutOfScope,
		Message: fmt.Sprintf("this API key is limited (%s): it cannot %s; use a key without limits", sc, what)}
}
