package connection

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/zohodesk"
)

// TestDefaultHTTPClientKeepsConnections: without Options.HTTPClient, calls
// to Zoho go through zohodesk's transport, which keeps a connection per
// concurrent call. Go's http.DefaultTransport keeps two per host: past the
// second concurrent call, each burst closed its connections and the next
// reconnected (in production a TLS handshake each; in the bench, 3,000
// sockets left in TIME_WAIT by one overhead run).
func TestDefaultHTTPClientKeepsConnections(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "deskconn.db"))
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
	m, err := New(Options{Store: st, Keyring: kr, BaseURL: "http://127.0.0.1:8080",
		Regions: zohodesk.NewRegions(zohodesk.Region{Location: "us", Name: "emulator", AccountsURL: "http://127.0.0.1:1", DeskAPIBase: "http://127.0.0.1:1/api/v1"})})
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := m.opts.HTTPClient.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("default transport is %T, want zohodesk.NewTransport's *http.Transport", m.opts.HTTPClient.Transport)
	}
	if want := zohodesk.NewTransport().MaxIdleConnsPerHost; tr.MaxIdleConnsPerHost != want {
		t.Errorf("default transport keeps %d idle connections per host, want %d (zohodesk.NewTransport)", tr.MaxIdleConnsPerHost, want)
	}
	if m.opts.HTTPClient.Timeout != refreshTimeout {
		t.Errorf("default client timeout %v, want %v", m.opts.HTTPClient.Timeout, refreshTimeout)
	}
}
