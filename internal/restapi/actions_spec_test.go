package restapi_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/filedata"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
)

// specDir holds the connector spec's sample inputs, copied verbatim.
var specDir = filepath.Join("..", "deskactions", "testdata", "spec")

// specCase is one spec sample and what the spec promises for it. A sample
// the spec itself spoils (an address hidden by the page it was copied from,
// base64 cut short with "...") must fail as invalid on exactly that field,
// before anything is written.
type specCase struct {
	file, action string
	promise      []string // JSON paths ("ticket.subject") that must be non-empty
	invalidAt    string   // for a spoiled sample: the one field pointer expected
}

var specCases = []specCase{
	{file: "create_ticket.json", action: "create_ticket", promise: []string{"id", "ticketNumber", "webUrl", "createdTime", "ticket.subject"}},
	{file: "list_tickets.json", action: "list_tickets", promise: []string{"data.0.id", "data.0.ticketNumber", "data.0.status", "hasMore", "limit"}},
	{file: "get_ticket.json", action: "get_ticket", promise: []string{"id", "ticketNumber", "subject", "ticket.contact", "ticket.assignee", "ticket.department", "descriptionText"}},
	{file: "update_ticket.status.json", action: "update_ticket", promise: []string{"ticket.status", "webUrl", "modifiedTime"}},
	{file: "update_ticket.assignment.json", action: "update_ticket", promise: []string{"ticket.assigneeId", "ticket.priority"}},
	{file: "update_ticket.resolution.json", action: "update_ticket", promise: []string{"ticket.status", "ticket.resolution"}},
	{file: "move_tickets_to_trash.json", action: "move_tickets_to_trash", promise: []string{"success", "moved.2", "movedAt"}},
	{file: "create_ticket_attachment.url.json", action: "create_ticket_attachment", promise: []string{"id", "name", "size", "ticketId"}},
	{file: "create_ticket_attachment.base64.json", action: "create_ticket_attachment", invalidAt: "/fileData"},
	{file: "list_ticket_attachments.json", action: "list_ticket_attachments", promise: []string{"data", "limit"}},
	{file: "add_agent.json", action: "add_agent", invalidAt: "/payload/emailId"},
	{file: "add_agent.deobfuscated.json", action: "add_agent", promise: []string{"id", "emailId", "name", "status", "associatedDepartmentIds.1"}},
	{file: "list_agents.json", action: "list_agents", promise: []string{"data.0.id", "data.0.emailId", "data.0.status"}},
	{file: "deactivate_agent.json", action: "deactivate_agent", promise: []string{"deactivated", "id", "status", "deactivatedAt"}},
}

// TestSpecCasesCoverTestdata fails when a sample is added without a case.
func TestSpecCasesCoverTestdata(t *testing.T) {
	t.Parallel()
	files, err := os.ReadDir(specDir)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, c := range specCases {
		have[c.file] = true
	}
	for _, f := range files {
		if !have[f.Name()] {
			t.Errorf("spec sample %s has no case in specCases", f.Name())
		}
	}
	if len(files) != len(specCases) {
		t.Errorf("%d samples, %d cases", len(files), len(specCases))
	}
}

// lookupPath walks a dotted path of object keys and array indexes and
// reports whether it ends on a non-empty value.
func lookupPath(v any, path string) bool {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return false
			}
			v = x[i]
		default:
			return false
		}
	}
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case bool:
		return x
	}
	return true
}

// checkSpecOutput checks a successful output against the case's promises.
func checkSpecOutput(t *testing.T, c specCase, out []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	for _, p := range c.promise {
		if !lookupPath(v, p) {
			t.Errorf("output lacks %s: %s", p, out)
		}
	}
}

type fixedResolver struct{ addr netip.Addr }

func (r fixedResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{r.addr}, nil
}

// specFiles serves the spec's example.com file URL from a loopback TLS
// server: the fetcher resolves every host to a public address (so the SSRF
// guard passes it) and then dials the loopback server instead.
func specFiles(t *testing.T) filedata.Options {
	t.Helper()
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 500)...)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(png)
	}))
	t.Cleanup(srv.Close)
	loop := srv.Listener.Addr().String()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	f := egress.New(egress.Config{
		Resolver: fixedResolver{netip.MustParseAddr("93.184.215.14")},
		Dialer: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, loop)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "example.com"},
	})
	return filedata.Options{Fetcher: f}
}

// startSpecDemo starts the demo with the real actions mounted and the
// destructive ones allowed on the demo connection (the spec's samples do
// not carry "confirm": true; allowing them is the connection's policy).
func startSpecDemo(t *testing.T) *demo.Demo {
	t.Helper()
	files := specFiles(t)
	d, err := demo.Start(t.Context(), demo.Options{
		DataDir: t.TempDir(), Addr: "127.0.0.1:0",
		Mount: func(s *restapi.Server, _ *connection.Manager, st store.Store) error {
			reg := action.NewRegistry(action.Options{Idempotency: st, Audit: st})
			reg.Add(deskactions.All(deskactions.Deps{Files: files})...)
			return s.MountActions(restapi.ActionsOptions{Registry: reg})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	c, err := d.Store.GetConnectionByName(t.Context(), d.TenantID, d.Connection)
	if err != nil {
		t.Fatal(err)
	}
	c.Policies = map[string]string{"move_tickets_to_trash": "allow", "deactivate_agent": "allow"}
	if err := d.Store.UpdateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestSpecSamplesOverREST posts every spec sample, byte for byte, to
// POST /v1/connections/demo/actions/{action} of a demo server (the
// emulator behind the real connection) and checks the spec's promises.
func TestSpecSamplesOverREST(t *testing.T) {
	t.Parallel()
	for _, c := range specCases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			d := startSpecDemo(t)
			body, err := os.ReadFile(filepath.Join(specDir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			r := postAction(t, d, c.action, string(body))
			if c.invalidAt != "" {
				p := r.problem(t)
				if r.status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Pointer != c.invalidAt {
					t.Fatalf("spoiled sample: %d %s, want 422 on %s", r.status, r.body, c.invalidAt)
				}
				return
			}
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s", r.status, r.body)
			}
			checkSpecOutput(t, c, r.body)
		})
	}
}
