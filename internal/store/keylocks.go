package store

import (
	"context"
	"sync"
)

// KeyLocks is a set of context-aware mutexes, one per key, made on demand
// and dropped when nobody holds or waits for them. Backends use it so that
// only one goroutine per process waits on the cross-process refresh lock of
// a connection. The zero value is ready to use; it is safe for concurrent
// use.
type KeyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds one token while the lock is held
	refs int           // holders and waiters
}

// Lock takes the lock of key, waiting until it is free or ctx ends (then
// it returns ctx's error and holds nothing). unlock releases it.
func (k *KeyLocks) Lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyLock)
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	deref := func() {
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; deref() }, nil
	case <-ctx.Done():
		deref()
		return nil, ctx.Err()
	}
}
