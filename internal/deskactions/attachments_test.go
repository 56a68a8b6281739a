package deskactions

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/filedata"
)

// fakeResolver answers every name with one public address (TEST-NET-3 is
// not used: the guard refuses documentation ranges too, so a routable
// public address is given). Nothing is ever dialled there: see loopDialer.
type fakeResolver struct{ addr netip.Addr }

func (r fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{r.addr}, nil
}

// fileServer starts a loopback TLS server with files by path, and returns
// filedata options whose fetcher resolves every host to a public address and
// then dials the loopback server instead: the SSRF guard sees a public
// address and the test never leaves the machine.
func fileServer(t *testing.T, files map[string][]byte, maxBytes int64) filedata.Options {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		if r.URL.Query().Get("chunked") != "" {
			// No Content-Length: the size is known only at the end.
			w.Write(b[:1])
			w.(http.Flusher).Flush()
			b = b[1:]
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	loop := srv.Listener.Addr().String()
	tlsCfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tlsCfg.ServerName = "example.com" // httptest's certificate covers example.com
	f := egress.New(egress.Config{
		Resolver: fakeResolver{netip.MustParseAddr("93.184.215.14")},
		Dialer: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, loop)
		},
		TLSClientConfig: &tls.Config{RootCAs: tlsCfg.RootCAs, ServerName: "example.com"},
	})
	return filedata.Options{Fetcher: f, MaxBytes: maxBytes}
}

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 1000)...)

func TestSpecAttachmentFromURL(t *testing.T) {
	t.Parallel()
	files := fileServer(t, map[string][]byte{"/files/error_screenshot.png": pngBytes}, 0)
	env := newTestEnv(t, Deps{Files: files}, emulator.Options{})
	out := env.mustInvoke(t, "create_ticket_attachment", specSample(t, "create_ticket_attachment.url.json"))
	if str(out, "id") == "" || str(out, "name") != "error_screenshot.png" || str(out, "size") != "1008" ||
		str(out, "createdTime") == "" || out["isPublic"] != true {
		t.Fatalf("output = %v", out)
	}
	list := env.mustInvoke(t, "list_ticket_attachments", `{"orgId":"2389290","ticketId":"1892000000042032","params":{"include":"creator"}}`)
	data := list["data"].([]any)
	if !slices.ContainsFunc(data, func(a any) bool { return a.(map[string]any)["id"] == out["id"] }) {
		t.Fatalf("new attachment %v not listed: %v", out["id"], data)
	}
}

func TestAttachmentBase64Forms(t *testing.T) {
	t.Parallel()
	content := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n3 0 obj\n<<>>\nendobj\n")
	std := base64.StdEncoding.EncodeToString(content)
	cases := map[string]string{
		"standard":        std,
		"url-safe raw":    base64.RawURLEncoding.EncodeToString(content),
		"data url":        "data:application/pdf;base64," + std,
		"wrapped newline": std[:20] + "\n" + std[20:],
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, Deps{}, emulator.Options{})
			in := `{"orgId":"2389290","ticketId":"1892000000042033","fileName":"document.pdf","fileData":` + quoteJSON(data) + `}`
			out := env.mustInvoke(t, "create_ticket_attachment", in)
			if str(out, "size") != itoa(len(content)) || out["isPublic"] != false || str(out, "ticketId") != "1892000000042033" {
				t.Fatalf("output = %v", out)
			}
		})
	}
}

func TestAttachmentOverCapRefusedBeforeUpload(t *testing.T) {
	t.Parallel()
	big := make([]byte, 3000)
	files := fileServer(t, map[string][]byte{"/big.png": big}, 2048)
	env := newTestEnv(t, Deps{Files: files}, emulator.Options{})
	for name, data := range map[string]string{
		"base64":      base64.StdEncoding.EncodeToString(big),
		"url":         "https://example.com/big.png",
		"url chunked": "https://example.com/big.png?chunked=1",
	} {
		_, err := env.invoke(t, "create_ticket_attachment", `{"orgId":"2389290","ticketId":"1892000000042032","fileName":"big.png","fileData":`+quoteJSON(data)+`}`)
		de := domainErr(t, err, deskconn.CodeInvalid)
		if got := pointers(de); !slices.Equal(got, []string{"/fileData"}) || !strings.Contains(de.Message, "limit") {
			t.Errorf("%s: error = %v (pointers %v)", name, de, got)
		}
	}
	if w := env.writes(); len(w) != 0 {
		t.Fatalf("Zoho writes were made: %v", w)
	}
}

func TestAttachmentURLRefusedByGuard(t *testing.T) {
	t.Parallel()
	// The real guard (no injected resolver) refuses a loopback literal:
	// nothing is dialled.
	env := newTestEnv(t, Deps{Files: filedata.Options{Fetcher: egress.New(egress.Config{})}}, emulator.Options{})
	_, err := env.invoke(t, "create_ticket_attachment", `{"orgId":"2389290","ticketId":"1892000000042032","fileName":"x.png","fileData":"http://127.0.0.1:1/x.png"}`)
	de := domainErr(t, err, deskconn.CodeInvalid)
	if got := pointers(de); !slices.Equal(got, []string{"/fileData"}) {
		t.Fatalf("pointers = %v", got)
	}
	if w := env.writes(); len(w) != 0 {
		t.Fatalf("Zoho writes were made: %v", w)
	}
}

