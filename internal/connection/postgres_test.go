package connection_test

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/store/postgres"
	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
	"github.com/deskconn/deskconn/zohodesk"
)

// TestTwoManagersOnePostgresOneRefresh: two Managers (as two replicas) on
// two store handles of one Postgres database, 1,000 concurrent token
// requests between them on an expired token → exactly 1 token call.
func TestTwoManagersOnePostgresOneRefresh(t *testing.T) {
	dsn := pgtest.DSN(t, "deskconn_conn")
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	var managers []*connection.Manager
	for range 2 {
		st, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		m, err := connection.New(connection.Options{
			Store: st, Keyring: e.kr, BaseURL: testBase, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler),
			Regions: zohodesk.NewRegions(zohodesk.Region{Location: "us", AccountsURL: e.srv.URL, DeskAPIBase: e.srv.URL + "/api/v1"}),
		})
		if err != nil {
			t.Fatal(err)
		}
		managers = append(managers, m)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	tn, err := connection.EnsureTenant(t.Context(), managers[0].Store(), "pgtest-"+hex.EncodeToString(b))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := managers[0].Create(t.Context(), tn.ID, connection.CreateInput{Name: "shared", ClientID: testClientID, ClientSecret: testSecret}); err != nil {
		t.Fatal(err)
	}
	u, err := managers[0].AuthorizeURL(t.Context(), tn.ID, "shared", "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := managers[1].Callback(t.Context(), e.authorize(u)) // the callback lands on the other replica
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Hour)
	before := tokenEndpointCalls(e.emu)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := range 1000 {
		ts := managers[i%2].TokenSource(tn.ID, res.Connection.ID)
		wg.Go(func() {
			if _, err := ts.Token(t.Context()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := tokenEndpointCalls(e.emu) - before; got != 1 {
		t.Fatalf("token endpoint calls across two replicas = %d, want 1", got)
	}
	if err := managers[0].Delete(t.Context(), tn.ID, "shared"); err != nil {
		t.Fatal(err)
	}
}
