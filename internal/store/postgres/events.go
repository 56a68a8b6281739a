package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/jackc/pgx/v5"
)

// ---- Event log ----

// AppendEvents stores the events not yet in the log; see store.EventStore.
//
// The connection's event_seqs row is bumped first: its row lock serialises
// appends of one connection until commit, so Seq order is commit order (a
// reader never skips a Seq that commits later), and the duplicate check
// after it sees every earlier append.
func (s *Store) AppendEvents(ctx context.Context, events []*store.Event) ([]*store.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	for _, e := range events {
		if e.ConnectionID == "" || e.SourceKey == "" || e.Type == "" {
			return nil, errors.New("append events: ConnectionID, SourceKey and Type are required")
		}
	}
	var added []*store.Event
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		added = added[:0]
		for _, e := range events {
			var seq int64
			if err := tx.QueryRow(ctx, `INSERT INTO event_seqs (connection_id, last_seq) VALUES ($1, 1)
				ON CONFLICT (connection_id) DO UPDATE SET last_seq = event_seqs.last_seq + 1 RETURNING last_seq`,
				e.ConnectionID).Scan(&seq); err != nil {
				return err
			}
			var dup bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE connection_id = $1 AND source_key = $2)`,
				e.ConnectionID, e.SourceKey).Scan(&dup); err != nil {
				return err
			}
			if dup {
				// Give the number back: the row is still locked by us.
				if _, err := tx.Exec(ctx, `UPDATE event_seqs SET last_seq = last_seq - 1 WHERE connection_id = $1`, e.ConnectionID); err != nil {
					return err
				}
				continue
			}
			id := e.ID
			if id == "" {
				id = store.NewID("evt")
			}
			received := e.ReceivedAt
			if received.IsZero() {
				received = now()
			}
			received = received.UTC().Truncate(time.Microsecond)
			occurred := e.OccurredAt.UTC().Truncate(time.Microsecond)
			if _, err := tx.Exec(ctx, `INSERT INTO events (connection_id, seq, id, source_key, type, occurred_at, received_at, body)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.ConnectionID, seq, id, e.SourceKey, e.Type, occurred, received, e.Body); err != nil {
				return err
			}
			t := now()
			tag, err := tx.Exec(ctx, `INSERT INTO deliveries (subscription_id, connection_id, event_seq, state, attempts,
				next_attempt_at, lease_owner, lease_until, last_error, created_at, updated_at)
				SELECT id, connection_id, $2, 'pending', 0, $3, '', '-infinity', '', $4, $4 FROM subscriptions
				WHERE connection_id = $1 AND (cardinality(types) = 0 OR $5 = ANY(types))`,
				e.ConnectionID, seq, received, t, e.Type)
			if err != nil {
				return fmt.Errorf("create deliveries: %w", err)
			}
			added = append(added, &store.Event{Seq: seq, ID: id, ConnectionID: e.ConnectionID, SourceKey: e.SourceKey,
				Type: e.Type, OccurredAt: occurred, ReceivedAt: received, Body: e.Body, Deliveries: int(tag.RowsAffected())})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("append events: %w", mapErr(err))
	}
	// Only now, after commit, report the assigned values to the caller's events.
	out := make([]*store.Event, 0, len(added))
	for _, a := range added {
		for _, e := range events {
			if e.ConnectionID == a.ConnectionID && e.SourceKey == a.SourceKey && e.Seq == 0 {
				e.Seq, e.ID, e.OccurredAt, e.ReceivedAt, e.Deliveries = a.Seq, a.ID, a.OccurredAt, a.ReceivedAt, a.Deliveries
				out = append(out, e)
				break
			}
		}
	}
	return out, nil
}

// ListEvents returns the connection's events after f.After in Seq order.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]*store.Event, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	types := f.Types
	if types == nil {
		types = []string{}
	}
	rows, err := s.pool.Query(ctx, `SELECT connection_id, seq, id, source_key, type, occurred_at, received_at, body FROM events
		WHERE connection_id = $1 AND seq > $2 AND (cardinality($3::text[]) = 0 OR type = ANY($3))
		ORDER BY seq LIMIT $4`, f.ConnectionID, f.After, types, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Event, error) {
		var e store.Event
		if err := row.Scan(&e.ConnectionID, &e.Seq, &e.ID, &e.SourceKey, &e.Type, &e.OccurredAt, &e.ReceivedAt, &e.Body); err != nil {
			return nil, err
		}
		e.OccurredAt, e.ReceivedAt = e.OccurredAt.UTC(), e.ReceivedAt.UTC()
		return &e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// LastEventSeq returns the highest Seq assigned for the connection.
func (s *Store) LastEventSeq(ctx context.Context, connectionID string) (int64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, `SELECT last_seq FROM event_seqs WHERE connection_id = $1`, connectionID).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("last event seq: %w", err)
	}
	return seq, nil
}

