package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/storetest"
)

func openAt(t *testing.T, path string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, opts...)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return s
}

func TestAcceptance(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	storetest.Run(t, func(t *testing.T) store.Store { return openAt(t, path) })
}

func TestOpenConcurrentMigrations(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	var wg sync.WaitGroup
	stores := make([]*Store, 6)
	for i := range stores {
		wg.Go(func() {
			s, err := Open(t.Context(), path)
			if err != nil {
				t.Errorf("concurrent Open = %v", err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			s.Close()
		}
	}
	s := openAt(t, path) // re-open is idempotent
	var n int
	if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	names, _ := migrations.ReadDir("migrations")
	if n != len(names) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(names))
	}
	var mode string
	if err := s.db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", ":memory:", "x.db?mode=memory"} {
		if s, err := Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", p)
		}
	}
}

// A crashed process leaves its lease row behind; the lock becomes free
// when the lease expires.
func TestRefreshLockStaleLeaseExpires(t *testing.T) {
	t.Parallel()
	s := openAt(t, filepath.Join(t.TempDir(), "deskconn.db"), WithLockLease(300*time.Millisecond))
	ctx := t.Context()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO refresh_locks (connection_id, owner, expires_at) VALUES (?, ?, ?)`,
		"conn_dead", "lease_crashed", time.Now().Add(300*time.Millisecond).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ran := false
	if err := s.WithRefreshLock(ctx, "conn_dead", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("WithRefreshLock over a stale lease = %v (ran %v)", err, ran)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond || waited > 5*time.Second {
		t.Errorf("waited %v for a stale lease of 300ms", waited)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM refresh_locks WHERE connection_id = 'conn_dead'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("lease rows after release = %d, %v; want 0", n, err)
	}
}

// A holder running longer than the lease keeps it by renewing; one that
// loses its row sees its context cancelled with ErrLeaseLost.
func TestRefreshLockLeaseRenewal(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	lease := WithLockLease(150 * time.Millisecond)
	s1, s2 := openAt(t, path, lease), openAt(t, path, lease)
	ctx := t.Context()
	err := s1.WithRefreshLock(ctx, "conn_long", func(ctx context.Context) error {
		// Another process tries during three lease lengths and must fail.
		wctx, cancel := context.WithTimeout(ctx, 450*time.Millisecond)
		defer cancel()
		err := s2.WithRefreshLock(wctx, "conn_long", func(context.Context) error { return errors.New("overlap") })
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("second process during a renewed lease = %v, want DeadlineExceeded", err)
		}
		return ctx.Err()
	})
	if err != nil {
		t.Fatalf("WithRefreshLock = %v", err)
	}

	err = s1.WithRefreshLock(ctx, "conn_lost", func(fctx context.Context) error {
		if _, err := s1.db.ExecContext(ctx, `DELETE FROM refresh_locks WHERE connection_id = 'conn_lost'`); err != nil {
			return err
		}
		select {
		case <-fctx.Done():
			if cause := context.Cause(fctx); !errors.Is(cause, ErrLeaseLost) {
				t.Errorf("fn ctx cause = %v, want ErrLeaseLost", cause)
			}
			return context.Cause(fctx)
		case <-time.After(5 * time.Second):
			return errors.New("fn ctx not cancelled after the lease was lost")
		}
	})
	if !errors.Is(err, ErrLeaseLost) {
		t.Errorf("WithRefreshLock after losing the lease = %v, want ErrLeaseLost", err)
	}
}

// The canary: sealed secrets and hashed API keys never appear in the clear
// in the database file or its WAL.
func TestNoPlaintextAtRest(t *testing.T) {
	t.Parallel()
	s := openAt(t, filepath.Join(t.TempDir(), "deskconn.db"))
	ctx := t.Context()
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	const (
		clientSecret = "CANARY-client-secret-5f1c"
		refresh      = "1000.CANARY-refresh-token-9a7e"
		access       = "1000.CANARY-access-token-33d0"
		apiKey       = "dk_CANARY_api_key_0b6a1f"
	)
	tn := &store.Tenant{Name: "acme"}
	if err := s.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	c := &store.Connection{ID: store.NewID("conn"), TenantID: tn.ID, Name: "support", Status: store.StatusActive}
	sealAs := func(col, v string) []byte {
		b, err := kr.Seal([]byte(v), seal.AAD{Table: "connections", RowID: c.ID, Column: col})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c.SealedClientSecret = sealAs("client_secret", clientSecret)
	c.SealedRefreshToken = sealAs("refresh_token", refresh)
	c.SealedAccessToken = sealAs("access_token", access)
	if err := s.CreateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	sum := storetestHash(apiKey)
	if err := s.CreateAPIKey(ctx, &store.APIKey{TenantID: tn.ID, Name: "ci", Hash: sum, Prefix: apiKey[:6]}); err != nil {
		t.Fatal(err)
	}
	dump, err := s.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	storetest.AssertNoPlaintext(t, dump, clientSecret, refresh, access, apiKey)

	// The helper does catch a plaintext value written to the file.
	c.LastError = "leaked " + refresh
	if err := s.UpdateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	dump, err = s.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &failRecorder{TB: t}
	storetest.AssertNoPlaintext(r, dump, refresh)
	if !r.failed {
		t.Error("AssertNoPlaintext missed a refresh token written in the clear")
	}
}

// Deleting a connection leaves none of its sealed bytes in the file or WAL.
func TestDeleteConnectionErasesSecrets(t *testing.T) {
	t.Parallel()
	s := openAt(t, filepath.Join(t.TempDir(), "deskconn.db"))
	ctx := t.Context()
	tn := &store.Tenant{Name: "acme"}
	if err := s.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	const marker = "SEALED-BYTES-MARKER-7d41c9"
	c := &store.Connection{TenantID: tn.ID, Name: "support", SealedRefreshToken: []byte(marker), Status: store.StatusActive}
	if err := s.CreateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	dump, err := s.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &failRecorder{TB: t}
	storetest.AssertNoPlaintext(r, dump, marker)
	if !r.failed {
		t.Fatal("the marker is not in the dump before deletion; the test proves nothing")
	}
	if err := s.DeleteConnection(ctx, tn.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	dump, err = s.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	storetest.AssertNoPlaintext(t, dump, marker)
}

// TestFileModes checks that the database and its -wal and -shm files are
// 0600 after writes, for a new database and for one whose main file an
// older version left 0644.
func TestFileModes(t *testing.T) {
	t.Parallel()
	for _, existing := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "deskconn.db")
		if existing {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s := openAt(t, path)
		if err := s.CreateTenant(t.Context(), &store.Tenant{Name: "modes"}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("existing=%v: %v", existing, err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("existing=%v: %s mode = %v; want 0600", existing, filepath.Base(p), fi.Mode().Perm())
			}
		}
	}
}
