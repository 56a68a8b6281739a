package zohodesk

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// readFilePart checks a multipart request with one part "file" and returns
// its file name and content.
func readFilePart(t *testing.T, r *http.Request) (string, string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type = %q, want multipart/form-data", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	part, err := mr.NextPart()
	if err != nil {
		t.Fatalf("first part: %v", err)
	}
	if part.FormName() != "file" {
		t.Errorf("part name = %q, want file", part.FormName())
	}
	b, _ := io.ReadAll(part)
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("more than one part: %v", err)
	}
	return part.FileName(), string(b)
}

func TestTicketAttachmentsCreate(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/v1/tickets/7/attachments", func(w http.ResponseWriter, r *http.Request) {
		wantReq{method: "POST", path: "/api/v1/tickets/7/attachments", org: true, query: q("isPublic", "true")}.checkHeaders(t, r)
		name, content := readFilePart(t, r)
		if name != `re"port.txt` || content != "hello attachment" {
			t.Errorf("file part = %q %q", name, content)
		}
		w.Write([]byte(fixture(t, "attachment.json")))
	})
	a, _, err := c.TicketAttachments.Create(t.Context(), testOrg, "7", `re"port.txt`, strings.NewReader("hello attachment"), &TicketAttachmentCreateOptions{IsPublic: true})
	if err != nil {
		t.Fatalf("TicketAttachments.Create: %v", err)
	}
	if a.ID != "1892000000047041" || a.Size != "1079" || a.IsPublic {
		t.Errorf("TicketAttachments.Create = %+v", a)
	}
}

// gatedReader returns its first chunk, then blocks until gate is closed:
// the upload can finish only if the first chunk reached the server before
// the whole file was read, i.e. the body is streamed.
type gatedReader struct {
	first []byte
	gate  chan struct{}
	rest  io.Reader
	state int
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.state == 0 {
		g.state = 1
		return copy(p, g.first), nil
	}
	if g.state == 1 {
		select {
		case <-g.gate:
		case <-time.After(5 * time.Second):
			return 0, errors.New("body was not streamed: the server never saw the first chunk")
		}
		g.state = 2
	}
	return g.rest.Read(p)
}

func TestTicketAttachmentsCreateStreams(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	gate := make(chan struct{})
	mux.HandleFunc("/api/v1/tickets/7/attachments", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 0, 4096)
		tmp := make([]byte, 512)
		for !strings.Contains(string(buf), "CHUNK-ONE") {
			n, err := r.Body.Read(tmp)
			buf = append(buf, tmp[:n]...)
			if err != nil {
				t.Errorf("read before the first chunk arrived: %v", err)
				return
			}
		}
		close(gate)
		rest, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(rest), "CHUNK-TWO") {
			t.Errorf("second chunk missing")
		}
		w.Write([]byte(fixture(t, "attachment.json")))
	})
	r := &gatedReader{first: []byte("CHUNK-ONE"), gate: gate, rest: strings.NewReader("CHUNK-TWO")}
	if _, _, err := c.TicketAttachments.Create(t.Context(), testOrg, "7", "a.bin", r, nil); err != nil {
		t.Fatalf("TicketAttachments.Create: %v", err)
	}
}

func TestTicketAttachmentsCreateIsNotRetried(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("/api/v1/tickets/7/attachments", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	_, _, err := c.TicketAttachments.Create(t.Context(), testOrg, "7", "a.txt", strings.NewReader("x"), nil)
	if !errors.Is(err, ErrUnavailable) || calls.Load() != 1 {
		t.Errorf("error = %v after %d calls; want ErrUnavailable after 1", err, calls.Load())
	}
}

func TestTicketAttachmentsCreateTooLarge(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/v1/tickets/7/attachments", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		w.Write([]byte(fixture(t, "errors/resource_size_exceeded.json")))
	})
	_, _, err := c.TicketAttachments.Create(t.Context(), testOrg, "7", "a.txt", strings.NewReader("x"), nil)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("error = %v, want ErrTooLarge", err)
	}
}

func TestTicketAttachmentsList(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/tickets/7/attachments", wantReq{
		method: "GET", path: "/api/v1/tickets/7/attachments", org: true,
		query: q("limit", "100", "isPublic", "false", "sortBy", "-createdTime", "include", "creator"),
	}, http.StatusOK, fixture(t, "attachments.json"))
	got, _, err := c.TicketAttachments.List(t.Context(), testOrg, "7", &TicketAttachmentListOptions{
		ListOptions: ListOptions{Limit: 100}, IsPublic: ptr(false), SortBy: "-createdTime", Include: "creator",
	})
	if err != nil || len(got) != 1 || got[0].Name != "ticket.txt" {
		t.Fatalf("TicketAttachments.List = %+v, %v", got, err)
	}
	if _, _, err := c.TicketAttachments.List(t.Context(), testOrg, "7", &TicketAttachmentListOptions{ListOptions: ListOptions{Limit: 101}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 101: error = %v, want ErrInvalid", err)
	}
}

