package sqlite

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// withCheckpoints makes the background checkpointer run at each value sent
// on tick instead of every checkpointEvery, and after every commits commits
// instead of checkpointAfter, and report each result.
func withCheckpoints(tick <-chan time.Time, commits int64, report func(checkpointResult)) Option {
	return func(s *Store) { s.ckptTick, s.ckptAfter, s.ckptReport = tick, commits, report }
}

// appendAudits appends n audit records of writes, each its own commit.
func appendAudits(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := range n {
		r := &store.AuditRecord{TenantID: "ten_1", ConnectionID: "conn_1", Action: "create_ticket", Outcome: "ok",
			Writes: []store.WriteMark{{Key: "ticket/" + strconv.Itoa(i)}}}
		if err := s.AppendAudit(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBackgroundCheckpoint(t *testing.T) {
	t.Parallel()
	tick := make(chan time.Time)
	results := make(chan checkpointResult)
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "deskconn.db"),
		withCheckpoints(tick, 1<<62, func(r checkpointResult) { results <- r }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkpoint := func() checkpointResult {
		t.Helper()
		tick <- time.Now()
		r := <-results
		if r.err != nil || r.busy {
			t.Fatalf("checkpoint = %+v", r)
		}
		return r
	}

	var pages int
	if err := s.db.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil || pages != backstopPages {
		t.Fatalf("wal_autocheckpoint = %d (%v), want the backstop %d", pages, err, backstopPages)
	}
	checkpoint() // what Open wrote

	appendAudits(t, s, 50)
	first := checkpoint()
	if first.log == 0 || first.checkpoints != first.log {
		t.Fatalf("after 50 writes: checkpoint = %+v, want every page of a non-empty log copied", first)
	}
	// Once copied, the log starts again from its beginning with the next
	// write instead of growing: the background keeps it short.
	appendAudits(t, s, 1)
	if r := checkpoint(); r.log == 0 || r.log >= first.log || r.checkpoints != r.log {
		t.Fatalf("after one more write: checkpoint = %+v, want a log restarted shorter than %d pages, all copied", r, first.log)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestCheckpointAfterCommits: commits, not only time, start a background
// checkpoint, and only every so many.
func TestCheckpointAfterCommits(t *testing.T) {
	t.Parallel()
	results := make(chan checkpointResult, 1)
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "deskconn.db"),
		withCheckpoints(make(chan time.Time), 10, func(r checkpointResult) { results <- r }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendAudits(t, s, 9)
	select {
	case r := <-results:
		t.Fatalf("a checkpoint after 9 commits (%+v), want one after 10", r)
	default:
	}
	if n := s.commits.Load(); n != 9 {
		t.Fatalf("commits counted = %d, want 9", n)
	}
	appendAudits(t, s, 1)
	r := <-results
	if r.err != nil || r.log == 0 || r.checkpoints != r.log {
		t.Fatalf("checkpoint after 10 commits = %+v, want every page of a non-empty log copied", r)
	}
}
