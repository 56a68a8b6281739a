package events

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// Log is the event log of every connection: it appends normalised events
// to the store and lets readers wait for new ones. Waiters in this process
// wake at once on an append made here; appends made by other replicas are
// seen within PollInterval.
type Log struct {
	Store        store.EventStore
	PollInterval time.Duration    // 0: 1 s
	Now          func() time.Time // nil: time.Now

	mu      sync.Mutex
	waiters map[string]chan struct{} // connection id → closed on the next append
	any     chan struct{}            // closed on the next append of any connection
}

// DefaultRetention is how long events stay in the log.
const DefaultRetention = 7 * 24 * time.Hour

func (l *Log) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Append stores the events of one connection that are not already in the
// log, filling in each envelope's ID and ReceivedAt, and returns the new
// ones. It returns only after the store committed them.
func (l *Log) Append(ctx context.Context, connectionID string, evs []*Normalised) ([]*store.Event, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	received := l.now().UTC().Truncate(time.Microsecond)
	rows := make([]*store.Event, 0, len(evs))
	for _, n := range evs {
		env := n.Envelope
		env.ID = store.NewID("evt")
		env.Connection = connectionID
		env.ReceivedAt = received
		if env.OccurredAt.IsZero() {
			env.OccurredAt = received
		}
		body, err := json.Marshal(env)
		if err != nil {
			return nil, fmt.Errorf("append events: encode %s: %w", env.Type, err)
		}
		rows = append(rows, &store.Event{ID: env.ID, ConnectionID: connectionID, SourceKey: n.SourceKey, Type: env.Type,
			OccurredAt: env.OccurredAt, ReceivedAt: received, Body: body})
	}
	added, err := l.Store.AppendEvents(ctx, rows)
	if err != nil {
		return nil, err
	}
	if len(added) > 0 {
		l.Notify(connectionID)
	}
	return added, nil
}

// Notify wakes this process's waiters on the connection.
func (l *Log) Notify(connectionID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch, ok := l.waiters[connectionID]; ok {
		close(ch)
		delete(l.waiters, connectionID)
	}
	if l.any != nil {
		close(l.any)
		l.any = nil
	}
}

// anyChange returns a channel closed on the next append of any connection.
func (l *Log) anyChange() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.any == nil {
		l.any = make(chan struct{})
	}
	return l.any
}

func (l *Log) changed(connectionID string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.waiters == nil {
		l.waiters = map[string]chan struct{}{}
	}
	ch, ok := l.waiters[connectionID]
	if !ok {
		ch = make(chan struct{})
		l.waiters[connectionID] = ch
	}
	return ch
}

// Wait returns the events matching f, waiting up to wait for at least one
// when there are none yet. It returns an empty list when wait passes, and
// ctx's error when ctx ends first.
func (l *Log) Wait(ctx context.Context, f store.EventFilter, wait time.Duration) ([]*store.Event, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	poll := l.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		// Subscribe before reading, so an append between the read and the
		// wait still wakes us.
		changed := l.changed(f.ConnectionID)
		evs, err := l.Store.ListEvents(ctx, f)
		if err != nil || len(evs) > 0 || wait <= 0 {
			return evs, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return nil, nil
		case <-changed:
		case <-ticker.C:
		}
	}
}

// Purge deletes events older than retention (DefaultRetention when 0).
func (l *Log) Purge(ctx context.Context, retention time.Duration) (int64, error) {
	if retention <= 0 {
		retention = DefaultRetention
	}
	return l.Store.PurgeEvents(ctx, l.now().Add(-retention))
}
