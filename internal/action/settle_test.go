package action_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// crashedRecord runs the first request with key "k" through r, with a
// handler that dispatches and then "crashes" (its bookkeeping fails, so
// the record stays as a killed process leaves it), and returns after it.
func crashedRecord(t *testing.T, st *fakeStore, clk *clock, dispatch bool) {
	t.Helper()
	r := action.NewRegistry(action.Options{Idempotency: st, Now: clk.Now})
	r.Add(action.Define("toy_create", action.Info{Title: "x", Description: "x", Write: true},
		func(ctx context.Context, _ *action.Call, in toyIn) (toyOut, error) {
			if dispatch {
				if err := zohodesk.BeforeDispatch(ctx); err != nil {
					return toyOut{}, err
				}
			}
			st.mu.Lock()
			st.finishErr = errBoom // the process dies: nothing more is recorded
			st.mu.Unlock()
			return toyOut{}, errBoom
		}))
	_, _ = r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(validInput), action.InvokeOptions{IdempotencyKey: "k"})
	st.mu.Lock()
	st.finishErr = nil
	st.mu.Unlock()
	rec, ok := st.record(keyOf("k"))
	if !ok || rec.State != store.IdemPending || rec.HeartbeatAt.IsZero() || rec.DispatchedAt.IsZero() != !dispatch {
		t.Fatalf("staged record = %+v (found %v); want pending, held, dispatched %v", rec, ok, dispatch)
	}
}

func invokeK(t *testing.T, r *action.Registry) (json.RawMessage, error) {
	t.Helper()
	return r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(validInput), action.InvokeOptions{IdempotencyKey: "k"})
}

func TestCrashBeforeDispatchRunsAgain(t *testing.T) {
	t.Parallel()
	st, clk := newFakeStore(), newClock()
	crashedRecord(t, st, clk, false)
	ty := &toy{}
	r := action.NewRegistry(action.Options{Idempotency: st, Now: clk.Now, PendingWait: time.Millisecond})
	r.Add(ty.action("toy_create", action.Hints{}))

	// While the lease runs, the record is held: not stolen, not run.
	if _, err := invokeK(t, r); deskconn.ErrorCode(err) != deskconn.CodeConflict || !strings.Contains(err.Error(), "in progress") {
		t.Errorf("within the lease: %v, want conflict in progress", err)
	}
	if ty.calls.Load() != 0 {
		t.Fatal("a record held by a live owner was run again")
	}
	// The lease lapses: nothing was dispatched, so it runs again.
	clk.Advance(31 * time.Second)
	out, err := invokeK(t, r)
	if err != nil || string(out) != `{"id":"T1","subject":"Hello"}` {
		t.Fatalf("after the lease: %s, %v; want a run", out, err)
	}
	if rec, _ := st.record(keyOf("k")); rec.State != store.IdemSucceeded || ty.sent.Load() != 1 {
		t.Errorf("record %q, %d writes; want succeeded after 1 write", rec.State, ty.sent.Load())
	}
	if out2, err := invokeK(t, r); err != nil || string(out2) != string(out) || ty.calls.Load() != 1 {
		t.Errorf("replay = %s, %v after %d calls; want the same output, 1 call", out2, err, ty.calls.Load())
	}
}

