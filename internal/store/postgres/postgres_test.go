package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
	"github.com/deskconn/deskconn/internal/store/storetest"
)

func openDSN(t *testing.T, dsn string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, opts...)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAcceptance(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t, "deskconn_test")
	storetest.Run(t, func(t *testing.T) store.Store { return openDSN(t, dsn) })
}

func TestOpenConcurrentMigrations(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t, "deskconn_test")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(t.Context(), dsn)
			if err != nil {
				t.Errorf("concurrent Open = %v", err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	s := openDSN(t, dsn)
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	names, _ := migrations.ReadDir("migrations")
	if n != len(names) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(names))
	}
}

func TestOpenHidesDSN(t *testing.T) {
	t.Parallel()
	const dsn = "postgres://u:CANARY-password@127.0.0.1:5432/x?sslmode=bogus"
	_, err := Open(t.Context(), dsn)
	if err == nil {
		t.Fatal("Open(bad DSN) succeeded")
	}
	if got := err.Error(); len(got) == 0 || strings.Contains(got, "CANARY-password") {
		t.Errorf("Open error %q reveals the password", got)
	}
}

// When the lock's session is killed, Postgres drops the lock; fn learns of
// it through its context.
func TestRefreshLockSessionLost(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t, "deskconn_test")
	s := openDSN(t, dsn, WithLockWatch(50*time.Millisecond))
	ctx := t.Context()
	err := s.WithRefreshLock(ctx, "conn_kill", func(fctx context.Context) error {
		// Terminate exactly the backend holding this lock key.
		tag, err := s.pool.Exec(ctx, `SELECT pg_terminate_backend(l.pid) FROM pg_locks l,
			(SELECT `+refreshKey+` AS k) key
			WHERE l.locktype = 'advisory' AND l.granted
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid::bigint = (key.k >> 32) & 4294967295 AND l.objid::bigint = key.k & 4294967295`, "conn_kill")
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return errors.New("did not find the lock's backend")
		}
		select {
		case <-fctx.Done():
			return context.Cause(fctx)
		case <-time.After(5 * time.Second):
			return errors.New("fn ctx not cancelled after the session died")
		}
	})
	if !errors.Is(err, ErrLockLost) {
		t.Fatalf("WithRefreshLock after its session died = %v, want ErrLockLost", err)
	}
	// The lock is free again.
	ran := false
	if err := s.WithRefreshLock(ctx, "conn_kill", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("WithRefreshLock afterwards = %v (ran %v)", err, ran)
	}
}

// The canary: sealed secrets and hashed API keys never appear in the clear
// in any table.
func TestNoPlaintextAtRest(t *testing.T) {
	t.Parallel()
	s := openDSN(t, pgtest.DSN(t, "deskconn_test"))
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
		apiKey       = "dk_CANARY_api_key_0b6a1f"
	)
	tn := &store.Tenant{Name: "acme"}
	if err := s.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	c := &store.Connection{ID: store.NewID("conn"), TenantID: tn.ID, Name: "support", Status: store.StatusActive}
	for col, v := range map[string]string{"client_secret": clientSecret, "refresh_token": refresh} {
		b, err := kr.Seal([]byte(v), seal.AAD{Table: "connections", RowID: c.ID, Column: col})
		if err != nil {
			t.Fatal(err)
		}
		if col == "client_secret" {
			c.SealedClientSecret = b
		} else {
			c.SealedRefreshToken = b
		}
	}
	if err := s.CreateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(apiKey))
	if err := s.CreateAPIKey(ctx, &store.APIKey{TenantID: tn.ID, Name: "ci", Hash: sum[:], Prefix: "dk_CAN"}); err != nil {
		t.Fatal(err)
	}
	dump, err := s.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	storetest.AssertNoPlaintext(t, dump, clientSecret, refresh, apiKey)

	// A secret stored in the clear (here as bytea, printed as hex) is caught.
	c.OrgChoices = []byte(refresh)
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
		t.Error("AssertNoPlaintext missed a refresh token stored as bytea")
	}
}

type failRecorder struct {
	testing.TB
	failed bool
}

func (r *failRecorder) Helper()               {}
func (r *failRecorder) Errorf(string, ...any) { r.failed = true }
