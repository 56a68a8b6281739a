package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/postgres"
	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
	"github.com/deskconn/deskconn/internal/syncbuf"
)

// --db postgres://... carries the whole CLI flow (apikeys create,
// connections add, connect, show, run) into Postgres, and nothing into the
// data directory's SQLite file.
func TestPostgresCLIFlow(t *testing.T) {
	dsn := pgtest.DSN(t, "deskconn_cli")
	u := newUnsafeEnv(t)
	u.vars["DESKCONN_DB"] = dsn
	flags := []string{"--unsafe-zoho-region", u.region}

	r := u.run(t, append([]string{"apikeys", "create", "ci"}, flags...)...)
	if r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "dk_") {
		t.Fatalf("apikeys create: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := u.run(t, append([]string{"connections", "add", "c", "--client-id", hClientID}, flags...)...); r.code != 0 {
		t.Fatalf("connections add: %d %s", r.code, r.stderr)
	}
	conn := u.start(t.Context(), append([]string{"connections", "connect", "c", "--wait", "20s"}, flags...)...)
	authURL := conn.waitFor(t, regexp.MustCompile(`(http://127\.0\.0\.1:\d+/oauth/v2/auth\?\S+)`))[1]
	if code, body := get(t, authURL); code != http.StatusOK {
		t.Fatalf("following the authorize URL: %d %q", code, body)
	}
	if r := conn.wait(t, 30*time.Second); r.code != 0 {
		t.Fatalf("connections connect: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = u.run(t, append([]string{"connections", "show", "c", "--json"}, flags...)...)
	var shown struct{ Status, OrgID string }
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil || shown.Status != "active" {
		t.Fatalf("connections show: %d %q %q (%v)", r.code, r.stdout, r.stderr, err)
	}
	in := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(in, []byte(`{"ticketId":"1892000000042033"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := u.run(t, append([]string{"run", "get_ticket", "--input", in}, flags...)...); r.code != 0 {
		t.Fatalf("run get_ticket: %d %s", r.code, r.stderr)
	}

	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten, err := st.GetTenantByName(t.Context(), "default")
	if err != nil {
		t.Fatalf("the default tenant is not in Postgres: %v", err)
	}
	c, err := st.GetConnectionByName(t.Context(), ten.ID, "c")
	if err != nil || c.Status != store.StatusActive || len(c.SealedRefreshToken) == 0 {
		t.Fatalf("connection c in Postgres: %+v, %v", c, err)
	}
	if _, err := os.Stat(filepath.Join(u.dir, "deskconn.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a SQLite file was created next to a Postgres store: %v", err)
	}
}

// With a Postgres store the Desk clients share the deployment-wide limiter:
// slots held by one process (app) are missing in another; with SQLite it is
// the in-process one.
func TestPostgresDeskLimiterIsDeploymentWide(t *testing.T) {
	dsn := pgtest.DSN(t, "deskconn_cli")
	u := newUnsafeEnv(t)
	open := func(db string) *app {
		env := &Env{Stdout: &syncbuf.Buffer{}, Stderr: &syncbuf.Buffer{}, Getenv: func(k string) string { return u.vars[k] }, DataDir: u.dir, DB: db}
		a, err := openApp(t.Context(), env)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	a1, a2 := open(dsn), open(dsn)
	l1, ok := a1.deskLimiter().(*postgres.OrgLimiter)
	if !ok {
		t.Fatalf("desk limiter with a Postgres store is %T, want *postgres.OrgLimiter", a1.deskLimiter())
	}
	var releases []func()
	for range OrgConcurrency {
		rel, err := l1.Acquire(t.Context(), "org-1")
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, rel)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	_, err := a2.deskLimiter().Acquire(ctx, "org-1")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("another process acquired a slot while all %d were held: %v", OrgConcurrency, err)
	}
	releases[0]()
	ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
	rel, err := a2.deskLimiter().Acquire(ctx, "org-1")
	cancel()
	if err != nil {
		t.Fatalf("acquire after a slot came free: %v", err)
	}
	rel()
	for _, r := range releases[1:] {
		r()
	}

	sq := open(filepath.Join(t.TempDir(), "x.db"))
	if _, ok := sq.deskLimiter().(*postgres.OrgLimiter); ok || sq.orgLimiter != nil {
		t.Error("a SQLite store got the Postgres limiter")
	}
}
