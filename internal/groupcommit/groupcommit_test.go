package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// recorder is a Commit that records each batch, refuses any batch holding
// "bad", and can hold the commit of "hold" until released.
type recorder struct {
	mu      sync.Mutex
	batches [][]string
	held    chan struct{} // closed when the commit of "hold" started
	release chan struct{}
}

func newRecorder() *recorder {
	return &recorder{held: make(chan struct{}), release: make(chan struct{})}
}

func (r *recorder) commit(ctx context.Context, items []string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("commit got an ended context: %w", ctx.Err())
	}
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(items))
	r.mu.Unlock()
	if slices.Contains(items, "hold") {
		close(r.held)
		<-r.release
	}
	if slices.Contains(items, "bad") {
		return errors.New("bad item")
	}
	return nil
}

func (r *recorder) seen() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

// waitPending returns once n calls wait for the next batch.
func waitPending[T any](g *Group[T], n int) {
	for g.Waiting() < n {
		runtime.Gosched()
	}
}

// holdFirst starts a Do of "hold" and returns once its commit runs, with
// the channel its result arrives on.
func holdFirst(g *Group[string], rec *recorder) <-chan error {
	first := make(chan error, 1)
	go func() { first <- g.Do(context.Background(), "hold") }()
	<-rec.held
	return first
}

func TestDoCommitsAlone(t *testing.T) {
	rec := newRecorder()
	g := &Group[string]{Commit: rec.commit}
	if err := g.Do(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if err := g.Do(t.Context(), "b"); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.seen(), [][]string{{"a"}, {"b"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("batches %v, want %v", got, want)
	}
}

func TestCallsArrivingDuringACommitShareTheNext(t *testing.T) {
	rec := newRecorder()
	g := &Group[string]{Commit: rec.commit}
	first := holdFirst(g, rec)

	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- g.Do(t.Context(), fmt.Sprint("item", i)) }()
	}
	waitPending(g, n)
	close(rec.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	b := rec.seen()
	if len(b) != 2 || len(b[1]) != n {
		t.Fatalf("batches %v: want the held one, then one of all %d waiting items", b, n)
	}
}

func TestAFailedBatchFailsOnlyTheBadItem(t *testing.T) {
	rec := newRecorder()
	g := &Group[string]{Commit: rec.commit}
	first := holdFirst(g, rec)

	items := []string{"a", "bad", "c"}
	errs := make(map[string]chan error)
	for _, it := range items {
		errs[it] = make(chan error, 1)
	}
	// One at a time, so the batch keeps this order.
	for i, it := range items {
		go func() { errs[it] <- g.Do(t.Context(), it) }()
		waitPending(g, i+1)
	}
	close(rec.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		err := <-errs[it]
		if (it == "bad") != (err != nil) {
			t.Errorf("Do(%q) = %v", it, err)
		}
	}
	want := [][]string{{"hold"}, {"a", "bad", "c"}, {"a"}, {"bad"}, {"c"}}
	if got := rec.seen(); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("batches %v, want %v", got, want)
	}
}

func TestACancelledCallerDoesNotCancelTheCommit(t *testing.T) {
	rec := newRecorder()
	g := &Group[string]{Commit: rec.commit}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := g.Do(ctx, "a"); err != nil {
		t.Fatalf("Do with an ended context: %v (the commit must not see the cancellation)", err)
	}
}

// TestAPanickingCommitFailsItsBatch: the callers whose items were in a
// batch whose Commit panicked get ErrCommitPanicked (not a success for a
// commit that never ran), the caller that ran it panics, and the group
// goes on committing.
func TestAPanickingCommitFailsItsBatch(t *testing.T) {
	rec := newRecorder()
	g := &Group[string]{Commit: func(ctx context.Context, items []string) error {
		if slices.Contains(items, "boom") && len(items) > 1 {
			panic("commit failed hard")
		}
		return rec.commit(ctx, items)
	}}
	first := holdFirst(g, rec)
	type outcome struct {
		err      error
		panicked any
	}
	do := func(item string, out chan<- outcome) {
		var o outcome
		defer func() {
			o.panicked = recover()
			out <- o
		}()
		o.err = g.Do(t.Context(), item)
	}
	a, boom := make(chan outcome, 1), make(chan outcome, 1)
	go do("a", a)
	waitPending(g, 1)
	go do("boom", boom)
	waitPending(g, 2)
	close(rec.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// Whichever caller ran the batch panics; the other gets
	// ErrCommitPanicked.
	oa, ob := <-a, <-boom
	ran, other := oa, ob
	if ob.panicked != nil {
		ran, other = ob, oa
	}
	if ran.panicked == nil {
		t.Fatalf("no caller panicked: Do(a) = %v, Do(boom) = %v", oa.err, ob.err)
	}
	if other.panicked != nil || !errors.Is(other.err, ErrCommitPanicked) {
		t.Errorf("the other caller of the panicked batch: err %v, panic %v; want ErrCommitPanicked", other.err, other.panicked)
	}
	if err := g.Do(t.Context(), "after"); err != nil {
		t.Fatalf("Do after the panic = %v", err)
	}
}
