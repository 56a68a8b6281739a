// Package groupcommit shares one store transaction among writes that
// arrive together (group commit): a write that arrives while another
// commits waits for that commit, then is committed with every write that
// arrived meanwhile. Each caller still returns only once its own write is
// committed, so durability is what one transaction per write gives, at the
// cost of one transaction per burst.
package groupcommit

import (
	"context"
	"errors"
	"sync"
)

// ErrCommitPanicked is the error of the calls whose items were in a batch
// whose Commit panicked (the caller that ran it panics again).
var ErrCommitPanicked = errors.New("groupcommit: the commit of this batch panicked")

// Group commits the items of concurrent Do calls in shared batches. The
// zero value is not usable: set Commit. A Group must not be copied after
// first use.
type Group[T any] struct {
	// Commit stores items in one transaction: all of them or none. It is
	// called by one caller at a time, with at least one item, in the order
	// the calls arrived. Its context carries the values of the caller
	// whose turn it is but not its cancellation (the batch holds other
	// callers' items): Commit bounds its own time.
	Commit func(ctx context.Context, items []T) error

	commitMu sync.Mutex // held by the caller whose batch commits
	pendMu   sync.Mutex
	pending  []*request[T]
}

// request is one Do call's item. err and done are written by the committer
// while it holds commitMu, and read by the caller once it holds commitMu.
type request[T any] struct {
	item T
	err  error
	done bool
}

// Do commits item, together with those of concurrent calls, and returns
// once it is committed or failed. When a batch of several items fails, each
// is committed again alone, so an item that cannot be stored fails only
// its own caller. Do waits for the commit under way even when ctx ends:
// the item may already be in it.
func (g *Group[T]) Do(ctx context.Context, item T) error {
	r := &request[T]{item: item}
	g.pendMu.Lock()
	g.pending = append(g.pending, r)
	g.pendMu.Unlock()

	g.commitMu.Lock()
	defer g.commitMu.Unlock()
	if r.done {
		return r.err // committed in an earlier caller's batch
	}
	g.pendMu.Lock()
	batch := g.pending
	g.pending = nil
	g.pendMu.Unlock()

	// A panic in Commit must not leave the batch's other callers to take
	// the lock, find their item not done and commit a batch without it.
	defer func() {
		if p := recover(); p != nil {
			for _, b := range batch {
				if !b.done {
					b.err, b.done = ErrCommitPanicked, true
				}
			}
			panic(p)
		}
	}()
	ctx = context.WithoutCancel(ctx)
	items := make([]T, len(batch))
	for i, b := range batch {
		items[i] = b.item
	}
	err := g.Commit(ctx, items)
	for _, b := range batch {
		b.err, b.done = err, true
		if err != nil && len(batch) > 1 {
			b.err = g.Commit(ctx, []T{b.item})
		}
	}
	return r.err
}

// Waiting reports how many calls wait for the next commit: those that
// arrived since the last batch was taken.
func (g *Group[T]) Waiting() int {
	g.pendMu.Lock()
	defer g.pendMu.Unlock()
	return len(g.pending)
}
