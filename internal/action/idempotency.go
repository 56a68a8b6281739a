package action

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
)

// Polling of a record held by a concurrent request.
const (
	pollFirst = 5 * time.Millisecond
	pollMax   = 200 * time.Millisecond
)

// idempotent runs a write under an idempotency key: exactly one handler call
// per (tenant, connection, action, key) while the record lives.
//
// A record is created pending before the handler runs. Success stores the
// output for replay. A failure that proves nothing was written (or any
// failure of an idempotent action) deletes the record, so the caller may
// retry with the same key. Any other failure stores "unknown": from then on
// the key answers unavailable and is never run again.
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
	var waited time.Duration
	delay := pollFirst
	for {
		now := r.opts.Now()
		rec, created, err := r.opts.Idempotency.BeginIdempotent(ctx, &store.IdemRecord{
			IdemKey: k, InputHash: hash, State: store.IdemPending,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(r.opts.IdempotencyTTL),
		})
		if err != nil {
			return nil, &deskconn.Error{Code: deskconn.CodeUnavailable, Err: fmt.Errorf("begin idempotency record: %w", err),
				Message: "the idempotency key could not be recorded, so nothing was sent; try again"}
		}
		if created {
			return r.runOnce(ctx, a, call, v, k, at)
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
		case store.IdemUnknown:
			at.replayed = true
			return nil, unknownKeyError(a, rec)
		case store.IdemPending:
			if now.Sub(rec.CreatedAt) > r.opts.PendingStale {
				// The request that began it died mid-flight: it may
				// have written, so it is never re-run.
				return nil, unknownKeyError(a, rec)
			}
			if waited >= r.opts.PendingWait {
				return nil, &deskconn.Error{Code: deskconn.CodeConflict,
					Message: fmt.Sprintf("a request with this idempotency key for %s is still in progress; retry in a few seconds to get its result", a.name)}
			}
		default:
			return nil, &deskconn.Error{Code: deskconn.CodeInternal, Message: "internal error",
				Err: fmt.Errorf("idempotency record in unknown state %q", rec.State)}
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

// runOnce runs the handler for a freshly created pending record and records
// the outcome.
func (r *Registry) runOnce(ctx context.Context, a *Action, call *Call, v any, k store.IdemKey, at *attempt) (json.RawMessage, error) {
	out, err := r.run(ctx, a, call, v, at)
	// The bookkeeping must happen even if the caller has gone away.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err == nil {
		// If this fails the record stays pending and later turns into
		// "unknown" (PendingStale): never a second write.
		_ = r.opts.Idempotency.FinishIdempotent(sctx, k, store.IdemSucceeded, out)
		return out, nil
	}
	e := r.finalError(a, err)
	if classify(err) == nothingWritten || a.info.Hints.Idempotent {
		_ = r.opts.Idempotency.DeleteIdempotent(sctx, k)
		return nil, e
	}
	b, _ := json.Marshal(e)
	_ = r.opts.Idempotency.FinishIdempotent(sctx, k, store.IdemUnknown, b)
	return nil, e
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

// unknownKeyError answers a key whose first request has an unknown outcome.
func unknownKeyError(a *Action, rec *store.IdemRecord) *deskconn.Error {
	e := &deskconn.Error{Code: deskconn.CodeUnavailable,
		Message: fmt.Sprintf("the first %s request with this idempotency key (at %s) may have reached Zoho Desk, but its outcome is unknown, "+
			"so it will not be sent again with this key. Check whether it took effect (for example with a list or search action); "+
			"if it did not, send it again with a new idempotency key", a.name, rec.CreatedAt.UTC().Format(time.RFC3339))}
	var first deskconn.Error
	if json.Unmarshal(rec.Result, &first) == nil {
		e.Upstream = first.Upstream
	}
	return e
}
