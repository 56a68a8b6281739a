package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// prepared returns query prepared once for the store: database/sql keeps
// it prepared on each pooled connection, so the hottest reads (every
// webhook delivery looks up its token and connection) skip SQLite's parser,
// which is much of their cost.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// txStmt returns query prepared for use in tx, on tx's own connection:
// the pool's prepared statement when Open prepared it (txQueries), else a
// statement prepared for this transaction. It never prepares query for the
// pool, which would wait for another connection while tx holds the write
// lock — and every other connection may be waiting for that lock (a
// deadlock until busy_timeout, seen when a restarted server took a burst).
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)), nil
	}
	return tx.PrepareContext(ctx, query)
}

// Statements run inside write transactions, prepared for the pool by Open
// (see txStmt).
const (
	insertEventQuery = `INSERT INTO events (connection_id, seq, id, source_key, type, occurred_at, received_at, body)
		SELECT ?1, coalesce((SELECT last_seq FROM event_seqs WHERE connection_id = ?1), 0) + 1, ?2, ?3, ?4, ?5, ?6, ?7
		WHERE NOT EXISTS (SELECT 1 FROM events WHERE connection_id = ?1 AND source_key = ?3)
		RETURNING seq`
	bumpSeqQuery = `INSERT INTO event_seqs (connection_id, last_seq) VALUES (?, ?)
		ON CONFLICT (connection_id) DO UPDATE SET last_seq = excluded.last_seq`
	insertDeliveriesQuery = `INSERT INTO deliveries (subscription_id, connection_id, event_seq, state, attempts,
		next_attempt_at, lease_owner, lease_until, last_error, created_at, updated_at)
		SELECT id, connection_id, ?2, 'pending', 0, ?3, '', 0, '', ?4, ?4 FROM subscriptions
		WHERE connection_id = ?1 AND (types = '[]' OR EXISTS (SELECT 1 FROM json_each(subscriptions.types) WHERE value = ?5))`
	anySubscriptionQuery = `SELECT EXISTS (SELECT 1 FROM subscriptions WHERE connection_id = ?)`
	insertAuditQuery     = `INSERT INTO audit_log (time, tenant_id, api_key_id, connection_id, action,
		outcome, zoho_request_id, duration_ns, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	upsertWriteMarkQuery = `INSERT INTO write_marks (connection_id, key, action, api_key_id, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (connection_id, key) DO UPDATE SET action = excluded.action,
		api_key_id = excluded.api_key_id, created_at = excluded.created_at`
)

// txQueries are the statements Open prepares for the pool.
var txQueries = []string{insertEventQuery, bumpSeqQuery, insertDeliveriesQuery, anySubscriptionQuery, insertAuditQuery, upsertWriteMarkQuery}

// prepareTxQueries prepares txQueries for the pool, while nothing holds
// the write lock.
func (s *Store) prepareTxQueries(ctx context.Context) error {
	for _, q := range txQueries {
		if _, err := s.prepared(ctx, q); err != nil {
			return fmt.Errorf("prepare %.40s: %w", q, err)
		}
	}
	return nil
}

// ---- Event log ----

// AppendEvents stores the events not yet in the log; see store.EventStore.
// SQLite serialises writers (immediate transactions), so Seq order is
// commit order.
func (s *Store) AppendEvents(ctx context.Context, events []*store.Event) ([]*store.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	for _, e := range events {
		if e.ConnectionID == "" || e.SourceKey == "" || e.Type == "" {
			return nil, errors.New("append events: ConnectionID, SourceKey and Type are required")
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	defer tx.Rollback()
	// The statements are prepared once per pooled connection (prepared):
	// parsing them is much of an append's cost.
	insertEvent, err := s.txStmt(ctx, tx, insertEventQuery)
	if err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	defer insertEvent.Close()
	bumpSeq, err := s.txStmt(ctx, tx, bumpSeqQuery)
	if err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	defer bumpSeq.Close()
	insertDeliveries, err := s.txStmt(ctx, tx, insertDeliveriesQuery)
	if err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	defer insertDeliveries.Close()
	anySubscription, err := s.txStmt(ctx, tx, anySubscriptionQuery)
	if err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	defer anySubscription.Close()
	// Whether each connection has subscriptions, read once per transaction:
	// a connection read only by pulling skips the delivery insert.
	subscribed := map[string]bool{}
	var added []*store.Event
	for _, e := range events {
		if e.ID == "" {
			e.ID = store.NewID("evt")
		}
		if e.ReceivedAt.IsZero() {
			e.ReceivedAt = now()
		}
		e.ReceivedAt = e.ReceivedAt.UTC().Truncate(time.Microsecond)
		e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Microsecond)
		// Insert-if-absent with the next number. The write lock is held
		// (immediate transaction), so the number cannot be taken meanwhile.
		var seq int64
		err := insertEvent.QueryRowContext(ctx, e.ConnectionID, e.ID, e.SourceKey, e.Type, e.OccurredAt.UnixMicro(),
			e.ReceivedAt.UnixMicro(), e.Body).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			continue // already in the log
		}
		if err != nil {
			return nil, fmt.Errorf("append events: %w", mapErr(err))
		}
		if _, err := bumpSeq.ExecContext(ctx, e.ConnectionID, seq); err != nil {
			return nil, fmt.Errorf("append events: %w", mapErr(err))
		}
		subs, known := subscribed[e.ConnectionID]
		if !known {
			if err := anySubscription.QueryRowContext(ctx, e.ConnectionID).Scan(&subs); err != nil {
				return nil, fmt.Errorf("append events: %w", err)
			}
			subscribed[e.ConnectionID] = subs
		}
		e.Seq, e.Deliveries = seq, 0
		if subs {
			res, err := insertDeliveries.ExecContext(ctx, e.ConnectionID, seq, e.ReceivedAt.UnixMicro(), now().UnixMicro(), e.Type)
			if err != nil {
				return nil, fmt.Errorf("append events: create deliveries: %w", err)
			}
			nd, err := res.RowsAffected()
			if err != nil {
				return nil, fmt.Errorf("append events: create deliveries: %w", err)
			}
			e.Deliveries = int(nd)
		}
		added = append(added, e)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("append events: commit: %w", err)
	}
	return added, nil
}

// ListEvents returns the connection's events after f.After in Seq order.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]*store.Event, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := `SELECT connection_id, seq, id, source_key, type, occurred_at, received_at, body FROM events
		WHERE connection_id = ? AND seq > ?`
	args := []any{f.ConnectionID, f.After}
	if len(f.Types) > 0 {
		q += ` AND type IN (?` + strings.Repeat(`, ?`, len(f.Types)-1) + `)`
		for _, t := range f.Types {
			args = append(args, t)
		}
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []*store.Event
	for rows.Next() {
		var e store.Event
		var occurred, received int64
		if err := rows.Scan(&e.ConnectionID, &e.Seq, &e.ID, &e.SourceKey, &e.Type, &occurred, &received, &e.Body); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		e.OccurredAt, e.ReceivedAt = time.UnixMicro(occurred).UTC(), time.UnixMicro(received).UTC()
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// LastEventSeq returns the highest Seq assigned for the connection.
func (s *Store) LastEventSeq(ctx context.Context, connectionID string) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT last_seq FROM event_seqs WHERE connection_id = ?`, connectionID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("last event seq: %w", err)
	}
	return seq, nil
}

