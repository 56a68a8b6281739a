package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// TestLeaseMigrationKeepsOldRecordsSafe: records written before migration
// 0003 (no owner, heartbeat or dispatch time) come out of it as dispatched
// when pending or unknown — their request may have reached Zoho, so they
// are never run again blindly — and untouched otherwise.
func TestLeaseMigrationKeepsOldRecordsSafe(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	s := openAt(t, path)
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
		`ALTER TABLE idempotency_records DROP COLUMN owner`,
		`ALTER TABLE idempotency_records DROP COLUMN heartbeat_at`,
		`ALTER TABLE idempotency_records DROP COLUMN dispatched_at`,
		`DELETE FROM schema_migrations WHERE version = '0003_idempotency_lease'`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s2 := openAt(t, path) // migrates again
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

// TestWriteMarksMigrationKeepsMarks: marks written before migration 0014
// (a rowid table) come out of it in the WITHOUT ROWID table, found as
// before, and a later write of the same change still replaces its mark.
func TestWriteMarksMigrationKeepsMarks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	s := openAt(t, path)
	ctx := t.Context()
	// Undo 0014 as if the marks were written before it.
	for _, q := range []string{
		`DROP TABLE write_marks`,
		`CREATE TABLE write_marks (connection_id TEXT NOT NULL, key TEXT NOT NULL, action TEXT NOT NULL,
			api_key_id TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (connection_id, key))`,
		`CREATE INDEX write_marks_created ON write_marks(created_at)`,
		`DELETE FROM schema_migrations WHERE version = '0014_write_marks_without_rowid'`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, k := range []string{"ticket/1", "ticket/2"} {
		r := &store.AuditRecord{Time: at, TenantID: "t", ConnectionID: "c", APIKeyID: "key_1", Action: "create_ticket", Outcome: "ok",
			Writes: []store.WriteMark{{Key: k}}}
		if err := s.AppendAudit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	s2 := openAt(t, path) // migrates again
	var ddl string
	if err := s2.db.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'write_marks'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(ddl, "WITHOUT ROWID") {
		t.Errorf("write_marks after the migration: %s; want a WITHOUT ROWID table", ddl)
	}
	got, err := s2.MatchWrites(ctx, "c", []string{"ticket/1", "ticket/2", "ticket/3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["ticket/1"] == nil || got["ticket/2"] == nil ||
		got["ticket/1"].Action != "create_ticket" || got["ticket/1"].APIKeyID != "key_1" || !got["ticket/1"].At.Equal(at) {
		t.Fatalf("MatchWrites after the migration = %v, want ticket/1 and ticket/2 as written", got)
	}
	later := at.Add(time.Minute)
	if err := s2.AppendAudit(ctx, &store.AuditRecord{Time: later, TenantID: "t", ConnectionID: "c", APIKeyID: "key_2",
		Action: "update_ticket", Outcome: "ok", Writes: []store.WriteMark{{Key: "ticket/1"}}}); err != nil {
		t.Fatal(err)
	}
	got, err = s2.MatchWrites(ctx, "c", []string{"ticket/1"})
	if err != nil {
		t.Fatal(err)
	}
	if m := got["ticket/1"]; m == nil || m.Action != "update_ticket" || m.APIKeyID != "key_2" || !m.At.Equal(later) {
		t.Fatalf("mark after a later write = %+v, want update_ticket by key_2 at %v", m, later)
	}
}
