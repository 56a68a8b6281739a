package events

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deskconn/deskconn/internal/groupcommit"
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
	due     chan struct{}            // closed when deliveries may have become due

	// commits shares one transaction among concurrent Appends (group
	// commit); its Commit is set on first use, so the zero Log works.
	commits     groupcommit.Group[*appendReq]
	commitsOnce sync.Once
}

// appendReq is one Append call's rows, and after the commit the ones that
// were new.
type appendReq struct {
	rows []*store.Event
	// envs and writeKeys are rows[i]'s envelope and its change's write key
	// ("" when none), for the committer to set the actor of deskconn's own
	// changes.
	envs      []*Envelope
	writeKeys []string
	added     []*store.Event
}

// commitTimeout bounds one group commit. It does not come from the caller
// whose turn it is to commit, since the batch holds other callers' events
// too: one caller giving up must not fail the others (groupcommit drops
// the callers' cancellation).
const commitTimeout = 10 * time.Second

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
// ones. It returns only after the store committed them. Concurrent calls
// share one transaction (group commit): a call that arrives while another
// commits waits for that commit and is then committed with every call
// that arrived meanwhile.
func (l *Log) Append(ctx context.Context, connectionID string, evs []*Normalised) ([]*store.Event, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	received := l.now().UTC().Truncate(time.Microsecond)
	r := &appendReq{rows: make([]*store.Event, 0, len(evs)), envs: make([]*Envelope, 0, len(evs)), writeKeys: make([]string, 0, len(evs))}
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
		r.rows = append(r.rows, &store.Event{ID: env.ID, ConnectionID: connectionID, SourceKey: n.SourceKey, Type: env.Type,
			OccurredAt: env.OccurredAt, ReceivedAt: received, Body: body})
		r.envs = append(r.envs, &env)
		r.writeKeys = append(r.writeKeys, n.writeKey)
	}
	l.commitsOnce.Do(func() { l.commits.Commit = l.commit })
	if err := l.commits.Do(ctx, r); err != nil {
		return nil, err
	}
	return r.added, nil
}

// markActors sets the actor of the batch's events that report one of
// deskconn's own writes (its write marks), re-encoding their bodies: one
// read per connection for the whole batch.
func (l *Log) markActors(ctx context.Context, batch []*appendReq) error {
	keys := map[string][]string{} // connection id → write keys
	for _, b := range batch {
		for i, k := range b.writeKeys {
			if k != "" {
				c := b.rows[i].ConnectionID
				keys[c] = append(keys[c], k)
			}
		}
	}
	marks := make(map[string]map[string]*store.WriteMark, len(keys))
	for c, ks := range keys {
		m, err := l.Store.MatchWrites(ctx, c, ks)
		if err != nil {
			return fmt.Errorf("append events: find deskconn's own writes: %w", err)
		}
		marks[c] = m
	}
	for _, b := range batch {
		for i, k := range b.writeKeys {
			m := marks[b.rows[i].ConnectionID][k]
			if k == "" || m == nil {
				continue
			}
			env := b.envs[i]
			env.Actor = &Actor{Type: ActorDeskconn, Action: m.Action, Key: m.APIKeyID}
			body, err := json.Marshal(env)
			if err != nil {
				return fmt.Errorf("append events: encode %s: %w", env.Type, err)
			}
			b.rows[i].Body = body
		}
	}
	return nil
}

// commit stores the rows of batch in one transaction and gives each
// request the ones that were new: the commits group's Commit (which retries
// each request alone when a batch fails, so one request's bad row does not
// fail the others). It wakes the readers of each connection that got
// events, and the delivery worker when they made deliveries.
func (l *Log) commit(ctx context.Context, batch []*appendReq) error {
	ctx, cancel := context.WithTimeout(ctx, commitTimeout)
	defer cancel()
	if err := l.markActors(ctx, batch); err != nil {
		return err
	}
	var all []*store.Event
	for _, b := range batch {
		all = append(all, b.rows...)
	}
	// By connection (keeping each connection's order): on Postgres every
	// batch then takes the connections' event_seqs row locks in the same
	// order, so two replicas' batches cannot deadlock.
	slices.SortStableFunc(all, func(a, b *store.Event) int { return strings.Compare(a.ConnectionID, b.ConnectionID) })
	added, err := l.Store.AppendEvents(ctx, all)
	if err != nil {
		return err
	}
	isNew := make(map[*store.Event]bool, len(added))
	for _, e := range added {
		isNew[e] = true
	}
	notified := map[string]bool{}
	deliveries := false
	for _, b := range batch {
		b.added = nil
		for _, e := range b.rows {
			if !isNew[e] {
				continue
			}
			b.added = append(b.added, e)
			deliveries = deliveries || e.Deliveries > 0
			if !notified[e.ConnectionID] {
				notified[e.ConnectionID] = true
				l.notifyReaders(e.ConnectionID)
			}
		}
	}
	// The delivery worker wakes only for events that created deliveries:
	// waking it (a claim query) on every append of a connection without
	// subscribers was a large part of ingest's cost.
	if deliveries {
		l.notifyDue()
	}
	return nil
}

// Notify wakes this process's waiters on the connection and its delivery
// worker (after new events, or deliveries made due again).
func (l *Log) Notify(connectionID string) {
	l.notifyReaders(connectionID)
	l.notifyDue()
}

func (l *Log) notifyReaders(connectionID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch, ok := l.waiters[connectionID]; ok {
		close(ch)
		delete(l.waiters, connectionID)
	}
}

func (l *Log) notifyDue() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.due != nil {
		close(l.due)
		l.due = nil
	}
}

// deliveriesDue returns a channel closed when this process appended events
// that created deliveries, or Notify was called.
func (l *Log) deliveriesDue() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.due == nil {
		l.due = make(chan struct{})
	}
	return l.due
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
