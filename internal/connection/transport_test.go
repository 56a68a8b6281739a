package connection_test

import (
	"net/http"
	"testing"

	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/zohodesk"
)

// TestDefaultHTTPClientKeepsConnections: without Options.HTTPClient, calls
// to Zoho go through zohodesk's transport, which keeps a connection per
// concurrent call. Go's http.DefaultTransport keeps two per host: past the
// second concurrent call, each burst closed its connections and the next
// reconnected (in production a TLS handshake each; in the bench, 3,000
// sockets left in TIME_WAIT by one overhead run).
func TestDefaultHTTPClientKeepsConnections(t *testing.T) {
	t.Parallel()
	hc := newEnv(t, envOpts{}).m.HTTPClient()
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("default transport is %T, want zohodesk.NewTransport's *http.Transport", hc.Transport)
	}
	if want := zohodesk.NewTransport().MaxIdleConnsPerHost; tr.MaxIdleConnsPerHost != want {
		t.Errorf("default transport keeps %d idle connections per host, want %d (zohodesk.NewTransport)", tr.MaxIdleConnsPerHost, want)
	}
	if hc.Timeout != connection.RefreshTimeout {
		t.Errorf("default client timeout %v, want %v", hc.Timeout, connection.RefreshTimeout)
	}
}