// PurgeEvents deletes events received before the cutoff and their deliveries.
func (s *Store) PurgeEvents(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE received_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("purge events: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM write_marks WHERE created_at < $1`, before); err != nil {
		return 0, fmt.Errorf("purge write marks: %w", err)
	}
	return tag.RowsAffected(), nil
}

// MatchWrites returns the connection's write marks with one of keys; see
// store.EventStore.
func (s *Store) MatchWrites(ctx context.Context, connectionID string, keys []string) (map[string]*store.WriteMark, error) {
	out := map[string]*store.WriteMark{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT key, action, api_key_id, created_at FROM write_marks
		WHERE connection_id = $1 AND key = ANY($2)`, connectionID, keys)
	if err != nil {
		return nil, fmt.Errorf("match writes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m := &store.WriteMark{ConnectionID: connectionID}
		if err := rows.Scan(&m.Key, &m.Action, &m.APIKeyID, &m.At); err != nil {
			return nil, fmt.Errorf("match writes: %w", err)
		}
		m.At = m.At.UTC()
		out[m.Key] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("match writes: %w", err)
	}
	return out, nil
}

// ---- Subscriptions ----

const subCols = `id, tenant_id, connection_id, url, types, sealed_secret, created_at`

func scanSubscription(row pgx.Row) (*store.Subscription, error) {
	var sub store.Subscription
	if err := row.Scan(&sub.ID, &sub.TenantID, &sub.ConnectionID, &sub.URL, &sub.Types, &sub.SealedSecret, &sub.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	if sub.Types == nil {
		sub.Types = []string{}
	}
	sub.CreatedAt = sub.CreatedAt.UTC()
	return &sub, nil
}

// CreateSubscription inserts sub; the connection must exist in its tenant.
func (s *Store) CreateSubscription(ctx context.Context, sub *store.Subscription) error {
	if len(sub.SealedSecret) == 0 {
		return errors.New("create subscription: empty sealed secret")
	}
	if sub.ID == "" {
		sub.ID = store.NewID("sub")
	}
	sub.CreatedAt = now()
	types := sub.Types
	if types == nil {
		types = []string{}
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO subscriptions (`+subCols+`)
		SELECT $1, $2, id, $4, $5, $6, $7 FROM connections WHERE tenant_id = $2 AND id = $3`,
		sub.ID, sub.TenantID, sub.ConnectionID, sub.URL, types, sub.SealedSecret, sub.CreatedAt)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("create subscription: %w", mapErr(err))
	}
	return nil
}

