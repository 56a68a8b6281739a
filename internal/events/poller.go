package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// ClientFunc returns a Zoho Desk client for a tenant's connection
// ((*connection.Manager).Client has this shape).
type ClientFunc func(ctx context.Context, tenantID, idOrName string) (*zohodesk.Client, *store.Connection, error)

// Poller reads changes from Zoho for connections in polling mode: ticket
// search by modified time, ascending (zoho-desk-api-2.md §1.10), from the
// persisted cursor minus an overlap (search indexing lags), de-duplicated
// by the log's source keys, within a per-round budget of calls. One replica
// polls a connection at a time: before each round it makes sure it holds
// the connection's lock (Locks): on Postgres a session advisory lock, which
// ends with the holder's session, so a crashed replica's connections are
// taken over at the next round of another; on SQLite a lease row in the
// store, which a crashed holder keeps until it expires (3 intervals).
//
// Polling sees tickets only: [GAP] Zoho has no per-organisation "new
// threads/comments since" read, and whether a thread bumps the ticket's
// modifiedTime is unknown, so ticket.thread_added and ticket.comment_added
// come from webhooks only.
//
// A polled ticket.updated carries previous values where the poller can
// know them: it keeps the last values it read of a few fields of each
// recently changed ticket (seenFields, at most maxSeenTickets tickets) in
// a second cursor, and reports the fields whose value differs now. They
// are the values of its previous read, so a ticket changed twice between
// two rounds reports the first change's old values merged with the second.
type Poller struct {
	Store  store.Store
	Log    *Log
	Client ClientFunc
	Owner  string
	Logger *slog.Logger

	Interval time.Duration // between rounds; 0: 30 s
	Overlap  time.Duration // re-read window before the cursor; 0: 2 min
	MaxCalls int           // search calls per connection per round (3 credits each); 0: 5
	// CreditsPerDay is the Zoho API credits polling may spend per connection
	// per day; 0: DefaultPollCredits. After a round a connection waits until
	// its calls fit the budget, so polling never eats an organisation's
	// daily credits (zoho-desk-api.md §2.5: from 5,000 a day on Free).
	CreditsPerDay int
	Now           func() time.Time
	// Locks are the one-replica-per-connection locks; nil: the store's
	// session locks when it has them (store.SessionLocker: Postgres), else
	// leases in the store (TryLease) owned by Owner.
	Locks store.Locks

	mu    sync.Mutex
	next  map[string]time.Time // connection id → earliest next poll (credit budget)
	held  map[string]bool      // connection ids whose lock this poller took
	locks store.Locks          // Locks, or the default chosen on first use
}

// leaseLocks are store.Locks made of the store's lease rows: a lock lasts
// ttl from its last Hold, so a holder that stops is replaced once it
// expires.
type leaseLocks struct {
	store store.EventStore
	owner string
	now   func() time.Time
	ttl   func() time.Duration
}

func (l *leaseLocks) Hold(ctx context.Context, name string) (bool, error) {
	return l.store.TryLease(ctx, name, l.owner, l.now(), l.ttl())
}

func (l *leaseLocks) Release(ctx context.Context, name string) error {
	return l.store.ReleaseLease(ctx, name, l.owner)
}

func (l *leaseLocks) Close() error { return nil }

// lockSet returns the poller's locks, choosing the default on first use.
func (p *Poller) lockSet() store.Locks {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.locks == nil {
		p.locks = p.Locks
		if p.locks == nil {
			if sl, ok := p.Store.(store.SessionLocker); ok {
				p.locks = sl.SessionLocks()
			} else {
				p.locks = &leaseLocks{store: p.Store, owner: p.Owner, now: p.now, ttl: func() time.Duration { return 3 * p.interval() }}
			}
		}
	}
	return p.locks
}

// pollLock names a connection's polling lock.
func pollLock(connectionID string) string { return "poll/" + connectionID }

