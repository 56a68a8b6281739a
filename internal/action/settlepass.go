package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
)

// Background settling: an unknown outcome (a write that may have reached
// Zoho Desk, whose answer was lost, or whose process was killed while it
// was in flight) is looked for in Zoho Desk by SettleAbandoned, run on a
// schedule by the server, so that it is decided without waiting for the
// client to retry. The record keeps, sealed, what the settler needs of the
// input (Options.InputSealer).

// Limits of background settling.
const (
	// settleBatch is how many records one pass looks at.
	settleBatch = 50
	// settleMaxAttempts is how many undecided passes a record gets before
	// it is left for a retry (or a person) to decide.
	settleMaxAttempts = 8
	// settleMaxBackoff bounds the wait between passes over one record.
	settleMaxBackoff = time.Hour
)

// sealSettleInput returns what a's settler needs of v, sealed for k's
// record, or nil when the action has no settler or the registry no sealer.
func (r *Registry) sealSettleInput(a *Action, k store.IdemKey, v any) ([]byte, error) {
	if a.settle == nil || r.opts.InputSealer == nil {
		return nil, nil
	}
	keep := v
	if si, ok := v.(SettleInputter); ok {
		keep = si.SettleInput()
	}
	plain, err := json.Marshal(keep)
	if err != nil {
		return nil, fmt.Errorf("marshal %s settle input: %w", a.name, err)
	}
	sealed, err := r.opts.InputSealer.SealInput(k, plain)
	if err != nil {
		return nil, fmt.Errorf("seal %s settle input: %w", a.name, err)
	}
	return sealed, nil
}

// ResolveFunc returns the target (connection and Zoho client) of a
// tenant's connection, for settling its records. A *deskconn.Error with
// CodeNotFound means the connection is gone.
type ResolveFunc func(ctx context.Context, tenantID, connectionID string) (Target, error)

// SettleReport counts what one SettleAbandoned pass did.
type SettleReport struct {
	Found    int // the write was found in Zoho Desk: the record replays it
	NotSent  int // the write had not taken effect: the key is free again
	Deferred int // not decided this time: looked at again later
	GaveUp   int // cannot be decided in the background: left unknown
}

// SettleAbandoned settles, without a client's retry, the records whose
// outcome is unknown (or whose process died after dispatching): those not
// held by a live request, dispatched at least SettleAfter ago, kept with a
// settle input, and due. Each is claimed (so that a concurrent retry or
// another replica's pass waits for it), looked for in Zoho Desk with the
// action's settler, and then replays the write found, is freed (not
// written: a retry runs it), or stays unknown and is looked at again later
// with exponential backoff, up to settleMaxAttempts passes. Every decision
// is audited. It returns what it did and the first error that stopped it
// (a store failure); problems of single records are counted, not returned.
func (r *Registry) SettleAbandoned(ctx context.Context, resolve ResolveFunc) (SettleReport, error) {
	var rep SettleReport
	if r.opts.Idempotency == nil || r.opts.InputSealer == nil {
		return rep, nil
	}
	now := r.opts.Now()
	recs, err := r.opts.Idempotency.ListSettleable(ctx, store.SettleQuery{Now: now, HeldBefore: now.Add(-r.opts.Lease),
		DispatchedBefore: now.Add(-r.opts.SettleAfter), Limit: settleBatch})
	if err != nil {
		return rep, fmt.Errorf("list records to settle: %w", err)
	}
	for _, rec := range recs {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		r.settleOne(ctx, resolve, rec, &rep)
	}
	return rep, nil
}

// settleOne settles one record of SettleAbandoned.
func (r *Registry) settleOne(ctx context.Context, resolve ResolveFunc, rec *store.IdemRecord, rep *SettleReport) {
	start := r.opts.Now()
	k := rec.IdemKey
	owner := store.NewID("settle")
	if err := r.opts.Idempotency.ClaimIdempotent(ctx, k, rec.Owner, rec.HeartbeatAt, owner, start); err != nil {
		return // a retry or another pass took it, or it is gone
	}
	// schedule records an undecided pass: the next one after a backoff,
	// or none (drop, or too many attempts).
	schedule := func(drop bool) {
		sctx, cancel := bookkeeping(ctx)
		defer cancel()
		attempts := rec.SettleAttempts + 1
		drop = drop || attempts >= settleMaxAttempts
		backoff := min(r.opts.SettleAfter<<min(attempts, 20), settleMaxBackoff)
		_ = r.opts.Idempotency.DeferSettle(sctx, k, owner, r.opts.Now().Add(backoff), drop)
		if drop {
			rep.GaveUp++
		} else {
			rep.Deferred++
		}
	}
	// later releases the claim, leaving the record unknown, and schedules.
	later := func(drop bool) {
		sctx, cancel := bookkeeping(ctx)
		_ = r.opts.Idempotency.FinishIdempotent(sctx, k, owner, store.IdemUnknown, unknownResult(rec))
		cancel()
		schedule(drop)
	}
	a := r.Lookup(k.Action)
	if a == nil || a.settle == nil {
		later(true)
		return
	}
	t, err := resolve(ctx, k.TenantID, k.ConnectionID)
	if err != nil {
		var de *deskconn.Error
		later(errors.As(err, &de) && de.Code == deskconn.CodeNotFound)
		return
	}
	var v any
	plain, err := r.opts.InputSealer.OpenInput(k, rec.SettleInput)
	if err == nil {
		v, err = a.decode(plain)
	}
	if err != nil {
		later(true) // sealed under a key no longer held, or not an input of this action
		return
	}
	t.APIKeyID = ""
	call := &Call{Tenant: t.Tenant, Conn: t.Conn, Desk: t.Desk}
	var at attempt
	out, again, err := r.settle(ctx, a, call, v, k, owner, rec, &at)
	outcome := "ok"
	switch {
	case again:
		rep.NotSent++
		outcome = "not_sent"
		at.settled = "settled in the background: the write had not taken effect, so the idempotency key is free again"
	case err == nil && out != nil:
		rep.Found++
		at.settled = "settled in the background: the write was found in Zoho Desk"
	default:
		// settle left the record unknown and released it: schedule the
		// next pass, or give up when the settler says it cannot tell.
		var de *deskconn.Error
		schedule(errors.Is(at.settleErr, errNoSettler) ||
			(errors.As(at.settleErr, &de) && de.Code == deskconn.CodeOutcomeUnknown))
		return
	}
	r.audit(ctx, t, a, outcome, r.opts.Now().Sub(start), &at, nil)
}
