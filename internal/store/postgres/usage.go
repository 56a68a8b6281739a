package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deskconn/deskconn/internal/store"
)

// ---- Call counts ----

// AddCallCounts adds counts to the stored rows; see store.UsageStore.
// Rows are written in key order, so that two replicas flushing the same
// minutes lock them in the same order and cannot deadlock.
func (s *Store) AddCallCounts(ctx context.Context, counts []store.CallCount) error {
	if len(counts) == 0 {
		return nil
	}
	sorted := store.SortCallCounts(counts)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, c := range sorted {
			if _, err := tx.Exec(ctx, `INSERT INTO call_counts (tenant_id, connection_id, minute, calls, errors) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (tenant_id, connection_id, minute) DO UPDATE SET calls = call_counts.calls + excluded.calls, errors = call_counts.errors + excluded.errors`,
				c.TenantID, c.ConnectionID, c.Minute.UTC().Truncate(time.Minute), c.Calls, c.Errors); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add call counts: %w", err)
	}
	return nil
}

// SumCallCounts sums a connection's rows since a minute; see
// store.UsageStore.
func (s *Store) SumCallCounts(ctx context.Context, tenantID, connectionID string, since time.Time) (calls, errors int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT COALESCE(SUM(calls), 0)::bigint, COALESCE(SUM(errors), 0)::bigint FROM call_counts
		WHERE tenant_id = $1 AND connection_id = $2 AND minute >= $3`, tenantID, connectionID, since).Scan(&calls, &errors)
	if err != nil {
		return 0, 0, fmt.Errorf("sum call counts: %w", err)
	}
	return calls, errors, nil
}

// PurgeCallCounts deletes rows of minutes before before.
func (s *Store) PurgeCallCounts(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM call_counts WHERE minute < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("purge call counts: %w", err)
	}
	return tag.RowsAffected(), nil
}