// PurgeEvents deletes events received before the cutoff and their deliveries.
func (s *Store) PurgeEvents(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM events WHERE received_at < ?`, before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("purge events: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM write_marks WHERE created_at < ?`, before.UnixMicro()); err != nil {
		return 0, fmt.Errorf("purge write marks: %w", err)
	}
	return rowsAffected(res)
}

// MatchWrites returns the connection's write marks with one of keys; see
// store.EventStore.
func (s *Store) MatchWrites(ctx context.Context, connectionID string, keys []string) (map[string]*store.WriteMark, error) {
	out := map[string]*store.WriteMark{}
	if len(keys) == 0 {
		return out, nil
	}
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("match writes: %w", err)
	}
	st, err := s.prepared(ctx, `SELECT key, action, api_key_id, created_at FROM write_marks
		WHERE connection_id = ? AND key IN (SELECT value FROM json_each(?))`)
	if err != nil {
		return nil, fmt.Errorf("match writes: %w", err)
	}
	rows, err := st.QueryContext(ctx, connectionID, string(list))
	if err != nil {
		return nil, fmt.Errorf("match writes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m := &store.WriteMark{ConnectionID: connectionID}
		var at int64
		if err := rows.Scan(&m.Key, &m.Action, &m.APIKeyID, &at); err != nil {
			return nil, fmt.Errorf("match writes: %w", err)
		}
		m.At = time.UnixMicro(at).UTC()
		out[m.Key] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("match writes: %w", err)
	}
	return out, nil
}

