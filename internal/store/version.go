package store

import (
	"context"
	"maps"
	"slices"
	"sync"
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

// VersionedCache holds values read from a Versioned store, each valid only
// at the data version it was read at. It never reads the store: the caller
// reads the version before the value, so that a commit in between makes
// the next Get miss instead of serving an older value. It holds at most
// max entries (then it starts again empty). The zero value is not usable:
// use NewVersionedCache.
type VersionedCache[T any] struct {
	mu  sync.Mutex
	m   map[string]versioned[T]
	max int
}

type versioned[T any] struct {
	v       T
	version int64
}

// NewVersionedCache returns an empty cache of at most max entries.
func NewVersionedCache[T any](max int) *VersionedCache[T] {
	return &VersionedCache[T]{m: map[string]versioned[T]{}, max: max}
}

// Get returns the value stored for key at version, if any.
func (c *VersionedCache[T]) Get(key string, version int64) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || e.version != version {
		var zero T
		return zero, false
	}
	return e.v, true
}

// Put stores v for key as read at version.
func (c *VersionedCache[T]) Put(key string, version int64, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[key] = versioned[T]{v: v, version: version}
}
