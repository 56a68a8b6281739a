package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"modernc.org/sqlite"
)

// Checkpoints: SQLite copies the write-ahead log back into the database
// file (a checkpoint, with an fsync of both files) whenever a commit leaves
// the log at wal_autocheckpoint pages, in the committing call. With the
// default of 1,000 pages, one audited write in about 140 paid for it: a
// single writer's p99.9 was 3.5–3.8 ms, and is 1.2–1.4 ms with the
// checkpoints here (10,000 audit records in a row, as BenchmarkAppendAudit
// appends them; docs/benchmarks.md, eighth pass). So a goroutine of the
// Store checkpoints where no caller waits: after every checkpointAfter
// commits, and every checkpointEvery for what a few commits leave. The
// in-line checkpoint stays only as a backstop, for a log that grows faster
// than that (a purge of many rows in one transaction).
const (
	// checkpointAfter is how many commits (of this process) start a
	// background checkpoint: about SQLite's default of 1,000 pages for the
	// audit record of a write (six pages since migration 0014).
	checkpointAfter = 128
	// checkpointEvery is how often the background checkpoint also runs.
	// One with nothing to copy reads the log's index and returns.
	checkpointEvery = time.Second
	// backstopPages is the wal_autocheckpoint of every connection: the log
	// size (in pages of 4 KiB) at which a commit checkpoints in line.
	backstopPages = 10000
)

// checkpointResult is what one background checkpoint reported (PRAGMA
// wal_checkpoint): whether it could not finish because another process was
// checkpointing, the pages in the log and the pages copied so far.
type checkpointResult struct {
	busy             bool
	log, checkpoints int
	err              error
}

// committed counts a commit on one of the Store's connections (SQLite's
// commit hook, run inside the commit) and, every checkpointAfter, asks the
// checkpointer for a checkpoint without waiting for it.
func (s *Store) committed() {
	if s.commits.Add(1) >= s.ckptAfter {
		select {
		case s.ckptNow <- struct{}{}:
		default: // one is asked for already
		}
	}
}

// checkpointer runs a passive checkpoint when asked (committed) and at each
// of s.ckptTick, until s.stopCkpt is closed; then it closes s.ckptDone. A
// passive checkpoint takes no lock that readers or writers wait for; what
// it cannot copy (frames a reader still needs) a later one copies. A failed
// checkpoint is left to the next one and, meanwhile, to the in-line
// backstop. s.ckptReport, when set (tests), gets each result.
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	for {
		select {
		case <-s.stopCkpt:
			return
		case <-s.ckptTick:
		case <-s.ckptNow:
		}
		s.commits.Store(0)
		r := s.checkpoint(context.Background())
		if s.ckptReport != nil {
			s.ckptReport(r)
		}
	}
}

// checkpoint runs one passive checkpoint of the write-ahead log.
func (s *Store) checkpoint(ctx context.Context) checkpointResult {
	var r checkpointResult
	var busy int
	r.err = s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &r.log, &r.checkpoints)
	r.busy = busy != 0
	return r
}

// commitCounter opens the driver's connections with onCommit as their
// commit hook. It returns the driver's connections themselves, so that
// database/sql sees every interface they implement.
type commitCounter struct {
	driver.Connector
	onCommit func()
}

// commitHooker is what modernc.org/sqlite's connections implement to
// register a commit hook.
type commitHooker interface {
	RegisterCommitHook(sqlite.CommitHookFn)
}

func (c commitCounter) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	h, ok := conn.(commitHooker)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("sqlite: the driver's connection (%T) cannot take a commit hook", conn)
	}
	h.RegisterCommitHook(func() int32 {
		c.onCommit()
		return 0 // go on with the commit
	})
	return conn, nil
}
