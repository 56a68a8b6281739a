package action_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/store"
)

// fakeStore is an in-memory IdempotencyStore and AuditLog with the
// semantics documented on store.Store.
type fakeStore struct {
	mu        sync.Mutex
	recs      map[store.IdemKey]*store.IdemRecord
	audit     []store.AuditRecord
	finishErr error // if set, FinishIdempotent and DeleteIdempotent fail
	begins    int
	// dispatches counts DispatchIdempotent calls that succeeded.
	dispatches int
	// heartbeats, if set, receives the time of every renewed lease.
	heartbeats chan time.Time
}

var _ action.IdempotencyStore = (*fakeStore)(nil)
var _ action.AuditLog = (*fakeStore)(nil)

// Both the real store interface and the fake satisfy the registry's needs.
var _ action.IdempotencyStore = store.Store(nil)
var _ action.AuditLog = store.Store(nil)

func newFakeStore() *fakeStore { return &fakeStore{recs: make(map[store.IdemKey]*store.IdemRecord)} }

func (f *fakeStore) BeginIdempotent(_ context.Context, rec *store.IdemRecord) (*store.IdemRecord, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.begins++
	if old, ok := f.recs[rec.IdemKey]; ok && old.ExpiresAt.After(rec.CreatedAt) {
		c := *old
		return &c, false, nil
	}
	c := *rec
	f.recs[rec.IdemKey] = &c
	return rec, true, nil
}

func (f *fakeStore) ClaimIdempotent(_ context.Context, key store.IdemKey, prevOwner string, prevHeartbeat time.Time, owner string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[key]
	switch {
	case !ok:
		return store.ErrNotFound
	case r.State != store.IdemPending && r.State != store.IdemUnknown, r.Owner != prevOwner, !r.HeartbeatAt.Equal(prevHeartbeat):
		return store.ErrConflict
	}
	r.Owner, r.HeartbeatAt = owner, at
	return nil
}

func (f *fakeStore) HeartbeatIdempotent(_ context.Context, key store.IdemKey, owner string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[key]
	if !ok || r.Owner != owner || r.HeartbeatAt.IsZero() {
		return store.ErrNotFound
	}
	r.HeartbeatAt = at
	if f.heartbeats != nil {
		select {
		case f.heartbeats <- at:
		default:
		}
	}
	return nil
}

func (f *fakeStore) DispatchIdempotent(_ context.Context, key store.IdemKey, owner string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[key]
	if !ok || r.Owner != owner || r.HeartbeatAt.IsZero() || r.State != store.IdemPending {
		return store.ErrNotFound
	}
	if r.DispatchedAt.IsZero() {
		r.DispatchedAt = at
	}
	f.dispatches++
	return nil
}

func (f *fakeStore) FinishIdempotent(_ context.Context, key store.IdemKey, owner string, state store.IdemState, result []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.finishErr != nil {
		return f.finishErr
	}
	r, ok := f.recs[key]
	if !ok || r.Owner != owner {
		return store.ErrNotFound
	}
	r.State, r.Result, r.HeartbeatAt = state, slices.Clone(result), time.Time{}
	return nil
}

func (f *fakeStore) DeleteIdempotent(_ context.Context, key store.IdemKey, owner string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.finishErr != nil {
		return f.finishErr
	}
	r, ok := f.recs[key]
	if !ok || r.Owner != owner {
		return store.ErrNotFound
	}
	delete(f.recs, key)
	return nil
}

func (f *fakeStore) ListSettleable(_ context.Context, q store.SettleQuery) ([]*store.IdemRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*store.IdemRecord
	for _, r := range f.recs {
		due := r.NextSettleAt
		if due.IsZero() {
			due = r.DispatchedAt.Add(q.Now.Sub(q.DispatchedBefore))
		}
		if (r.State == store.IdemPending || r.State == store.IdemUnknown) && r.SettleInput != nil && r.ExpiresAt.After(q.Now) &&
			!r.DispatchedAt.IsZero() && (r.HeartbeatAt.IsZero() || r.HeartbeatAt.Before(q.HeldBefore)) && !due.After(q.Now) {
			c := *r
			out = append(out, &c)
		}
	}
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (f *fakeStore) DeferSettle(_ context.Context, key store.IdemKey, owner string, next time.Time, drop bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[key]
	if !ok || r.Owner != owner {
		return store.ErrNotFound
	}
	r.SettleAttempts++
	r.NextSettleAt = next
	if drop {
		r.SettleInput = nil
	}
	return nil
}

func (f *fakeStore) AppendAudit(_ context.Context, r *store.AuditRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audit = append(f.audit, *r)
	return nil
}

func (f *fakeStore) record(key store.IdemKey) (store.IdemRecord, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[key]
	if !ok {
		return store.IdemRecord{}, false
	}
	return *r, true
}

func (f *fakeStore) setRecord(key store.IdemKey, state store.IdemState, result []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs[key].State, f.recs[key].Result = state, result
}

// edit changes a stored record (to stage what a crashed process left).
func (f *fakeStore) edit(key store.IdemKey, fn func(*store.IdemRecord)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.recs[key])
}

func (f *fakeStore) audits() []store.AuditRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.audit)
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var errBoom = errors.New("boom")
