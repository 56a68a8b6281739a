package mcpserver

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
)

// TestReadOnlyKeyListsReadTools: an MCP session opened with a read-only
// API key lists only the read tools (as readonly=true would), instead of
// listing write tools it could never run.
func TestReadOnlyKeyListsReadTools(t *testing.T) {
	t.Parallel()
	env := newDeskEnv(t)
	conns := env.conns()
	conns.conns = append(conns.conns, &store.Connection{ID: "conn-2", TenantID: "tenant-1", Name: "other", Status: store.StatusActive})
	h := HTTPHandler(realRegistry(), conns, &HTTPOptions{Identity: testIdentity})
	mux := http.NewServeMux()
	// As restapi's middleware does: the key's scope is in the context.
	mux.Handle(HTTPPattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("as") {
		case "read-only-key":
			r = r.WithContext(restapi.WithScope(r.Context(), action.KeyScope{ReadOnly: true}))
		case "two-actions-key":
			r = r.WithContext(restapi.WithScope(r.Context(), action.KeyScope{Actions: []string{"list_tickets", "get_ticket", "list_tickets"}}))
		}
		h.ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	cs, err := httpSession(t, srv.URL+"/mcp/demo?as=read-only-key", "key-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantTools(Options{ReadOnly: true}), toolNames(t, cs)); diff != "" {
		t.Errorf("tools of a read-only key (-want +got):\n%s", diff)
	}
	// A key limited to named actions lists only those.
	named, err := httpSession(t, srv.URL+"/mcp/demo?as=two-actions-key", "key-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"get_ticket", "list_tickets"}, toolNames(t, named)); diff != "" {
		t.Errorf("tools of a key limited to two actions (-want +got):\n%s", diff)
	}
	full, err := httpSession(t, srv.URL+"/mcp/demo", "key-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantTools(Options{}), toolNames(t, full)); diff != "" {
		t.Errorf("tools of a full key (-want +got):\n%s", diff)
	}
}
