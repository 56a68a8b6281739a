package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// Polling of a record held by a concurrent request.
const (
	pollFirst = 5 * time.Millisecond
	pollMax   = 200 * time.Millisecond
)

// errSettlerWrite is what the dispatch hook of a settler returns: a settler
// only reads.
var errSettlerWrite = errors.New("action: a settler tried to send a write to Zoho Desk")

// errNoSettler: the action cannot look for its effect.
var errNoSettler = errors.New("action: the action has no settler")

// idempotent runs a write under an idempotency key: at most one write to
// Zoho per (tenant, connection, action, key) while the record lives.
//
// The record is created pending and held by this request (Owner), whose
// lease (HeartbeatAt) it renews while it runs. Just before the first write
// may leave the process (after the per-org limiter admitted it), the
// zohodesk dispatch hook records DispatchedAt. Then:
//
//   - success stores the output for replay;
//   - a failure that proves nothing was written, any failure before the
//     dispatch, and any failure of an idempotent action delete the record,
//     so the caller may retry with the same key;
//   - any other failure stores "unknown".
//
// A record whose lease lapsed belongs to a request that died (a crash): if
// it was never dispatched it is run again; otherwise, like an unknown
// record, it is settled by the action's Settler (see settle). A record
// held by a live request is waited for, up to PendingWait.
func (r *Registry) idempotent(ctx context.Context, t Target, a *Action, call *Call, v any, key string, at *attempt) (json.RawMessage, error) {
	if r.opts.Idempotency == nil {
		return nil, deskconn.Invalid("this server does not keep idempotency keys",
			deskconn.FieldError{Pointer: "/idempotencyKey", Code: problemInvalid, Message: "is not supported by this server; remove it"})
	}
	hash, err := hashInput(v)
	if err != nil {
		return nil, &deskconn.Error{Code: deskconn.CodeInternal, Message: "internal error", Err: err}
	}
	k := store.IdemKey{TenantID: t.Tenant, ConnectionID: t.Conn.ID, Action: a.name, Key: key}
	settleInput, err := r.sealSettleInput(a, k, v)
	if err != nil {
		return nil, &deskconn.Error{Code: deskconn.CodeInternal, Message: "internal error", Err: err}
	}
	owner := store.NewID("req")
	var waited time.Duration
	delay := pollFirst
	for {
		now := r.opts.Now()
		rec, created, err := r.opts.Idempotency.BeginIdempotent(ctx, &store.IdemRecord{
			IdemKey: k, InputHash: hash, State: store.IdemPending,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(r.opts.IdempotencyTTL),
			Owner: owner, HeartbeatAt: now, SettleInput: settleInput,
		})
		if err != nil {
			return nil, &deskconn.Error{Code: deskconn.CodeUnavailable, Err: fmt.Errorf("begin idempotency record: %w", err),
				Message: "the idempotency key could not be recorded, so nothing was sent; try again"}
		}
		if created {
			return r.runHeld(ctx, a, call, v, k, owner, at)
		}
		if !bytes.Equal(rec.InputHash, hash) {
			return nil, &deskconn.Error{Code: deskconn.CodeConflict,
				Message: fmt.Sprintf("this idempotency key was already used for %s with a different input; use a new key for a new request, or resend the original input", a.name),
				Fields: []deskconn.FieldError{{Pointer: "/idempotencyKey", Code: problemDuplicate,
					Message: "was already used with a different input; use a new key"}}}
		}
		switch rec.State {
		case store.IdemSucceeded:
			at.replayed = true
			return json.RawMessage(bytes.Clone(rec.Result)), nil
		case store.IdemFailed:
			at.replayed = true
			return nil, storedError(rec)
		case store.IdemPending, store.IdemUnknown:
			if !rec.HeartbeatAt.IsZero() && now.Sub(rec.HeartbeatAt) <= r.opts.Lease {
				break // held by a live request: wait for it
			}
			// Nobody holds it: its request died, or its outcome is unknown.
			err := r.opts.Idempotency.ClaimIdempotent(ctx, k, rec.Owner, rec.HeartbeatAt, owner, now)
			switch {
			case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
				continue // another request claimed, finished or freed it: look again
			case err != nil:
				return nil, &deskconn.Error{Code: deskconn.CodeUnavailable, Err: fmt.Errorf("claim idempotency record: %w", err),
					Message: "the idempotency key could not be recorded, so nothing was sent; try again"}
			}
			switch {
			case rec.State == store.IdemPending && rec.DispatchedAt.IsZero():
				// Its request died before sending anything to Zoho.
				at.settled = "ran again: the first request with this idempotency key ended before sending anything to Zoho Desk"
				return r.runHeld(ctx, a, call, v, k, owner, at)
			case a.info.Hints.Idempotent:
				// Sending it again has no further effect: free the key
				// and run it as a first request.
				sctx, cancel := bookkeeping(ctx)
				err := r.opts.Idempotency.DeleteIdempotent(sctx, k, owner)
				cancel()
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, &deskconn.Error{Code: deskconn.CodeUnavailable, Err: fmt.Errorf("free idempotency record: %w", err),
						Message: "the idempotency key could not be updated, so nothing was sent; try again"}
				}
				at.settled = "ran again: the first request with this idempotency key ended without an answer, and the action is idempotent"
				continue
			}
			out, again, err := r.settle(ctx, a, call, v, k, owner, rec, at)
			if !again {
				return out, err
			}
			continue // it did not take effect and the record is gone: run it as a first request
		default:
			return nil, &deskconn.Error{Code: deskconn.CodeInternal, Message: "internal error",
				Err: fmt.Errorf("idempotency record in unknown state %q", rec.State)}
		}
		if waited >= r.opts.PendingWait {
			return nil, &deskconn.Error{Code: deskconn.CodeConflict, RetryAfter: 5 * time.Second,
				Message: fmt.Sprintf("a request with this idempotency key for %s is still in progress; retry in a few seconds to get its result", a.name)}
		}
		d := min(delay, r.opts.PendingWait-waited)
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, &deskconn.Error{Code: deskconn.CodeUnavailable, Err: ctx.Err(),
				Message: "the request ended while waiting for an earlier request with the same idempotency key; retry to get its result"}
		case <-timer.C:
		}
		waited += d
		delay = min(delay*2, pollMax)
	}
}