func TestSettleUnknownOutcomes(t *testing.T) {
	t.Parallel()
	errLookup := &zohodesk.APIError{StatusCode: 500, Code: "INTERNAL_SERVER_ERROR", Message: "m", Method: "GET", Path: "/tickets"}
	tests := []struct {
		name string
		// settle is the toy's settler; nil means none.
		settle     action.Settler[toyIn, toyOut]
		advance    time.Duration // from the crash to the retry
		wantOut    string
		wantCode   deskconn.Code
		wantState  store.IdemState
		wantWrites int64
	}{
		{name: "found", advance: time.Minute, settle: func(_ context.Context, _ *action.Call, in toyIn, _ time.Time) (toyOut, bool, error) {
			return toyOut{ID: "Z9", Subject: in.Payload.Subject}, true, nil
		}, wantOut: `{"id":"Z9","subject":"Hello"}`, wantState: store.IdemSucceeded},
		{name: "not written runs it", advance: time.Minute, settle: func(context.Context, *action.Call, toyIn, time.Time) (toyOut, bool, error) {
			return toyOut{}, false, nil
		}, wantOut: `{"id":"T1","subject":"Hello"}`, wantState: store.IdemSucceeded, wantWrites: 1},
		{name: "lookup fails", advance: time.Minute, settle: func(context.Context, *action.Call, toyIn, time.Time) (toyOut, bool, error) {
			return toyOut{}, false, errLookup
		}, wantCode: deskconn.CodeOutcomeUnknown, wantState: store.IdemUnknown},
		{name: "settler may not write", advance: time.Minute, settle: func(ctx context.Context, _ *action.Call, _ toyIn, _ time.Time) (toyOut, bool, error) {
			if err := zohodesk.BeforeDispatch(ctx); err != nil {
				return toyOut{}, false, err
			}
			return toyOut{ID: "written"}, true, nil
		}, wantCode: deskconn.CodeOutcomeUnknown, wantState: store.IdemUnknown},
		{name: "no settler", advance: time.Minute, wantCode: deskconn.CodeOutcomeUnknown, wantState: store.IdemUnknown},
		{name: "too recent to look", advance: 20 * time.Second, settle: func(context.Context, *action.Call, toyIn, time.Time) (toyOut, bool, error) {
			panic("settled too early")
		}, wantCode: deskconn.CodeConflict, wantState: store.IdemUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, clk := newFakeStore(), newClock()
			crashedRecord(t, st, clk, true)
			dispatchedAt := clk.Now()
			// Lease and settle delay elapse (the lease is 10s here).
			clk.Advance(tt.advance)
			ty := &toy{settle: tt.settle}
			var since time.Time
			if tt.settle != nil {
				inner := tt.settle
				ty.settle = func(ctx context.Context, c *action.Call, in toyIn, s time.Time) (toyOut, bool, error) {
					since = s
					return inner(ctx, c, in, s)
				}
			}
			r := action.NewRegistry(action.Options{Idempotency: st, Now: clk.Now, Lease: 10 * time.Second})
			r.Add(ty.action("toy_create", action.Hints{}))
			out, err := invokeK(t, r)
			if got := deskconn.ErrorCode(err); got != tt.wantCode || string(out) != tt.wantOut {
				t.Fatalf("retry = %s, %v; want %q, code %q", out, err, tt.wantOut, tt.wantCode)
			}
			if tt.wantCode == deskconn.CodeOutcomeUnknown && !strings.Contains(err.Error(), "new idempotency key") {
				t.Errorf("outcome_unknown does not say what to do: %v", err)
			}
			if tt.wantCode == deskconn.CodeConflict && deskconn.AsError(err).RetryAfter <= 0 {
				t.Errorf("too recent: %v has no RetryAfter", err)
			}
			if tt.settle != nil && tt.wantCode != deskconn.CodeConflict && !since.Equal(dispatchedAt) {
				t.Errorf("settler since = %v, want the dispatch time %v", since, dispatchedAt)
			}
			rec, _ := st.record(keyOf("k"))
			if rec.State != tt.wantState || ty.sent.Load() != tt.wantWrites {
				t.Errorf("record %q after %d writes; want %q after %d", rec.State, ty.sent.Load(), tt.wantState, tt.wantWrites)
			}
			if rec.State == store.IdemUnknown && !rec.HeartbeatAt.IsZero() {
				t.Errorf("an unsettled record stays held (heartbeat %v): the next retry could not settle it", rec.HeartbeatAt)
			}
			// A second retry agrees and never writes again.
			out2, err2 := invokeK(t, r)
			if tt.wantState == store.IdemSucceeded && (err2 != nil || string(out2) != tt.wantOut) {
				t.Errorf("second retry = %s, %v; want the settled output", out2, err2)
			}
			if ty.sent.Load() != tt.wantWrites {
				t.Errorf("second retry wrote: %d writes, want %d", ty.sent.Load(), tt.wantWrites)
			}
		})
	}
}

// TestLiveLeaseNotStolen: a request that runs longer than the lease keeps
// its record by renewing it, and one whose record was taken over anyway
// never writes.
func TestLiveLeaseNotStolen(t *testing.T) {
	t.Parallel()
	st, clk := newFakeStore(), newClock()
	st.heartbeats = make(chan time.Time, 1)
	ty := &toy{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	r := action.NewRegistry(action.Options{Idempotency: st, Now: clk.Now, Lease: 30 * time.Millisecond, PendingWait: time.Millisecond})
	r.Add(ty.action("toy_create", action.Hints{}))
	first := make(chan error, 1)
	go func() {
		_, err := invokeK(t, r)
		first <- err
	}()
	<-ty.entered // the handler runs (and blocks)
	// Far past the lease by the clock: the renewer must catch up.
	clk.Advance(time.Hour)
	for at := range st.heartbeats {
		if at.Equal(clk.Now()) {
			break
		}
	}
	if _, err := invokeK(t, r); deskconn.ErrorCode(err) != deskconn.CodeConflict {
		t.Errorf("second request while the first renews its lease: %v, want conflict", err)
	}
	// Another owner takes the record over anyway: the first may not write.
	st.edit(keyOf("k"), func(r *store.IdemRecord) { r.Owner = "thief" })
	close(ty.block)
	err := <-first
	if err == nil || ty.sent.Load() != 0 {
		t.Errorf("first request after losing its lease = %v, %d writes; want an error and no write", err, ty.sent.Load())
	}
	if rec, _ := st.record(keyOf("k")); rec.Owner != "thief" {
		t.Errorf("the old owner changed the record: %+v", rec)
	}
}

// TestIdempotentActionRunsAgainAfterCrash: a dispatched record of an
// idempotent action (an update) whose process died is simply run again.
func TestIdempotentActionRunsAgainAfterCrash(t *testing.T) {
	t.Parallel()
	for _, state := range []store.IdemState{store.IdemPending, store.IdemUnknown} {
		st, clk := newFakeStore(), newClock()
		crashedRecord(t, st, clk, true)
		if state == store.IdemUnknown {
			// As a record written before leases existed may be.
			st.edit(keyOf("k"), func(r *store.IdemRecord) { r.State, r.HeartbeatAt = state, time.Time{} })
		}
		clk.Advance(time.Minute)
		ty := &toy{}
		r := action.NewRegistry(action.Options{Idempotency: st, Now: clk.Now})
		r.Add(ty.action("toy_create", action.Hints{Idempotent: true}))
		if out, err := invokeK(t, r); err != nil || ty.sent.Load() != 1 {
			t.Errorf("%s: retry = %s, %v after %d writes; want a run", state, out, err, ty.sent.Load())
		}
		if rec, _ := st.record(keyOf("k")); rec.State != store.IdemSucceeded {
			t.Errorf("%s: record %q after the run, want succeeded", state, rec.State)
		}
	}
}
