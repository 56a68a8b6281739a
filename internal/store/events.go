package store

import (
	"context"
	"strconv"
	"time"
)

// Event is one normalised event in a connection's event log. Body is the
// event's JSON envelope as internal/events built it; the store does not
// read it.
type Event struct {
	// Seq is the event's cursor: assigned by AppendEvents, starting at 1 and
	// increasing by one per new event of the connection, never reused (not
	// even after every event was purged). A reader that saw Seq n never
	// later finds a new event with a smaller Seq.
	Seq          int64
	ID           string // public id, "evt_…"; unique
	ConnectionID string
	// SourceKey de-duplicates: a second event with the same connection and
	// SourceKey (a Zoho event delivered twice, or read twice by a poller)
	// is not stored again.
	SourceKey  string
	Type       string // e.g. "ticket.updated"
	OccurredAt time.Time
	ReceivedAt time.Time
	Body       []byte
	// Deliveries is set by AppendEvents on the events it stored: how many
	// push deliveries it created for the event (0 when no subscription
	// wants it).
	Deliveries int
}

// EventFilter selects events of one connection.
type EventFilter struct {
	ConnectionID string   // required
	After        int64    // only events with Seq > After
	Types        []string // empty means every type
	Limit        int      // 0 means 100
}

// Subscription is a push subscription: every new event of the connection
// whose type is in Types (all when empty) is POSTed to URL, signed with the
// secret. SealedSecret is an internal/seal ciphertext bound to this row.
type Subscription struct {
	ID           string
	TenantID     string
	ConnectionID string
	URL          string
	Types        []string
	SealedSecret []byte
	CreatedAt    time.Time
}

// Matches reports whether the subscription wants events of this type.
func (s *Subscription) Matches(eventType string) bool {
	if len(s.Types) == 0 {
		return true
	}
	for _, t := range s.Types {
		if t == eventType {
			return true
		}
	}
	return false
}

// DeliveryState is the state of one event's delivery to one subscription.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"   // to be attempted at NextAttemptAt
	DeliveryDelivered DeliveryState = "delivered" // the subscriber answered 2xx
	DeliveryFailed    DeliveryState = "failed"    // given up; RedeliverFailed makes it pending again
)

// Delivery is one event to send to one subscription. Claimed deliveries
// carry what sending needs: the event body and the subscription's URL and
// sealed secret.
type Delivery struct {
	ID             int64
	SubscriptionID string
	ConnectionID   string
	EventSeq       int64
	EventID        string
	State          DeliveryState
	Attempts       int // attempts finished so far
	NextAttemptAt  time.Time
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time

	// Filled by ClaimDeliveries.
	EventBody    []byte
	URL          string
	SealedSecret []byte
}

// DeliveryResult is the outcome of one delivery attempt.
type DeliveryResult struct {
	ID            int64
	Owner         string        // the claimer; a lease taken over since makes the update ErrNotFound
	State         DeliveryState // DeliveryDelivered, DeliveryPending (retry at NextAttemptAt) or DeliveryFailed
	NextAttemptAt time.Time
	LastError     string
}

// EventSourceMode is how a connection's events come in from Zoho.
type EventSourceMode string

// Event source modes.
const (
	SourceOff     EventSourceMode = "off"
	SourceWebhook EventSourceMode = "webhook"
	SourcePolling EventSourceMode = "polling"
)

// EventSource is a connection's event intake: its mode, the hash of the
// token in its webhook receiving URL (the token itself is never stored),
// the Zoho webhook behind it, and its health.
type EventSource struct {
	ConnectionID string
	TenantID     string // the connection's tenant
	Mode         EventSourceMode
	TokenHash    []byte // sha256 of the receiving URL's token; unique; nil when none
	WebhookID    string // Zoho's webhook id, "" when none
	LastEventAt  time.Time
	LastError    string // safe, human-readable
	UpdatedAt    time.Time
	// OrgID and DeskBaseURL are the connection's, read with the source by
	// GetEventSourceByToken (the webhook receiver checks a delivery's JWT
	// against them, so it needs no second read); other reads leave them
	// empty, and PutEventSource ignores them.
	OrgID       string
	DeskBaseURL string
}

// WriteMark records one change deskconn made in Zoho Desk through an
// action, so that the event Zoho reports for it can be told apart from a
// person's change (the envelope's actor). Marks are kept as long as events
// (PurgeEvents).
type WriteMark struct {
	ConnectionID string
	// Key names the change as an event can name it (WriteKey).
	Key string
	// Action is the action's name; APIKeyID who called it: the API key's
	// id, or an MCP grant's, as in the audit log ("" for the CLI and the
	// web console).
	Action   string
	APIKeyID string
	At       time.Time
}

// WriteKey names a change of one Zoho object: kind ("ticket", "thread",
// "comment", "contact", "account"), the object's id and, for a change of
// an existing object, the modifiedTime Zoho gave it ("" names the
// object's creation). The modifiedTime is read as ISO 8601 or epoch
// milliseconds and kept to the millisecond, so that the write's answer and
// the event's payload match whichever form each carries; anything else is
// kept as it is.
func WriteKey(kind, objectID, modifiedTime string) string {
	k := kind + "/" + objectID
	if modifiedTime == "" {
		return k
	}
	if t, err := time.Parse(time.RFC3339Nano, modifiedTime); err == nil {
		return k + "@" + strconv.FormatInt(t.UnixMilli(), 10)
	}
	return k + "@" + modifiedTime // epoch milliseconds already, or unknown
}