// Close gives up the locks of the connections this poller polls, so that
// another replica takes them over at its next round. Run calls it when it
// returns.
func (p *Poller) Close() error {
	locks := p.lockSet()
	p.mu.Lock()
	held := p.held
	p.held = nil
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for id := range held {
		if err := locks.Release(ctx, pollLock(id)); err != nil {
			p.logger().Warn("events: poller: release lock", "connection", id, "err", err)
		}
	}
	return locks.Close()
}

// setHeld records whether this poller holds the connection's lock.
func (p *Poller) setHeld(connectionID string, held bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		p.held = map[string]bool{}
	}
	if held {
		p.held[connectionID] = true
	} else {
		delete(p.held, connectionID)
	}
}

// DefaultPollCredits is the default daily credit budget of polling one
// connection: a search costs 3 credits [C NREC], so about one search every
// 86 seconds. [I] a fraction of the smallest edition's 5,000.
const DefaultPollCredits = 3000

// searchCredits is the credit weight of one ticket search [C NREC].
const searchCredits = 3

// cursorTickets names the poll cursor: the modifiedTime of the newest
// ticket read, RFC 3339 with milliseconds.
const cursorTickets = "tickets.modifiedTime"

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Poller) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

func (p *Poller) interval() time.Duration {
	if p.Interval > 0 {
		return p.Interval
	}
	return 30 * time.Second
}

