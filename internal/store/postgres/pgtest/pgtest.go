// Package pgtest gives tests a private Postgres schema.
//
// Tests that need Postgres call DSN; it skips the test only when
// DESKCONN_TEST_POSTGRES_DSN is unset (scripts/env and CI set it), so in CI
// every Postgres test runs.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable that points tests at a Postgres server.
const EnvDSN = "DESKCONN_TEST_POSTGRES_DSN"

// DSN returns the server's DSN with search_path set to a fresh schema named
// prefix_<random>, dropped when the test ends, so parallel tests and
// packages never share tables. It skips tb when EnvDSN is unset.
func DSN(tb testing.TB, prefix string) string {
	tb.Helper()
	base := os.Getenv(EnvDSN)
	if base == "" {
		tb.Skip(EnvDSN + " is not set")
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s must be a URL: %v", EnvDSN, err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := prefix + "_" + hex.EncodeToString(b)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", EnvDSN, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("drop schema: %v", err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