// EventStore persists the event pipeline: the per-connection event log,
// push subscriptions and their deliveries, poll cursors, event sources and
// leases. Every method is safe for concurrent use by several processes.
type EventStore interface {
	// AppendEvents stores the events not already in the log (same
	// ConnectionID and SourceKey) and returns those it stored, with Seq set
	// (and ID when empty). In the same transaction it creates a pending
	// delivery, due at the event's ReceivedAt, for every subscription of the
	// event's connection that matches its type. Events of one connection are
	// appended one transaction at a time, so Seq order is commit order.
	AppendEvents(ctx context.Context, events []*Event) ([]*Event, error)
	// ListEvents returns events in Seq order.
	ListEvents(ctx context.Context, f EventFilter) ([]*Event, error)
	// LastEventSeq returns the highest Seq ever assigned for the connection
	// (0 when none).
	LastEventSeq(ctx context.Context, connectionID string) (int64, error)
	// PurgeEvents deletes events received before the cutoff, and their
	// deliveries, and returns how many events it deleted. It also deletes
	// the write marks made before the cutoff. Cursors are unaffected.
	PurgeEvents(ctx context.Context, before time.Time) (int64, error)
	// MatchWrites returns the connection's write marks whose Key is one of
	// keys, by key (missing keys are absent).
	MatchWrites(ctx context.Context, connectionID string, keys []string) (map[string]*WriteMark, error)

	// Subscriptions. CreateSubscription sets CreatedAt, and ID when empty;
	// ErrNotFound when the connection does not exist. Get/List/Delete are
	// scoped to a tenant.
	CreateSubscription(ctx context.Context, s *Subscription) error
	GetSubscription(ctx context.Context, tenantID, id string) (*Subscription, error)
	ListSubscriptions(ctx context.Context, tenantID, connectionID string) ([]*Subscription, error)
	DeleteSubscription(ctx context.Context, tenantID, id string) error
	// SetSubscriptionSecret replaces a subscription's sealed secret (key
	// rotation); ErrNotFound when it does not exist.
	SetSubscriptionSecret(ctx context.Context, tenantID, id string, sealed []byte) error

	// ClaimDeliveries leases up to limit pending deliveries due at now to
	// owner until now+lease, oldest due first, leaving out those of
	// skipSubscriptions (the caller's busy subscribers). A delivery leased to
	// another owner is skipped until its lease ends (a crashed worker's
	// deliveries come back then). On Postgres concurrent claimers never
	// block each other (FOR UPDATE SKIP LOCKED) and never get the same
	// delivery.
	ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skipSubscriptions ...string) ([]*Delivery, error)
	// FinishDelivery records an attempt's outcome, counts the attempt and
	// releases the lease; ErrNotFound when owner no longer holds it.
	FinishDelivery(ctx context.Context, r DeliveryResult) error
	// ListDeliveries returns a subscription's deliveries, newest first
	// (limit 0 means 100).
	ListDeliveries(ctx context.Context, subscriptionID string, limit int) ([]*Delivery, error)
	// RedeliverFailed makes the subscription's failed deliveries pending
	// again, due at now, with their attempt count reset, and returns how
	// many there were.
	RedeliverFailed(ctx context.Context, subscriptionID string, now time.Time) (int64, error)

	// Poll cursors: an opaque value per connection and name.
	// GetCursor returns "" for a cursor never set.
	GetCursor(ctx context.Context, connectionID, name string) (string, error)
	SetCursor(ctx context.Context, connectionID, name, value string) error

	// Event sources. PutEventSource inserts or replaces the connection's
	// source (setting UpdatedAt); ErrNotFound when the connection does not
	// exist, ErrConflict when another connection has the token hash.
	PutEventSource(ctx context.Context, s *EventSource) error
	GetEventSource(ctx context.Context, connectionID string) (*EventSource, error)
	GetEventSourceByToken(ctx context.Context, tokenHash []byte) (*EventSource, error)
	// TouchEventSource records that the connection's source received events
	// at the given time, changing nothing else (so it never undoes a
	// concurrent PutEventSource); a missing source is not an error.
	TouchEventSource(ctx context.Context, connectionID string, at time.Time) error
	// ListEventSources lists every source in a mode ("" for all).
	ListEventSources(ctx context.Context, mode EventSourceMode) ([]*EventSource, error)

	// TryLease takes or renews the named lease for owner until now+ttl when
	// it is free, expired, or already owner's, and reports whether owner
	// holds it. At most one owner holds a live lease, across processes.
	TryLease(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease gives up owner's lease (a no-op when owner does not hold it).
	ReleaseLease(ctx context.Context, name, owner string) error
}

// Locks are named locks, each held by at most one process of the
// deployment at a time, that end with the process that holds them. A Locks
// value is one process's; it is safe for concurrent use.
type Locks interface {
	// Hold reports whether this process holds the named lock, taking it
	// when it is free. For a lock it held, it first checks that the lock is
	// still held (its database session is alive): a lost lock is forgotten
	// and taken again only if it is free, so that a process never goes on
	// acting on a lock it lost.
	Hold(ctx context.Context, name string) (bool, error)
	// Release gives up the named lock (a no-op when not held). It may give
	// up every lock of this process when the lock cannot be given up alone
	// (its session must be ended); they are then taken again by Hold.
	Release(ctx context.Context, name string) error
	// Close gives up every lock.
	Close() error
}

// SessionLocker is implemented by stores whose locks are database session
// locks (Postgres advisory locks): a crashed process's locks end with its
// session, at once, rather than when a lease expires.
type SessionLocker interface {
	// SessionLocks returns a new set of locks on a session of its own.
	SessionLocks() Locks
}
