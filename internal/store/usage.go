package store

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// CallCount is how many action calls one connection served in one minute,
// and how many of them failed. Counts are increments: AddCallCounts adds
// them to what is stored, so that every replica (and every flush of one)
// adds its own share.
type CallCount struct {
	TenantID     string
	ConnectionID string
	Minute       time.Time // truncated to the minute, UTC
	Calls        int64
	Errors       int64
}

// CallCountRetention is how long per-minute call counts are kept: the
// console shows the last hour; a day more leaves room for a late flush.
const CallCountRetention = 48 * time.Hour

// UsageStore keeps per-connection, per-minute call counts of every action
// call, reads included (internal/usage), written in batches by a
// background flusher so that no call waits for a store write.
type UsageStore interface {
	// AddCallCounts adds each count's Calls and Errors to the stored row
	// of its (tenant, connection, minute), creating it when absent, in
	// one transaction. Concurrent adds to the same row all count.
	AddCallCounts(ctx context.Context, counts []CallCount) error
	// SumCallCounts returns the calls and errors stored for a connection
	// in minutes at or after since.
	SumCallCounts(ctx context.Context, tenantID, connectionID string, since time.Time) (calls, errors int64, err error)
	// PurgeCallCounts deletes every tenant's rows of minutes before
	// before, and returns how many it deleted (see CallCountRetention).
	PurgeCallCounts(ctx context.Context, before time.Time) (int64, error)
}

// SortCallCounts returns a copy of counts in (tenant, connection, minute)
// order: backends that lock rows write them in this order, so that
// concurrent batches over the same rows do not deadlock.
func SortCallCounts(counts []CallCount) []CallCount {
	out := slices.Clone(counts)
	slices.SortFunc(out, func(a, b CallCount) int {
		return cmp.Or(strings.Compare(a.TenantID, b.TenantID), strings.Compare(a.ConnectionID, b.ConnectionID), a.Minute.Compare(b.Minute))
	})
	return out
}
