package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// ---- Call counts ----

// AddCallCounts adds counts to the stored rows; see store.UsageStore.
func (s *Store) AddCallCounts(ctx context.Context, counts []store.CallCount) error {
	if len(counts) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add call counts: %w", err)
	}
	defer tx.Rollback()
	for _, c := range counts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO call_counts (tenant_id, connection_id, minute, calls, errors) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, connection_id, minute) DO UPDATE SET calls = calls + excluded.calls, errors = errors + excluded.errors`,
			c.TenantID, c.ConnectionID, c.Minute.UTC().Truncate(time.Minute).UnixMicro(), c.Calls, c.Errors); err != nil {
			return fmt.Errorf("add call counts: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add call counts: commit: %w", err)
	}
	return nil
}

// SumCallCounts sums a connection's rows since a minute; see
// store.UsageStore.
func (s *Store) SumCallCounts(ctx context.Context, tenantID, connectionID string, since time.Time) (calls, errors int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(calls), 0), COALESCE(SUM(errors), 0) FROM call_counts
		WHERE tenant_id = ? AND connection_id = ? AND minute >= ?`, tenantID, connectionID, since.UnixMicro()).Scan(&calls, &errors)
	if err != nil {
		return 0, 0, fmt.Errorf("sum call counts: %w", err)
	}
	return calls, errors, nil
}

// PurgeCallCounts deletes rows of minutes before before.
func (s *Store) PurgeCallCounts(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM call_counts WHERE minute < ?`, before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("purge call counts: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge call counts: %w", err)
	}
	return n, nil
}