// bookkeeping returns a context for recording an outcome: it must happen
// even if the caller has gone away.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// runHeld runs the handler for a pending record held by owner and records
// the outcome.
func (r *Registry) runHeld(ctx context.Context, a *Action, call *Call, v any, k store.IdemKey, owner string, at *attempt) (json.RawMessage, error) {
	stop := r.heartbeat(ctx, k, owner)
	var dispatched atomic.Bool
	hctx := zohodesk.WithDispatchHook(ctx, func(ctx context.Context) error {
		if dispatched.Load() {
			return nil
		}
		if err := r.opts.Idempotency.DispatchIdempotent(ctx, k, owner, r.opts.Now()); err != nil {
			return fmt.Errorf("record the dispatch of idempotency key: %w", err)
		}
		dispatched.Store(true)
		return nil
	})
	out, err := r.run(hctx, a, call, v, at)
	stop()
	sctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err == nil {
		// If this fails the record stays pending and dispatched, and is
		// settled once its lease lapses: never a second write.
		_ = r.opts.Idempotency.FinishIdempotent(sctx, k, owner, store.IdemSucceeded, out)
		return out, nil
	}
	if !dispatched.Load() {
		// Nothing left the process: the key is free again.
		_ = r.opts.Idempotency.DeleteIdempotent(sctx, k, owner)
		return nil, mapError(a, err)
	}
	e := r.finalError(a, err)
	if classify(err) == nothingWritten || a.info.Hints.Idempotent {
		_ = r.opts.Idempotency.DeleteIdempotent(sctx, k, owner)
		return nil, e
	}
	b, _ := json.Marshal(e)
	_ = r.opts.Idempotency.FinishIdempotent(sctx, k, owner, store.IdemUnknown, b)
	c := *e
	c.Message += ". Retry with the same idempotency key (after " + r.opts.SettleAfter.String() + "): deskconn then looks in Zoho Desk for its effect and never sends it twice"
	return nil, &c
}