// Run polls every polling connection each Interval until ctx ends, then
// gives up its locks (Close).
func (p *Poller) Run(ctx context.Context) error {
	defer p.Close()
	ticker := time.NewTicker(p.interval())
	defer ticker.Stop()
	for {
		p.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// RunOnce polls, once, every connection in polling mode whose lock this
// poller holds or can take, and gives up the locks of connections no longer
// polling. Failures are recorded on the event source.
func (p *Poller) RunOnce(ctx context.Context) {
	srcs, err := p.Store.ListEventSources(ctx, store.SourcePolling)
	if err != nil {
		p.logger().Error("events: poller: list sources", "err", err)
		return
	}
	locks := p.lockSet()
	p.releaseStale(ctx, locks, srcs)
	for _, src := range srcs {
		if !p.due(src.ConnectionID) {
			continue // within its credit budget's spacing
		}
		// Checked before every round: a holder whose session was lost
		// (Postgres) no longer holds the lock and must not poll.
		ok, err := locks.Hold(ctx, pollLock(src.ConnectionID))
		if err != nil {
			p.setHeld(src.ConnectionID, false)
			p.logger().Error("events: poller: lock", "connection", src.ConnectionID, "err", err)
			continue
		}
		p.setHeld(src.ConnectionID, ok)
		if !ok {
			continue // another replica polls this connection
		}
		if _, err := p.PollConnection(ctx, src); err != nil && ctx.Err() == nil {
			p.logger().Warn("events: poll failed", "connection", src.ConnectionID, "err", err)
		}
	}
}

// releaseStale gives up the locks of connections that no longer poll.
func (p *Poller) releaseStale(ctx context.Context, locks store.Locks, srcs []*store.EventSource) {
	polling := make(map[string]bool, len(srcs))
	for _, s := range srcs {
		polling[s.ConnectionID] = true
	}
	p.mu.Lock()
	var stale []string
	for id := range p.held {
		if !polling[id] {
			stale = append(stale, id)
		}
	}
	p.mu.Unlock()
	for _, id := range stale {
		if err := locks.Release(ctx, pollLock(id)); err != nil {
			p.logger().Warn("events: poller: release lock", "connection", id, "err", err)
		}
		p.setHeld(id, false)
	}
}

// PollConnection reads one round of changes of src's connection and
// returns how many new events it logged. The caller holds the lock.
func (p *Poller) PollConnection(ctx context.Context, src *store.EventSource) (int, error) {
	n, err := p.poll(ctx, src)
	lastErr := ""
	if err != nil {
		lastErr = err.Error()
	}
	if lastErr != src.LastError || n > 0 {
		cur := *src
		cur.LastError = lastErr
		if n > 0 {
			cur.LastEventAt = p.now()
		}
		if perr := p.Store.PutEventSource(context.WithoutCancel(ctx), &cur); perr != nil && err == nil {
			err = perr
		}
	}
	return n, err
}

// due reports whether the connection's credit budget allows a round now.
func (p *Poller) due(connectionID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.now().Before(p.next[connectionID])
}

// spent records that a round made calls searches, spacing the next round
// so that polling stays within CreditsPerDay.
func (p *Poller) spent(connectionID string, calls int) {
	budget := p.CreditsPerDay
	if budget <= 0 {
		budget = DefaultPollCredits
	}
	per := 24 * time.Hour / time.Duration(budget)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == nil {
		p.next = map[string]time.Time{}
	}
	p.next[connectionID] = p.now().Add(time.Duration(calls*searchCredits) * per)
}

func (p *Poller) poll(ctx context.Context, src *store.EventSource) (int, error) {
	client, conn, err := p.Client(ctx, src.TenantID, src.ConnectionID)
	if err != nil {
		return 0, fmt.Errorf("poll: %w", err)
	}
	cursorText, err := p.Store.GetCursor(ctx, conn.ID, cursorTickets)
	if err != nil {
		return 0, err
	}
	now := p.now().UTC()
	cursor := now
	if cursorText != "" {
		if cursor, err = time.Parse(time.RFC3339Nano, cursorText); err != nil {
			return 0, fmt.Errorf("poll: stored cursor %q: %w", cursorText, err)
		}
	}
	overlap := p.Overlap
	if overlap <= 0 {
		overlap = 2 * time.Minute
	}
	start := cursor.Add(-overlap)
	maxCalls := p.MaxCalls
	if maxCalls <= 0 {
		maxCalls = 5
	}
	seen, err := p.loadSeen(ctx, conn.ID)
	if err != nil {
		return 0, err
	}
	const limit = zohodesk.MaxLimitTicketSearch
	newest := cursor
	logged, calls := 0, 0
	defer func() { p.spent(conn.ID, calls) }()
	for call := range maxCalls {
		opts := &zohodesk.TicketSearchOptions{
			ListOptions:       zohodesk.ListOptions{From: call * limit, Limit: limit},
			ModifiedTimeRange: zohoTime(start) + "," + zohoTime(now.Add(time.Minute)),
			SortBy:            "modifiedTime",
		}
		if opts.From > zohodesk.MaxFromSearch {
			break
		}
		calls++
		res, _, err := client.Tickets.Search(ctx, conn.OrgID, opts)
		if err != nil {
			return logged, fmt.Errorf("poll tickets: %w", err)
		}
		var evs []*Normalised
		for _, t := range res.Tickets {
			evs = append(evs, ticketEvents(conn.ID, t, start, seen)...)
			if mt, err := parseTimeString(t.ModifiedTime); err == nil && mt.After(newest) {
				newest = mt
			}
		}
		added, err := p.Log.Append(ctx, conn.ID, evs)
		if err != nil {
			return logged, err
		}
		logged += len(added)
		if len(res.Tickets) < limit {
			break
		}
	}
	// Only after the events are stored: a crash before this re-reads them,
	// and the source keys drop the repeats.
	seenText, err := seen.encode()
	if err != nil {
		return logged, err
	}
	if err := p.Store.SetCursor(ctx, conn.ID, cursorSeen, seenText); err != nil {
		return logged, err
	}
	if err := p.Store.SetCursor(ctx, conn.ID, cursorTickets, newest.UTC().Format(time.RFC3339Nano)); err != nil {
		return logged, err
	}
	return logged, nil
}

// zohoTime formats t as Zoho's search ranges take it.
func zohoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// cursorSeen names the cursor holding the last values read of recently
// changed tickets (seenState).
const cursorSeen = "tickets.seen"

// seenFields are the ticket fields whose previous values a polled
// ticket.updated reports: the ones agents route and triage by.
var seenFields = []string{"subject", "status", "statusType", "priority", "assigneeId", "departmentId", "teamId",
	"contactId", "accountId", "category", "subCategory", "classification", "channel", "dueDate", "isEscalated", "isSpam"}

// maxSeenTickets bounds seenState: the most recently modified tickets are kept.
const maxSeenTickets = 1000

// seenTicket is one ticket's values as the poller last read them.
type seenTicket struct {
	Modified string                     `json:"m"`
	Fields   map[string]json.RawMessage `json:"f"`
}

type seenState map[string]seenTicket // ticket id → last read

func (p *Poller) loadSeen(ctx context.Context, connectionID string) (seenState, error) {
	text, err := p.Store.GetCursor(ctx, connectionID, cursorSeen)
	if err != nil {
		return nil, err
	}
	seen := seenState{}
	if text != "" {
		if err := json.Unmarshal([]byte(text), &seen); err != nil {
			// A damaged state only costs previous values: start afresh.
			p.logger().Warn("events: poller: previous values state unreadable; starting afresh", "connection", connectionID, "err", err)
			seen = seenState{}
		}
	}
	return seen, nil
}

// observe records t's values and returns the previous values of those that
// changed since the last read, nil when none are known or none changed.
func (s seenState) observe(t *zohodesk.Ticket, payload json.RawMessage) json.RawMessage {
	var fields map[string]json.RawMessage
	if json.Unmarshal(payload, &fields) != nil || t.ID == "" {
		return nil
	}
	now := seenTicket{Modified: t.ModifiedTime, Fields: map[string]json.RawMessage{}}
	for _, f := range seenFields {
		if v, ok := fields[f]; ok {
			now.Fields[f] = compact(v)
		}
	}
	before, known := s[t.ID]
	if known {
		mb, errB := parseTimeString(before.Modified)
		mn, errN := parseTimeString(t.ModifiedTime)
		if errB == nil && errN == nil && !mn.After(mb) {
			return nil // the same (or an older) version read again
		}
	}
	s[t.ID] = now
	if !known {
		return nil
	}
	prev := map[string]json.RawMessage{}
	for f, v := range before.Fields {
		if cur, ok := now.Fields[f]; ok && !bytes.Equal(cur, v) {
			prev[f] = v
		}
	}
	if len(prev) == 0 {
		return nil
	}
	b, err := json.Marshal(prev)
	if err != nil {
		return nil
	}
	return b
}

// encode returns the state, keeping only the maxSeenTickets most recently
// modified tickets.
func (s seenState) encode() (string, error) {
	if len(s) > maxSeenTickets {
		ids := make([]string, 0, len(s))
		for id := range s {
			ids = append(ids, id)
		}
		modified := func(id string) time.Time { t, _ := parseTimeString(s[id].Modified); return t }
		sort.Slice(ids, func(i, j int) bool { return modified(ids[i]).After(modified(ids[j])) })
		for _, id := range ids[maxSeenTickets:] {
			delete(s, id)
		}
	}
	b, err := json.Marshal(s)
	return string(b), err
}

// ticketEvents turns a ticket read by search into events: ticket.created
// when it was created inside the window, and ticket.updated when it was
// modified after its creation. Zoho's webhook would have sent the same
// ticket, so the source keys match the receiver's and a change seen both
// ways is logged once.
func ticketEvents(connectionID string, t *zohodesk.Ticket, windowStart time.Time, seen seenState) []*Normalised {
	payload := t.Raw
	if len(payload) == 0 {
		payload, _ = json.Marshal(t)
	}
	previous := seen.observe(t, payload)
	var out []*Normalised
	created, errC := parseTimeString(t.CreatedTime)
	if errC == nil && !created.Before(windowStart) {
		if n, err := Normalise(connectionID, ZohoEvent{EventType: "Ticket_Add", EventTime: created, Payload: payload}); err == nil {
			out = append(out, n)
		}
	}
	if t.ModifiedTime != "" && t.ModifiedTime != t.CreatedTime {
		modified, _ := parseTimeString(t.ModifiedTime)
		if n, err := Normalise(connectionID, ZohoEvent{EventType: "Ticket_Update", EventTime: modified, Payload: payload}); err == nil {
			n.Previous = previous
			out = append(out, n)
		}
	}
	return out
}
