package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
)

// cliDemo is a demo deployment whose database and key the CLI opens.
type cliDemo struct {
	d      *demo.Demo
	dir    string
	secret string // DESKCONN_SECRET_KEY
}

func startCLIDemo(t *testing.T) *cliDemo {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	secret := base64.StdEncoding.EncodeToString(raw)
	kr, err := seal.ParseKeyring(secret)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d, err := demo.Start(t.Context(), demo.Options{DataDir: dir, Addr: "127.0.0.1:0", Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return &cliDemo{d: d, dir: dir, secret: secret}
}

// allowDestructive sets the demo connection's policy so the spec's
// destructive samples (which carry no "confirm": true) run as they are.
func (c *cliDemo) allowDestructive(t *testing.T) {
	t.Helper()
	conn, err := c.d.Store.GetConnectionByName(t.Context(), c.d.TenantID, c.d.Connection)
	if err != nil {
		t.Fatal(err)
	}
	conn.Policies = map[string]string{"move_tickets_to_trash": "allow", "deactivate_agent": "allow"}
	if err := c.d.Store.UpdateConnection(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
}

// run runs `deskconn --data-dir DIR --db DIR/demo.db ARGS...` in process.
func (c *cliDemo) run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	env := map[string]string{"DESKCONN_SECRET_KEY": c.secret, "DESKCONN_LOG_LEVEL": "error"}
	all := append([]string{"--data-dir", c.dir, "--db", filepath.Join(c.dir, "demo.db")}, args...)
	var out, errb bytes.Buffer
	code = Run(t.Context(), all, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestActionsCommand(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := Run(t.Context(), []string{"actions"}, nil, &out, &errb, func(string) string { return "" }); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if f := strings.Fields(lines[0]); !cmp.Equal(f, []string{"NAME", "KIND", "TITLE"}) {
		t.Errorf("header = %q", lines[0])
	}
	acts := catalogue()
	if len(lines) != len(acts)+1 {
		t.Fatalf("%d lines for %d actions:\n%s", len(lines), len(acts), out.String())
	}
	for i, a := range acts {
		f := strings.Fields(lines[i+1])
		if f[0] != a.Name() || f[1] != restapi.ActionKind(a) || !strings.HasSuffix(lines[i+1], a.Title()) {
			t.Errorf("line %q for %s", lines[i+1], a.Name())
		}
	}
	if !regexp.MustCompile(`(?m)^move_tickets_to_trash +destructive +Move tickets to trash$`).MatchString(out.String()) {
		t.Errorf("trash is not listed as destructive:\n%s", out.String())
	}

	out.Reset()
	if code := Run(t.Context(), []string{"actions", "--json"}, nil, &out, &errb, func(string) string { return "" }); code != 0 {
		t.Fatalf("--json exit %d: %s", code, errb.String())
	}
	var got restapi.ActionList
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var want restapi.ActionList
	for _, a := range acts {
		want.Actions = append(want.Actions, restapi.NewActionView(a))
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if !bytes.Equal(wb, gb) {
		t.Errorf("actions --json differs from the REST catalogue")
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	want := map[deskconn.Code]int{
		deskconn.CodeInvalid: 2, deskconn.CodeNotFound: 3, deskconn.CodeConflict: 4, deskconn.CodeAmbiguous: 4,
		deskconn.CodeUnauthenticated: 5, deskconn.CodeNeedsReauth: 5, deskconn.CodeForbidden: 5,
		deskconn.CodeRateLimited: 6, deskconn.CodeUnavailable: 6, deskconn.CodeInternal: 1,
		deskconn.CodeOutcomeUnknown: 7,
	}
	for _, c := range deskconn.Codes {
		if got := ExitCode(c); got != want[c] {
			t.Errorf("ExitCode(%s) = %d, want %d", c, got, want[c])
		}
	}
	if ExitCode("something_new") != 1 {
		t.Error("an unknown code must exit 1")
	}
}

type fixedResolver struct{ addr netip.Addr }

func (r fixedResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{r.addr}, nil
}

// loopbackFiles makes fileFetcher serve every URL from a loopback TLS
// server (resolving hosts to a public address so the SSRF guard passes),
// until the test ends. Tests that call it must not be parallel.
func loopbackFiles(t *testing.T) {
	t.Helper()
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 500)...)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(png)
	}))
	t.Cleanup(srv.Close)
	loop := srv.Listener.Addr().String()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	prev := fileFetcher
	fileFetcher = func(*slog.Logger) *egress.Fetcher {
		return egress.New(egress.Config{
			Resolver: fixedResolver{netip.MustParseAddr("93.184.215.14")},
			Dialer: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, loop)
			},
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "example.com"},
		})
	}
	t.Cleanup(func() { fileFetcher = prev })
}

