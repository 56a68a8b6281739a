package cli

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/zohodesk"
)

// TestServerMetricsWiring checks what serve wires: /metrics on the server,
// and the action registries of the server hooks reporting to its metrics.
func TestServerMetricsWiring(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{env: &Env{}, log: slog.New(slog.DiscardHandler), store: st, keyring: kr, regions: zohodesk.DefaultRegions()}
	a.metrics = newServerMetrics(a)
	m, err := a.manager("http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := restapi.New(restapi.Options{Manager: m, APIKeys: apikey.New(st), BaseURL: "http://127.0.0.1:8080", Metrics: a.metrics})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Metrics() != a.metrics {
		t.Fatal("the server does not hand out its metrics")
	}
	// A registry built as the hooks build it reports to the server's metrics.
	reg := newActionRegistry(st, a.keyring, a.log, srv.ObserveAction)
	if _, err := reg.Invoke(t.Context(), action.Target{Tenant: "t"}, "get_ticket", json.RawMessage(`{"ticketId":"x"}`), action.InvokeOptions{}); err == nil {
		t.Fatal("get_ticket with a bad id succeeded")
	}
	if _, err := connection.EnsureTenant(t.Context(), st, "t"); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`deskconn_actions_total{action="get_ticket",outcome="invalid"} 1`,
		`deskconn_connections_needs_reauth 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
