package store

import (
	"context"
	"maps"
	"slices"
)

// Versioned is implemented by a Store that can tell cheaply whether
// anything was committed to it since an earlier reading, by this process
// or any other: DataVersion returns the same number until something is.
// The connection manager uses it to serve a connection it has read from
// memory for as long as nothing at all was written (see
// connection.Manager.Get); a store that does not implement it is read on
// every lookup.
type Versioned interface {
	DataVersion(ctx context.Context) (int64, error)
}

// Clone returns a deep copy of c: the copy shares no slice or map with it.
func (c *Connection) Clone() *Connection {
	cp := *c
	cp.SealedClientSecret = slices.Clone(c.SealedClientSecret)
	cp.Scopes = slices.Clone(c.Scopes)
	cp.OrgChoices = slices.Clone(c.OrgChoices)
	cp.SealedRefreshToken = slices.Clone(c.SealedRefreshToken)
	cp.SealedAccessToken = slices.Clone(c.SealedAccessToken)
	cp.TokenRequests = slices.Clone(c.TokenRequests)
	cp.Policies = maps.Clone(c.Policies)
	return &cp
}

// Clone returns a deep copy of k.
func (k *APIKey) Clone() *APIKey {
	cp := *k
	cp.Hash = slices.Clone(k.Hash)
	cp.Actions = slices.Clone(k.Actions)
	return &cp
}