// heartbeat renews owner's lease of k every Lease/3 until the returned
// stop is called (stop waits for the renewer to end). A lease found lost
// is no longer renewed: the store then refuses this request's dispatch,
// so it cannot write.
func (r *Registry) heartbeat(ctx context.Context, k store.IdemKey, owner string) (stop func()) {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(r.opts.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-tick.C:
				if err := r.opts.Idempotency.HeartbeatIdempotent(hctx, k, owner, r.opts.Now()); errors.Is(err, store.ErrNotFound) {
					return
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// settle decides a record held by owner whose request may have reached
// Zoho Desk (rec as read before the claim): with the action's Settler it
// looks for the object the write made. Found: the record succeeds with
// it. Certainly not written: the record is deleted and settle returns
// again = true (the caller runs the request as a first one). Otherwise the
// record stays unknown and the answer is outcome_unknown, or conflict when
// the dispatch is too recent to look (SettleAfter).
func (r *Registry) settle(ctx context.Context, a *Action, call *Call, v any, k store.IdemKey, owner string, rec *store.IdemRecord, at *attempt) (out json.RawMessage, again bool, err error) {
	now := r.opts.Now()
	since := rec.DispatchedAt
	if since.IsZero() {
		since = rec.CreatedAt
	}
	result := unknownResult(rec)
	keepUnknown := func() {
		sctx, cancel := bookkeeping(ctx)
		defer cancel()
		_ = r.opts.Idempotency.FinishIdempotent(sctx, k, owner, store.IdemUnknown, result)
	}
	if a.settle == nil {
		at.settleErr = errNoSettler
		keepUnknown()
		at.replayed = true
		return nil, false, outcomeUnknownError(a, since, result, "")
	}
	if wait := r.opts.SettleAfter - now.Sub(since); wait > 0 {
		keepUnknown()
		return nil, false, &deskconn.Error{Code: deskconn.CodeConflict, RetryAfter: wait.Round(time.Second) + time.Second,
			Message: fmt.Sprintf("the first %s request with this idempotency key was sent to Zoho Desk at %s and its outcome is not known yet; "+
				"retry with the same key in %s to have deskconn look for its effect", a.name, since.UTC().Format(time.RFC3339), (wait.Round(time.Second) + time.Second).String())}
	}
	stop := r.heartbeat(ctx, k, owner)
	sctx := zohodesk.WithDispatchHook(ctx, func(context.Context) error { return errSettlerWrite })
	out, found, serr := r.runSettler(sctx, a, call, v, since)
	stop()
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	switch {
	case serr != nil:
		at.settleErr = serr
		keepUnknown()
		at.replayed = true
		return nil, false, outcomeUnknownError(a, since, result, mapError(a, serr).Message)
	case found:
		_ = r.opts.Idempotency.FinishIdempotent(bctx, k, owner, store.IdemSucceeded, out)
		at.settled = "settled an unknown outcome: the write was found in Zoho Desk"
		return out, false, nil
	default:
		if err := r.opts.Idempotency.DeleteIdempotent(bctx, k, owner); err != nil {
			return nil, false, &deskconn.Error{Code: deskconn.CodeUnavailable, Err: fmt.Errorf("free settled idempotency record: %w", err),
				Message: "the idempotency key could not be updated, so nothing was sent; try again"}
		}
		at.settled = "settled an unknown outcome: the write had not taken effect, so it was sent again"
		return nil, true, nil
	}
}

// unknownResult is the error an unknown record answers with: the one
// stored, or, for a pending record whose process died, a new one.
func unknownResult(rec *store.IdemRecord) []byte {
	if rec.State == store.IdemUnknown {
		return rec.Result
	}
	b, _ := json.Marshal(&deskconn.Error{Code: deskconn.CodeOutcomeUnknown, Message: "the process sending the request stopped before its answer arrived"})
	return b
}

// runSettler calls a's settler, turning a panic into an error.
func (r *Registry) runSettler(ctx context.Context, a *Action, call *Call, v any, since time.Time) (out json.RawMessage, found bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, found, err = nil, false, fmt.Errorf("settler of %s panicked: %v", a.name, p)
		}
	}()
	return a.settle(ctx, call, v, since)
}

// storedError rebuilds the error stored with a failed record.
func storedError(rec *store.IdemRecord) *deskconn.Error {
	var e deskconn.Error
	if err := json.Unmarshal(rec.Result, &e); err != nil || e.Code == "" {
		return &deskconn.Error{Code: deskconn.CodeInternal, Message: "internal error",
			Err: fmt.Errorf("decode stored idempotent error: %v", err)}
	}
	return &e
}

// outcomeUnknownError answers a key whose first request may have reached
// Zoho and whose outcome could not be settled; reason says why ("" when
// the action has no settler).
func outcomeUnknownError(a *Action, since time.Time, result []byte, reason string) *deskconn.Error {
	check := a.check
	if check == "" {
		check = "the change it makes (for example with a list or search action)"
	}
	why := ""
	if reason != "" {
		why = " (looking for it in Zoho Desk failed: " + reason + ")"
	}
	e := &deskconn.Error{Code: deskconn.CodeOutcomeUnknown,
		Message: fmt.Sprintf("the first %s request with this idempotency key was sent to Zoho Desk at %s, but its outcome is unknown%s, "+
			"so it will not be sent again with this key. Check in Zoho Desk for %s, made at or after that time; "+
			"if there is none, send the request again with a new idempotency key", a.name, since.UTC().Format(time.RFC3339), why, check)}
	var first deskconn.Error
	if json.Unmarshal(result, &first) == nil {
		e.Upstream = first.Upstream
	}
	return e
}