func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestSpecAttachmentBase64Sample covers the spec's base64 sample, whose
// fileData "JVBERi0xLjQKJeLjz9MKMyAwIG9..." is a placeholder cut short with
// "...". Uploading the 20 bytes before the ellipsis would attach a corrupt
// PDF without a word (and models do cut long base64 this way), so the
// sample is refused with an error that points at the ellipsis, before any
// Zoho call. The same sample without the "..." attaches the decoded bytes.
func TestSpecAttachmentBase64Sample(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	sample := specSample(t, "create_ticket_attachment.base64.json")
	_, err := env.invoke(t, "create_ticket_attachment", sample)
	de := domainErr(t, err, deskconn.CodeInvalid)
	if got := pointers(de); !slices.Equal(got, []string{"/fileData"}) || !strings.Contains(de.Message, "offset 27") {
		t.Fatalf("error = %v", de)
	}
	if w := env.writes(); len(w) != 0 {
		t.Fatalf("Zoho writes were made: %v", w)
	}
	out := env.mustInvoke(t, "create_ticket_attachment", strings.Replace(sample, "IG9...", "IG9", 1))
	if str(out, "name") != "document.pdf" || str(out, "size") != "20" || out["isPublic"] != false {
		t.Fatalf("output = %v", out)
	}
}

func TestAttachmentFromChunkedURLIsSpooled(t *testing.T) {
	t.Parallel()
	files := fileServer(t, map[string][]byte{"/shot.png": pngBytes}, 4096)
	env := newTestEnv(t, Deps{Files: files}, emulator.Options{})
	out := env.mustInvoke(t, "create_ticket_attachment", `{"orgId":"2389290","ticketNumber":"`+
		str(env.mustInvoke(t, "get_ticket", `{"ticketId":"1892000000042034","orgId":"2389290"}`), "ticketNumber")+
		`","fileName":"shot.png","fileData":"https://example.com/shot.png?chunked=1","params":{"isPublic":true}}`)
	if str(out, "size") != "1008" || str(out, "ticketId") != "1892000000042034" {
		t.Fatalf("output = %v", out)
	}
}

// TestSpooledFileData: a fileData that the REST server spooled while the
// body streamed in (a filedata reference, resolved through the request's
// Spooler) is uploaded like the base64 it replaced, by
// create_ticket_attachment and by create_ticket's uploads.
func TestSpooledFileData(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Deps{}, emulator.Options{})
	sp := filedata.NewSpooler(0, t.TempDir())
	defer sp.Close()
	content := []byte(strings.Repeat("spooled file, ", 1000))
	b64 := base64.StdEncoding.EncodeToString(content)
	w, err := sp.Begin([]byte(b64[:min(len(b64), filedata.SpoolThreshold)]))
	if err != nil || w == nil {
		t.Fatalf("Begin: %v %v", w, err)
	}
	if _, err := w.Write([]byte(b64)); err != nil {
		t.Fatal(err)
	}
	ref, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	ctx := filedata.WithSpooler(t.Context(), sp)
	out, err := env.reg.Invoke(ctx, env.target, "create_ticket_attachment",
		json.RawMessage(`{"orgId":"2389290","ticketId":"1892000000042032","fileName":"notes.txt","fileData":"`+ref+`"}`), action.InvokeOptions{})
	if err != nil {
		t.Fatalf("create_ticket_attachment: %v", err)
	}
	var att map[string]any
	if err := json.Unmarshal(out, &att); err != nil || att["size"] != fmt.Sprint(len(content)) || att["name"] != "notes.txt" {
		t.Fatalf("attachment = %s (%v)", out, err)
	}
	_, err = env.reg.Invoke(ctx, env.target, "create_ticket", json.RawMessage(`{"orgId":"2389290","payload":{"subject":"spooled","departmentId":"1892000000006907",`+
		`"contactId":"1892000000042032","uploads":[{"fileName":"notes.txt","fileData":"`+ref+`"}]}}`), action.InvokeOptions{})
	if err != nil {
		t.Fatalf("create_ticket with a spooled upload: %v", err)
	}
	if w := env.writes(); !slices.Equal(w, []string{"POST /tickets/1892000000042032/attachments", "POST /uploads", "POST /tickets"}) {
		t.Errorf("writes = %v", w)
	}
	// Outside its request (no Spooler in the context) a reference is only
	// invalid base64 on /fileData.
	_, err = env.invoke(t, "create_ticket_attachment", `{"orgId":"2389290","ticketId":"1892000000042032","fileName":"notes.txt","fileData":"`+ref+`"}`)
	if e := domainErr(t, err, deskconn.CodeInvalid); !slices.Equal(pointers(e), []string{"/fileData"}) {
		t.Errorf("reference without its spooler: %v", e)
	}
}