func TestTicketAttachmentsDownload(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	serve(t, mux, "/api/v1/tickets/7/attachments/9/content", wantReq{method: "GET", path: "/api/v1/tickets/7/attachments/9/content", org: true}, http.StatusOK, "file bytes")
	for _, href := range []string{srv.URL + "/api/v1/tickets/7/attachments/9/content", "tickets/7/attachments/9/content"} {
		rc, resp, err := c.TicketAttachments.Download(t.Context(), testOrg, href)
		if err != nil {
			t.Fatalf("Download(%q): %v", href, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "file bytes" || resp.StatusCode != http.StatusOK {
			t.Errorf("Download(%q) = %q, %d", href, b, resp.StatusCode)
		}
	}
}

// TestTicketAttachmentsAcceptHeader: a content download asks for any type,
// the JSON calls around it still ask for JSON.
func TestTicketAttachmentsAcceptHeader(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	accepts := make(chan string, 2)
	mux.HandleFunc("/api/v1/tickets/7/attachments/9/content", func(w http.ResponseWriter, r *http.Request) {
		accepts <- r.Header.Get("Accept")
		io.WriteString(w, "%PDF")
	})
	mux.HandleFunc("/api/v1/tickets/7/attachments", func(w http.ResponseWriter, r *http.Request) {
		accepts <- r.Header.Get("Accept")
		w.WriteHeader(http.StatusNoContent)
	})
	rc, _, err := c.TicketAttachments.Download(t.Context(), testOrg, "tickets/7/attachments/9/content")
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if got := <-accepts; got != "*/*" {
		t.Errorf("download Accept = %q, want */*", got)
	}
	if _, _, err := c.TicketAttachments.List(t.Context(), testOrg, "7", nil); err != nil {
		t.Fatal(err)
	}
	if got := <-accepts; got != "application/json" {
		t.Errorf("list Accept = %q, want application/json", got)
	}
}

func TestTicketAttachmentsDownloadReleasesLimiter(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	c, err := New(Config{BaseURL: srv.URL + basePath, Tokens: StaticToken(testToken), Limiter: NewOrgLimiter(1, 1000, 1000)})
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("/api/v1/tickets/7/attachments/9/content", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("x")) })
	for i := range 3 {
		ctx, cancel := contextWithTimeout(t, 2*time.Second)
		rc, _, err := c.TicketAttachments.Download(ctx, testOrg, "tickets/7/attachments/9/content")
		if err != nil {
			t.Fatalf("download %d: %v (limiter slot not released?)", i, err)
		}
		rc.Close()
		cancel()
	}
}

func TestTicketAttachmentsDownloadRefusesForeignHref(t *testing.T) {
	t.Parallel()
	c, _, srv := setup(t) // any request would hit the catch-all and fail the test
	for _, href := range []string{
		"https://evil.example/api/v1/tickets/7/attachments/9/content",
		strings.Replace(srv.URL, "http://", "https://", 1) + "/api/v1/x",
		srv.URL + "/other/path",
		srv.URL + "/api/v1/../../secret",
		"",
	} {
		if _, _, err := c.TicketAttachments.Download(t.Context(), testOrg, href); !errors.Is(err, ErrInvalid) {
			t.Errorf("Download(%q) error = %v, want ErrInvalid", href, err)
		}
	}
}

func TestUploadsCreate(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/v1/uploads", func(w http.ResponseWriter, r *http.Request) {
		wantReq{method: "POST", path: "/api/v1/uploads", org: true}.checkHeaders(t, r)
		name, content := readFilePart(t, r)
		if name != "log.txt" || content != "hello world" {
			t.Errorf("file part = %q %q", name, content)
		}
		w.Write([]byte(fixture(t, "upload.json")))
	})
	u, _, err := c.Uploads.Create(t.Context(), testOrg, "log.txt", strings.NewReader("hello world"))
	if err != nil || u.ID != "1892000000098001" || u.Size != "11" {
		t.Fatalf("Uploads.Create = %+v, %v", u, err)
	}
	if _, _, err := c.Uploads.Create(t.Context(), testOrg, "", strings.NewReader("x")); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty name: error = %v, want ErrInvalid", err)
	}
}
