package store

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
)

// Versioned is implemented by a Store that can tell cheaply whether a
// connection or an API key changed since an earlier reading, by this
// process or any other: CacheVersion returns the same number until one
// does (other writes may change it too, never the other way round).
// VersionedCache uses it to serve connections and API keys read before
// from memory for as long as none changed; a store that does not implement
// it is read on every lookup.
type Versioned interface {
	CacheVersion(ctx context.Context) (int64, error)
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

// VersionedCache holds values read from a store, each valid only at the
// cache version (see Versioned) it was read at; Load is the way in. It
// holds at most max entries (then it starts again empty). The zero value
// is not usable: use NewVersionedCache.
type VersionedCache[T any] struct {
	mu    sync.Mutex
	m     map[string]versioned[T]
	max   int
	clone func(T) T
	log   *slog.Logger
}

type versioned[T any] struct {
	v       T
	version int64
}

// NewVersionedCache returns an empty cache of at most max entries. clone
// copies a value, so that callers share none with the cache or each other;
// a cache version that cannot be read is logged on log (nil: not logged).
func NewVersionedCache[T any](max int, clone func(T) T, log *slog.Logger) *VersionedCache[T] {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &VersionedCache[T]{m: map[string]versioned[T]{}, max: max, clone: clone, log: log}
}

// Load returns a copy of the value of key. With a store that reports its
// cache version (Versioned), a value read before is served from memory
// while no connection or API key changed since, by this process or
// another, and fresh accepts it; otherwise it is read with read and
// remembered at the version read before it, so that a commit in between
// makes the next Load read again instead of serving an older value. A
// store that is not Versioned, or whose version cannot be read, is read
// every time. Errors of read are returned and nothing is remembered.
func (c *VersionedCache[T]) Load(ctx context.Context, st Store, key string, fresh func(T) bool, read func(context.Context) (T, error)) (T, error) {
	vs, ok := st.(Versioned)
	if !ok {
		return read(ctx)
	}
	version, err := vs.CacheVersion(ctx)
	if err != nil {
		c.log.Warn("read the store's cache version; reading the store", "err", err)
		return read(ctx)
	}
	if v, ok := c.get(key, version); ok && fresh(v) {
		return c.clone(v), nil
	}
	v, err := read(ctx)
	if err != nil {
		return v, err
	}
	c.put(key, version, c.clone(v))
	return v, nil
}

// get returns the value stored for key at version, if any.
func (c *VersionedCache[T]) get(key string, version int64) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || e.version != version {
		var zero T
		return zero, false
	}
	return e.v, true
}

// put stores v for key as read at version.
func (c *VersionedCache[T]) put(key string, version int64, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[key] = versioned[T]{v: v, version: version}
}