// ---- Subscriptions ----

const subCols = `id, tenant_id, connection_id, url, types, sealed_secret, created_at`

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func scanSubscription(sc scanner) (*store.Subscription, error) {
	var sub store.Subscription
	var types string
	var created int64
	if err := sc.Scan(&sub.ID, &sub.TenantID, &sub.ConnectionID, &sub.URL, &types, &sub.SealedSecret, &created); err != nil {
		return nil, mapErr(err)
	}
	if err := json.Unmarshal([]byte(types), &sub.Types); err != nil {
		return nil, fmt.Errorf("subscription %s types: %w", sub.ID, err)
	}
	sub.CreatedAt = time.UnixMicro(created).UTC()
	return &sub, nil
}

func querySubscriptions(ctx context.Context, q querier, where string, args ...any) ([]*store.Subscription, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+subCols+` FROM subscriptions `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
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
	types, err := json.Marshal(nonNilStrings(sub.Types))
	if err != nil {
		return fmt.Errorf("create subscription: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO subscriptions (`+subCols+`)
		SELECT ?, ?, id, ?, ?, ?, ? FROM connections WHERE tenant_id = ? AND id = ?`,
		sub.ID, sub.TenantID, sub.URL, string(types), sub.SealedSecret, sub.CreatedAt.UnixMicro(), sub.TenantID, sub.ConnectionID)
	if err == nil {
		err = expectRow(res)
	}
	if err != nil {
		return fmt.Errorf("create subscription: %w", mapErr(err))
	}
	return nil
}

// GetSubscription returns a tenant's subscription, or ErrNotFound.
func (s *Store) GetSubscription(ctx context.Context, tenantID, id string) (*store.Subscription, error) {
	sub, err := scanSubscription(s.db.QueryRowContext(ctx, `SELECT `+subCols+` FROM subscriptions WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("get subscription: %w", err)
	}
	return sub, nil
}

// ListSubscriptions lists a connection's subscriptions, oldest first.
func (s *Store) ListSubscriptions(ctx context.Context, tenantID, connectionID string) ([]*store.Subscription, error) {
	subs, err := querySubscriptions(ctx, s.db, `WHERE tenant_id = ? AND connection_id = ?`, tenantID, connectionID)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return subs, nil
}

// DeleteSubscription deletes a tenant's subscription and its deliveries.
func (s *Store) DeleteSubscription(ctx context.Context, tenantID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM subscriptions WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err == nil {
		err = expectRow(res)
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
	res, err := s.db.ExecContext(ctx, `UPDATE subscriptions SET sealed_secret = ? WHERE tenant_id = ? AND id = ?`, sealed, tenantID, id)
	if err == nil {
		err = expectRow(res)
	}
	if err != nil {
		return fmt.Errorf("set subscription secret: %w", err)
	}
	return nil
}

// ---- Deliveries ----

const deliveryCols = `d.id, d.subscription_id, d.connection_id, d.event_seq, e.id, d.state, d.attempts,
	d.next_attempt_at, d.last_error, d.created_at, d.updated_at`

func scanDelivery(sc scanner, extra ...any) (*store.Delivery, error) {
	var d store.Delivery
	var next, created, updated int64
	dest := append([]any{&d.ID, &d.SubscriptionID, &d.ConnectionID, &d.EventSeq, &d.EventID, &d.State, &d.Attempts,
		&next, &d.LastError, &created, &updated}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, mapErr(err)
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = time.UnixMicro(next).UTC(), time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return &d, nil
}

// ClaimDeliveries leases due pending deliveries to owner. SQLite has one
// writer at a time, so the select-then-update transaction cannot hand a
// delivery to two claimers.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, at time.Time, lease time.Duration, limit int, skipSubscriptions ...string) ([]*store.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	// A plain read first: the worker claims after every append, and most
	// appends create no delivery due now; the claim transaction takes
	// SQLite's one write lock, which appends are waiting for.
	var due bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?)`,
		at.UnixMicro()).Scan(&due); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if !due {
		return nil, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	defer tx.Rollback()
	skip := ""
	args := []any{at.UnixMicro(), at.UnixMicro()}
	if len(skipSubscriptions) > 0 {
		skip = ` AND d.subscription_id NOT IN (?` + strings.Repeat(`, ?`, len(skipSubscriptions)-1) + `)`
		for _, id := range skipSubscriptions {
			args = append(args, id)
		}
	}
	args = append(args, limit)
	rows, err := tx.QueryContext(ctx, `SELECT `+deliveryCols+`, e.body, s.url, s.sealed_secret
		FROM deliveries d JOIN events e ON e.connection_id = d.connection_id AND e.seq = d.event_seq
		JOIN subscriptions s ON s.id = d.subscription_id
		WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND d.lease_until <= ?`+skip+`
		ORDER BY d.next_attempt_at, d.id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	var out []*store.Delivery
	for rows.Next() {
		var d *store.Delivery
		var body, secret []byte
		var url string
		d, err = scanDelivery(rows, &body, &url, &secret)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		d.EventBody, d.URL, d.SealedSecret = body, url, secret
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	until := at.Add(lease).UnixMicro()
	for _, d := range out {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?`, owner, until, d.ID); err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim deliveries: commit: %w", err)
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
	res, err := s.db.ExecContext(ctx, `UPDATE deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?,
		last_error = ?, lease_owner = '', lease_until = 0, updated_at = ?
		WHERE id = ? AND lease_owner = ? AND state = 'pending'`,
		string(r.State), next.UnixMicro(), r.LastError, t.UnixMicro(), r.ID, r.Owner)
	if err == nil {
		err = expectRow(res)
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
	rows, err := s.db.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries d
		JOIN events e ON e.connection_id = d.connection_id AND e.seq = d.event_seq
		WHERE d.subscription_id = ? ORDER BY d.id DESC LIMIT ?`, subscriptionID, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []*store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// RedeliverFailed makes a subscription's failed deliveries pending again.
func (s *Store) RedeliverFailed(ctx context.Context, subscriptionID string, at time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?,
		lease_owner = '', lease_until = 0, updated_at = ? WHERE subscription_id = ? AND state = 'failed'`,
		at.UnixMicro(), now().UnixMicro(), subscriptionID)
	if err != nil {
		return 0, fmt.Errorf("redeliver failed: %w", err)
	}
	return rowsAffected(res)
}

// ---- Cursors ----

// GetCursor returns a poll cursor's value, "" when never set.
func (s *Store) GetCursor(ctx context.Context, connectionID, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM event_cursors WHERE connection_id = ? AND name = ?`, connectionID, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get cursor: %w", err)
	}
	return v, nil
}

// SetCursor stores a poll cursor's value; ErrNotFound for an unknown connection.
func (s *Store) SetCursor(ctx context.Context, connectionID, name, value string) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO event_cursors (connection_id, name, value, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (connection_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		connectionID, name, value, now().UnixMicro()); err != nil {
		return fmt.Errorf("set cursor: %w", mapErr(err))
	}
	return nil
}

// ---- Event sources ----

const sourceCols = `connection_id, tenant_id, mode, token_hash, webhook_id, last_event_at, last_error, updated_at`

func scanSource(sc scanner) (*store.EventSource, error) {
	var src store.EventSource
	var last sql.NullInt64
	var updated int64
	if err := sc.Scan(&src.ConnectionID, &src.TenantID, &src.Mode, &src.TokenHash, &src.WebhookID, &last, &src.LastError, &updated); err != nil {
		return nil, mapErr(err)
	}
	src.TokenHash = nilIfEmpty(src.TokenHash)
	src.LastEventAt, src.UpdatedAt = fromMicros(last), time.UnixMicro(updated).UTC()
	return &src, nil
}

// PutEventSource inserts or replaces the connection's event source.
func (s *Store) PutEventSource(ctx context.Context, src *store.EventSource) error {
	src.UpdatedAt = now()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO event_sources (`+sourceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection_id) DO UPDATE SET mode = excluded.mode, token_hash = excluded.token_hash,
		webhook_id = excluded.webhook_id, last_event_at = excluded.last_event_at, last_error = excluded.last_error,
		updated_at = excluded.updated_at`,
		src.ConnectionID, src.TenantID, string(src.Mode), blob(src.TokenHash), src.WebhookID, micros(src.LastEventAt), src.LastError,
		src.UpdatedAt.UnixMicro()); err != nil {
		return fmt.Errorf("put event source: %w", mapErr(err))
	}
	return nil
}

// GetEventSource returns the connection's event source, or ErrNotFound.
func (s *Store) GetEventSource(ctx context.Context, connectionID string) (*store.EventSource, error) {
	src, err := scanSource(s.db.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM event_sources WHERE connection_id = ?`, connectionID))
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
	q, err := s.prepared(ctx, `SELECT s.connection_id, s.tenant_id, s.mode, s.token_hash, s.webhook_id, s.last_event_at,
		s.last_error, s.updated_at, c.org_id, c.desk_base_url
		FROM event_sources s JOIN connections c ON c.id = s.connection_id WHERE s.token_hash = ?`)
	if err != nil {
		return nil, fmt.Errorf("get event source by token: %w", err)
	}
	var orgID, deskBaseURL string
	src, err := scanSource(withExtra{q.QueryRowContext(ctx, tokenHash), []any{&orgID, &deskBaseURL}})
	if err != nil {
		return nil, fmt.Errorf("get event source by token: %w", err)
	}
	src.OrgID, src.DeskBaseURL = orgID, deskBaseURL
	return src, nil
}

// withExtra scans a row that has, after the columns its caller scans,
// more columns into extra.
type withExtra struct {
	sc    scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.sc.Scan(append(dest, w.extra...)...) }

// TouchEventSource sets the source's last_event_at only.
func (s *Store) TouchEventSource(ctx context.Context, connectionID string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE event_sources SET last_event_at = ? WHERE connection_id = ?`, micros(at), connectionID); err != nil {
		return fmt.Errorf("touch event source: %w", err)
	}
	return nil
}

// ListEventSources lists sources in a mode ("" for all).
func (s *Store) ListEventSources(ctx context.Context, mode store.EventSourceMode) ([]*store.EventSource, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sourceCols+` FROM event_sources WHERE ? = '' OR mode = ? ORDER BY connection_id`,
		string(mode), string(mode))
	if err != nil {
		return nil, fmt.Errorf("list event sources: %w", err)
	}
	defer rows.Close()
	var out []*store.EventSource
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("list event sources: %w", err)
		}
		out = append(out, src)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list event sources: %w", err)
	}
	return out, nil
}

// ---- Leases ----

// TryLease takes, takes over (expired) or renews (own) the named lease.
func (s *Store) TryLease(ctx context.Context, name, owner string, at time.Time, ttl time.Duration) (bool, error) {
	var got string
	err := s.db.QueryRowContext(ctx, `INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE leases.owner = excluded.owner OR leases.expires_at <= ? RETURNING owner`,
		name, owner, at.Add(ttl).UnixMicro(), at.UnixMicro()).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("try lease %s: %w", name, err)
	}
	return got == owner, nil
}

// ReleaseLease gives up owner's lease.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}
