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
	m := newEnv(t, envOpts{}).m
	hc := m.HTTPClient()
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("default transport is %T, want zohodesk.NewTransport's *http.Transport", hc.Transport)
	}
	if want := zohodesk.NewTransport().MaxIdleConnsPerHost; tr.MaxIdleConnsPerHost != want {
		t.Errorf("default transport keeps %d idle connections per host, want %d (zohodesk.NewTransport)", tr.MaxIdleConnsPerHost, want)
	}
	// A Timeout on the Desk client would bound a whole exchange, body
	// included, cutting off slow attachments: the Desk client bounds each
	// attempt itself (zohodesk.Config.AttemptTimeout, StallTimeout).
	if hc.Timeout != 0 {
		t.Errorf("default Desk client timeout %v, want none", hc.Timeout)
	}
	oc := m.OAuthClient()
	if oc.Timeout != connection.RefreshTimeout {
		t.Errorf("default token-endpoint client timeout %v, want %v", oc.Timeout, connection.RefreshTimeout)
	}
	if oc.Transport != hc.Transport {
		t.Error("token-endpoint and Desk clients do not share a transport")
	}
}
