package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestKeyLocksExcludePerKey(t *testing.T) {
	t.Parallel()
	var k KeyLocks
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := k.Lock(t.Context(), "a")
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				m := maxInside.Load()
				if n <= m || maxInside.CompareAndSwap(m, n) {
					break
				}
			}
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Errorf("%d goroutines held one key's lock at once, want 1", maxInside.Load())
	}
	if len(k.m) != 0 {
		t.Errorf("%d entries left after every lock was released, want 0", len(k.m))
	}
}

func TestKeyLocksIndependentKeysAndCancel(t *testing.T) {
	t.Parallel()
	var k KeyLocks
	unlockA, err := k.Lock(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is free while "a" is held.
	unlockB, err := k.Lock(t.Context(), "b")
	if err != nil {
		t.Fatalf("lock b while a is held: %v", err)
	}
	unlockB()
	// A waiter on "a" gives up when its context ends, and holds nothing.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := k.Lock(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with a cancelled context = %v, want context.Canceled", err)
	}
	unlockA()
	unlock, err := k.Lock(t.Context(), "a")
	if err != nil {
		t.Fatalf("lock a after release: %v", err)
	}
	unlock()
	if len(k.m) != 0 {
		t.Errorf("%d entries left, want 0", len(k.m))
	}
}