// TestRunSpecSamples runs every spec sample, unchanged, with
// `deskconn run ACTION --input FILE` against the demo's database (the
// emulator behind the real connection), and checks the spec's promises.
// Not parallel: it swaps fileFetcher (its subtests are parallel).
func TestRunSpecSamples(t *testing.T) {
	loopbackFiles(t)
	dir := filepath.Join("..", "deskactions", "testdata", "spec")
	cases := []struct {
		file, action string
		promise      []string // top-level output members that must be set
		invalidAt    string   // a sample the spec spoils: the one field expected invalid
	}{
		{"create_ticket.json", "create_ticket", []string{"id", "ticketNumber", "webUrl", "createdTime", "ticket"}, ""},
		{"list_tickets.json", "list_tickets", []string{"data", "hasMore", "limit"}, ""},
		{"get_ticket.json", "get_ticket", []string{"id", "ticketNumber", "subject", "descriptionText", "ticket"}, ""},
		{"update_ticket.status.json", "update_ticket", []string{"ticket", "webUrl", "modifiedTime"}, ""},
		{"update_ticket.assignment.json", "update_ticket", []string{"ticket"}, ""},
		{"update_ticket.resolution.json", "update_ticket", []string{"ticket"}, ""},
		{"move_tickets_to_trash.json", "move_tickets_to_trash", []string{"success", "moved", "movedAt"}, ""},
		{"create_ticket_attachment.url.json", "create_ticket_attachment", []string{"id", "name", "size", "ticketId"}, ""},
		{"create_ticket_attachment.base64.json", "create_ticket_attachment", nil, "/fileData"},
		{"list_ticket_attachments.json", "list_ticket_attachments", []string{"data", "limit"}, ""},
		{"add_agent.json", "add_agent", nil, "/payload/emailId"},
		{"add_agent.deobfuscated.json", "add_agent", []string{"id", "emailId", "name", "status"}, ""},
		{"list_agents.json", "list_agents", []string{"data"}, ""},
		{"deactivate_agent.json", "deactivate_agent", []string{"deactivated", "id", "status", "deactivatedAt"}, ""},
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(cases) {
		t.Fatalf("%d spec samples but %d cases: add the new sample here", len(files), len(cases))
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			cd := startCLIDemo(t)
			cd.allowDestructive(t)
			code, stdout, stderr := cd.run(t, "", "run", c.action, "--tenant", "demo", "--input", filepath.Join(dir, c.file))
			if c.invalidAt != "" {
				if code != 2 || !strings.Contains(stderr, "invalid: ") || !strings.Contains(stderr, "\n  "+c.invalidAt+": ") || stdout != "" {
					t.Fatalf("spoiled sample: exit %d, stdout %q, stderr %q; want exit 2 naming %s", code, stdout, stderr, c.invalidAt)
				}
				return
			}
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %s", code, stderr)
			}
			var out map[string]any
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("stdout is not a JSON object: %v\n%s", err, stdout)
			}
			for _, k := range c.promise {
				if v, ok := out[k]; !ok || v == nil || v == "" || v == false {
					t.Errorf("output lacks %s: %s", k, stdout)
				}
			}
		})
	}
}

