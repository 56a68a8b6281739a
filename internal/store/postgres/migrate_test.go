package postgres

import (
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
)

// TestLeaseMigrationKeepsOldRecordsSafe: records written before migration
// 0003 (no owner, heartbeat or dispatch time) come out of it as dispatched
// when pending or unknown — their request may have reached Zoho, so they
// are never run again blindly — and untouched otherwise.
func TestLeaseMigrationKeepsOldRecordsSafe(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t, "deskconn_test")
	s := openDSN(t, dsn)
	ctx := t.Context()
	keys := map[store.IdemState]store.IdemKey{}
	for _, st := range []store.IdemState{store.IdemPending, store.IdemUnknown, store.IdemSucceeded} {
		k := store.IdemKey{TenantID: "t", ConnectionID: "c", Action: "create_ticket", Key: string(st)}
		if _, _, err := s.BeginIdempotent(ctx, &store.IdemRecord{IdemKey: k, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishIdempotent(ctx, k, "", st, nil); err != nil {
			t.Fatal(err)
		}
		keys[st] = k
	}
	// Undo 0003 as if these rows were written before it.
	for _, q := range []string{
		`ALTER TABLE idempotency_records DROP COLUMN owner, DROP COLUMN heartbeat_at, DROP COLUMN dispatched_at`,
		`DELETE FROM schema_migrations WHERE version = '0003_idempotency_lease'`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s2 := openDSN(t, dsn) // migrates again
	for st, k := range keys {
		rec, err := s2.GetIdempotent(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		wantDispatched := st != store.IdemSucceeded
		if rec.DispatchedAt.IsZero() == wantDispatched || (wantDispatched && !rec.DispatchedAt.Equal(rec.CreatedAt)) {
			t.Errorf("%s record after the migration: dispatched %v (created %v); want dispatched at creation: %v", st, rec.DispatchedAt, rec.CreatedAt, wantDispatched)
		}
		if rec.Owner != "" || !rec.HeartbeatAt.IsZero() {
			t.Errorf("%s record after the migration: owner %q heartbeat %v; want none", st, rec.Owner, rec.HeartbeatAt)
		}
	}
}