// GetSubscription returns a tenant's subscription, or ErrNotFound.
func (s *Store) GetSubscription(ctx context.Context, tenantID, id string) (*store.Subscription, error) {
	sub, err := scanSubscription(s.pool.QueryRow(ctx, `SELECT `+subCols+` FROM subscriptions WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("get subscription: %w", err)
	}
	return sub, nil
}

// ListSubscriptions lists a connection's subscriptions, oldest first.
func (s *Store) ListSubscriptions(ctx context.Context, tenantID, connectionID string) ([]*store.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subCols+` FROM subscriptions WHERE tenant_id = $1 AND connection_id = $2
		ORDER BY created_at, id`, tenantID, connectionID)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Subscription, error) { return scanSubscription(row) })
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}

// DeleteSubscription deletes a tenant's subscription and its deliveries.
func (s *Store) DeleteSubscription(ctx context.Context, tenantID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM subscriptions WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("delete subscription: %w", err)
	}
	return nil
}

// SetSubscriptionSecret replaces a subscription's sealed secret.
func (s *Store) SetSubscriptionSecret(ctx context.Context, tenantID, id string, sealed []byte) error {
	if len(sealed) == 0 {
		return errors.New("set subscription secret: empty sealed secret")
	}
	tag, err := s.pool.Exec(ctx, `UPDATE subscriptions SET sealed_secret = $1 WHERE tenant_id = $2 AND id = $3`, sealed, tenantID, id)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("set subscription secret: %w", err)
	}
	return nil
}

// ---- Deliveries ----

const deliveryCols = `d.id, d.subscription_id, d.connection_id, d.event_seq, e.id, d.state, d.attempts,
	d.next_attempt_at, d.last_error, d.created_at, d.updated_at`

func scanDelivery(row pgx.Row, extra ...any) (*store.Delivery, error) {
	var d store.Delivery
	dest := append([]any{&d.ID, &d.SubscriptionID, &d.ConnectionID, &d.EventSeq, &d.EventID, &d.State, &d.Attempts,
		&d.NextAttemptAt, &d.LastError, &d.CreatedAt, &d.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, mapErr(err)
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = d.NextAttemptAt.UTC(), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return &d, nil
}

// ClaimDeliveries leases due pending deliveries to owner. The candidate
// rows are locked FOR UPDATE SKIP LOCKED, so concurrent claimers on other
// replicas pass over each other's rows instead of waiting or sharing them.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, at time.Time, lease time.Duration, limit int, skipSubscriptions ...string) ([]*store.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `WITH c AS (
			UPDATE deliveries SET lease_owner = $1, lease_until = $3 WHERE id IN (
				SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $2 AND lease_until <= $2
				AND NOT (subscription_id = ANY($5::text[]))
				ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
			RETURNING *)
		SELECT `+deliveryCols+`, e.body, s.url, s.sealed_secret
		FROM c d JOIN events e ON e.connection_id = d.connection_id AND e.seq = d.event_seq
		JOIN subscriptions s ON s.id = d.subscription_id
		ORDER BY d.next_attempt_at, d.id`, owner, at, at.Add(lease), limit, nonNilStrings(skipSubscriptions))
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Delivery, error) {
		var body, secret []byte
		var url string
		d, err := scanDelivery(row, &body, &url, &secret)
		if err != nil {
			return nil, err
		}
		d.EventBody, d.URL, d.SealedSecret = body, url, secret
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// FinishDelivery records an attempt's outcome if owner still holds the lease.
func (s *Store) FinishDelivery(ctx context.Context, r store.DeliveryResult) error {
	switch r.State {
	case store.DeliveryDelivered, store.DeliveryPending, store.DeliveryFailed:
	default:
		return fmt.Errorf("finish delivery: invalid state %q", r.State)
	}
	t := now()
	next := r.NextAttemptAt
	if next.IsZero() {
		next = t
	}
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = $1, attempts = attempts + 1, next_attempt_at = $2,
		last_error = $3, lease_owner = '', lease_until = '-infinity', updated_at = $4
		WHERE id = $5 AND lease_owner = $6 AND state = 'pending'`,
		string(r.State), next, r.LastError, t, r.ID, r.Owner)
	if err == nil {
		err = expectRow(tag)
	}
	if err != nil {
		return fmt.Errorf("finish delivery %d: %w", r.ID, err)
	}
	return nil
}

// ListDeliveries returns a subscription's deliveries, newest first.
func (s *Store) ListDeliveries(ctx context.Context, subscriptionID string, limit int) ([]*store.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d
		JOIN events e ON e.connection_id = d.connection_id AND e.seq = d.event_seq
		WHERE d.subscription_id = $1 ORDER BY d.id DESC LIMIT $2`, subscriptionID, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Delivery, error) { return scanDelivery(row) })
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// RedeliverFailed makes a subscription's failed deliveries pending again.
func (s *Store) RedeliverFailed(ctx context.Context, subscriptionID string, at time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1,
		lease_owner = '', lease_until = '-infinity', updated_at = $2 WHERE subscription_id = $3 AND state = 'failed'`,
		at, now(), subscriptionID)
	if err != nil {
		return 0, fmt.Errorf("redeliver failed: %w", err)
	}
	return tag.RowsAffected(), nil
}

// ---- Cursors ----

// GetCursor returns a poll cursor's value, "" when never set.
func (s *Store) GetCursor(ctx context.Context, connectionID, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM event_cursors WHERE connection_id = $1 AND name = $2`, connectionID, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get cursor: %w", err)
	}
	return v, nil
}

// SetCursor stores a poll cursor's value; ErrNotFound for an unknown connection.
func (s *Store) SetCursor(ctx context.Context, connectionID, name, value string) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO event_cursors (connection_id, name, value, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (connection_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		connectionID, name, value, now()); err != nil {
		return fmt.Errorf("set cursor: %w", mapErr(err))
	}
	return nil
}

// ---- Event sources ----

const sourceCols = `connection_id, tenant_id, mode, token_hash, webhook_id, last_event_at, last_error, updated_at`

// withExtra scans a row that has, after the columns its caller scans,
// more columns into extra.
type withExtra struct {
	row   pgx.Row
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

func scanSource(row pgx.Row) (*store.EventSource, error) {
	var src store.EventSource
	var last *time.Time
	if err := row.Scan(&src.ConnectionID, &src.TenantID, &src.Mode, &src.TokenHash, &src.WebhookID, &last, &src.LastError, &src.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	src.TokenHash = nilIfEmpty(src.TokenHash)
	src.LastEventAt, src.UpdatedAt = fromTS(last), src.UpdatedAt.UTC()
	return &src, nil
}

// PutEventSource inserts or replaces the connection's event source.
func (s *Store) PutEventSource(ctx context.Context, src *store.EventSource) error {
	src.UpdatedAt = now()
	if _, err := s.pool.Exec(ctx, `INSERT INTO event_sources (`+sourceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (connection_id) DO UPDATE SET mode = excluded.mode, token_hash = excluded.token_hash,
		webhook_id = excluded.webhook_id, last_event_at = excluded.last_event_at, last_error = excluded.last_error,
		updated_at = excluded.updated_at`,
		src.ConnectionID, src.TenantID, string(src.Mode), blob(src.TokenHash), src.WebhookID, ts(src.LastEventAt), src.LastError,
		src.UpdatedAt); err != nil {
		return fmt.Errorf("put event source: %w", mapErr(err))
	}
	return nil
}

// GetEventSource returns the connection's event source, or ErrNotFound.
func (s *Store) GetEventSource(ctx context.Context, connectionID string) (*store.EventSource, error) {
	src, err := scanSource(s.pool.QueryRow(ctx, `SELECT `+sourceCols+` FROM event_sources WHERE connection_id = $1`, connectionID))
	if err != nil {
		return nil, fmt.Errorf("get event source: %w", err)
	}
	return src, nil
}

// GetEventSourceByToken returns the source whose token hashes to tokenHash.
func (s *Store) GetEventSourceByToken(ctx context.Context, tokenHash []byte) (*store.EventSource, error) {
	if len(tokenHash) == 0 {
		return nil, fmt.Errorf("get event source by token: %w", store.ErrNotFound)
	}
	var orgID, deskBaseURL string
	src, err := scanSource(withExtra{s.pool.QueryRow(ctx, `SELECT s.connection_id, s.tenant_id, s.mode, s.token_hash, s.webhook_id,
		s.last_event_at, s.last_error, s.updated_at, c.org_id, c.desk_base_url
		FROM event_sources s JOIN connections c ON c.id = s.connection_id WHERE s.token_hash = $1`, tokenHash), []any{&orgID, &deskBaseURL}})
	if err != nil {
		return nil, fmt.Errorf("get event source by token: %w", err)
	}
	src.OrgID, src.DeskBaseURL = orgID, deskBaseURL
	return src, nil
}

// TouchEventSource sets the source's last_event_at only.
func (s *Store) TouchEventSource(ctx context.Context, connectionID string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE event_sources SET last_event_at = $1 WHERE connection_id = $2`, ts(at), connectionID); err != nil {
		return fmt.Errorf("touch event source: %w", err)
	}
	return nil
}

// ListEventSources lists sources in a mode ("" for all).
func (s *Store) ListEventSources(ctx context.Context, mode store.EventSourceMode) ([]*store.EventSource, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sourceCols+` FROM event_sources WHERE $1 = '' OR mode = $1 ORDER BY connection_id`, string(mode))
	if err != nil {
		return nil, fmt.Errorf("list event sources: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.EventSource, error) { return scanSource(row) })
	if err != nil {
		return nil, fmt.Errorf("list event sources: %w", err)
	}
	return out, nil
}

// ---- Leases ----

// TryLease takes, takes over (expired) or renews (own) the named lease. A
// lease row, not a session advisory lock: the holder (a poller) runs for
// hours across many pooled connections, and a row with an expiry survives
// neither a crash nor a partition for longer than ttl.
func (s *Store) TryLease(ctx context.Context, name, owner string, at time.Time, ttl time.Duration) (bool, error) {
	var got string
	err := s.pool.QueryRow(ctx, `INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE leases.owner = excluded.owner OR leases.expires_at <= $4 RETURNING owner`,
		name, owner, at.Add(ttl), at).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("try lease %s: %w", name, err)
	}
	return got == owner, nil
}

// ReleaseLease gives up owner's lease.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND owner = $2`, name, owner); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