func TestRunCommand(t *testing.T) {
	t.Parallel()
	cd := startCLIDemo(t)
	ticket := `{"orgId":"2389290","ticketId":"1892000000042032"}`

	t.Run("stdin input and the only connection", func(t *testing.T) {
		code, stdout, stderr := cd.run(t, ticket, "run", "get_ticket", "--tenant", "demo", "--input", "-")
		if code != 0 || !strings.Contains(stdout, `"id": "1892000000042032"`) {
			t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
		}
	})
	t.Run("dry run sends nothing", func(t *testing.T) {
		in := `{"orgId":"2389290","ticketId":"1892000000042032","payload":{"priority":"Low"}}`
		code, stdout, stderr := cd.run(t, in, "run", "update_ticket", "--tenant", "demo", "--connection", "demo", "--input", "-", "--dry-run")
		var got map[string]any
		if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || got["dryRun"] != true {
			t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
		}
		code, stdout, _ = cd.run(t, ticket, "run", "get_ticket", "--tenant", "demo", "--input", "-")
		if code != 0 || strings.Contains(stdout, `"priority": "Low"`) {
			t.Errorf("the dry run changed the ticket: %s", stdout)
		}
	})
	t.Run("idempotency key replays", func(t *testing.T) {
		in, err := os.ReadFile(filepath.Join("..", "deskactions", "testdata", "spec", "create_ticket.json"))
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"run", "create_ticket", "--tenant", "demo", "--input", "-", "--idempotency-key", "cli-key-1"}
		code1, out1, err1 := cd.run(t, string(in), args...)
		code2, out2, err2 := cd.run(t, string(in), args...)
		if code1 != 0 || code2 != 0 || out1 != out2 {
			t.Fatalf("replay differs: %d %s %s / %d %s %s", code1, out1, err1, code2, out2, err2)
		}
		code, _, stderr := cd.run(t, strings.Replace(string(in), "Unable", "Cannot", 1), args...)
		if code != 4 || !strings.Contains(stderr, "conflict: ") {
			t.Errorf("same key, other input: exit %d %s", code, stderr)
		}
	})

	errorCases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string // substrings of stderr
	}{
		{"unknown action", "", []string{"run", "no_such_action", "--tenant", "demo"}, 3, []string{"not_found: ", "deskconn actions"}},
		{"no action", "", []string{"run", "--tenant", "demo"}, 2, []string{"invalid: "}},
		{"invalid input lists every field", `{"ticketId":"abc","bogus":1}`, []string{"run", "get_ticket", "--tenant", "demo", "--input", "-"}, 2,
			[]string{"invalid: ", "\n  /bogus: ", "(unknown)"}},
		{"malformed JSON", `{"ticketId":`, []string{"run", "get_ticket", "--tenant", "demo", "--input", "-"}, 2, []string{"invalid: ", "not valid JSON"}},
		{"missing input file", "", []string{"run", "get_ticket", "--tenant", "demo", "--input", "/nonexistent/in.json"}, 2, []string{"--input"}},
		{"dry run of a read", "{}", []string{"run", "list_agents", "--tenant", "demo", "--dry-run"}, 2, []string{"read action"}},
		{"unknown tenant", "", []string{"run", "list_agents", "--tenant", "nobody"}, 3, []string{`no tenant "nobody"`}},
		{"unknown connection", "", []string{"run", "list_agents", "--tenant", "demo", "--connection", "nope"}, 3, []string{`"nope"`}},
		{"destructive needs confirm", `{"orgId":"2389290","payload":{"ticketIds":["1892000000042032"]}}`, []string{"run", "move_tickets_to_trash", "--tenant", "demo", "--input", "-"}, 5,
			[]string{"forbidden: ", "confirm", "\n  /confirm: "}},
		{"not found at Zoho", `{"orgId":"2389290","ticketId":"1892000099999999"}`, []string{"run", "get_ticket", "--tenant", "demo", "--input", "-"}, 3, []string{"not_found: "}},
	}
	for _, c := range errorCases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := cd.run(t, c.stdin, c.args...)
			if code != c.code || stdout != "" {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q", code, c.code, stdout, stderr)
			}
			if !strings.HasPrefix(stderr, "deskconn: ") {
				t.Errorf("stderr = %q", stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, stderr)
				}
			}
		})
	}

	t.Run("several connections are ambiguous", func(t *testing.T) {
		c := &store.Connection{TenantID: cd.d.TenantID, Name: "second", ClientID: "1000.X", Status: store.StatusPending}
		if err := cd.d.Store.CreateConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := cd.run(t, "", "run", "list_agents", "--tenant", "demo")
		if code != 4 || !strings.Contains(stderr, "ambiguous: ") || !strings.Contains(stderr, "candidate "+c.ID+": second (pending)") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
}

// TestRunSpoolsLargeBase64: `deskconn run` reads a large base64 fileData
// as the REST API does (decoded to a temporary file as it streams in):
// the file is uploaded whole, with --dry-run as without, and bad base64 is
// still invalid on /fileData with its byte offset.
func TestRunSpoolsLargeBase64(t *testing.T) {
	t.Parallel()
	cd := startCLIDemo(t)
	data := bytes.Repeat([]byte("a large file, "), 20_000) // 280,000 bytes
	b64 := base64.StdEncoding.EncodeToString(data)
	input := func(extra, fileData string) string {
		return `{` + extra + `"orgId":"2389290","ticketId":"1892000000042032","fileName":"big.txt","fileData":"` + fileData + `"}`
	}
	code, stdout, stderr := cd.run(t, input("", b64), "run", "create_ticket_attachment", "--tenant", "demo", "--input", "-")
	if code != 0 || !strings.Contains(stdout, `"size": "280000"`) && !strings.Contains(stdout, `"size":"280000"`) {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	code, stdout, stderr = cd.run(t, input("", b64), "run", "create_ticket_attachment", "--tenant", "demo", "--input", "-", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "280000") || strings.Contains(stdout, "deskconn-spooled") {
		t.Errorf("dry run: exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	code, _, stderr = cd.run(t, input("", b64[:100000]+"!"+b64[100001:]), "run", "create_ticket_attachment", "--tenant", "demo", "--input", "-")
	if code != 2 || !strings.Contains(stderr, "/fileData") || !strings.Contains(stderr, "byte offset 100000") {
		t.Errorf("bad base64: exit %d, stderr %s", code, stderr)
	}
}
