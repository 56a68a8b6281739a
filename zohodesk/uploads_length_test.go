package zohodesk

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// onlyReader hides every method of r but Read, so its size is unknown.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestUploadsSendContentLength: issue 10 item 3. An upload whose size is
// known carries a Content-Length equal to the multipart body's length, for
// /uploads and ticket attachments; an unknown size streams without one.
func TestUploadsSendContentLength(t *testing.T) {
	t.Parallel()
	const content = "hello attachment, with a known size"
	tests := []struct {
		name       string
		r          func() io.Reader
		wantLength bool
	}{
		{"strings.Reader", func() io.Reader { return strings.NewReader(content) }, true},
		{"Sized", func() io.Reader { return Sized(onlyReader{strings.NewReader(content)}, int64(len(content))) }, true},
		{"Sized, one byte at a time", func() io.Reader {
			return Sized(iotest.OneByteReader(strings.NewReader(content)), int64(len(content)))
		}, true},
		{"unknown size", func() io.Reader { return onlyReader{strings.NewReader(content)} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			check := func(w http.ResponseWriter, r *http.Request, reply string) {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					t.Errorf("read body: %v", err)
				}
				switch {
				case tt.wantLength && (r.ContentLength != int64(len(body)) || len(r.TransferEncoding) != 0):
					t.Errorf("Content-Length %d, transfer encoding %v, for a body of %d bytes", r.ContentLength, r.TransferEncoding, len(body))
				case !tt.wantLength && r.ContentLength != -1:
					t.Errorf("unknown size sent Content-Length %d", r.ContentLength)
				}
				r.Body = io.NopCloser(strings.NewReader(string(body)))
				if err := r.ParseMultipartForm(1 << 20); err != nil {
					t.Errorf("parse multipart: %v", err)
				} else if f, _, err := r.FormFile("file"); err != nil {
					t.Errorf("no file part: %v", err)
				} else if got, _ := io.ReadAll(f); string(got) != content {
					t.Errorf("file part = %q, want %q", got, content)
				}
				io.WriteString(w, reply)
			}
			mux.HandleFunc("/api/v1/uploads", func(w http.ResponseWriter, r *http.Request) { check(w, r, `{"id":"5"}`) })
			mux.HandleFunc("/api/v1/tickets/7/attachments", func(w http.ResponseWriter, r *http.Request) {
				check(w, r, `{"id":"9","name":"a.txt","size":"35","isPublic":false}`)
			})
			if _, _, err := c.Uploads.Create(t.Context(), testOrg, "a.txt", tt.r()); err != nil {
				t.Fatalf("Uploads.Create: %v", err)
			}
			if _, _, err := c.TicketAttachments.Create(t.Context(), testOrg, "7", "a.txt", tt.r(), nil); err != nil {
				t.Fatalf("TicketAttachments.Create: %v", err)
			}
		})
	}
}

// TestUploadSizeMismatchNeverCompletes: content shorter or longer than its
// declared size fails the upload, and the server never receives a complete
// multipart body (so Zoho cannot store a truncated file).
func TestUploadSizeMismatchNeverCompletes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		content string
		size    int64
	}{
		{"shorter", "abc", 10},
		{"longer", "abcdefghijklmnop", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var complete atomic.Bool
			mux.HandleFunc("/api/v1/uploads", func(w http.ResponseWriter, r *http.Request) {
				if _, err := io.ReadAll(r.Body); err == nil {
					complete.Store(true)
				}
				io.WriteString(w, `{"id":"5"}`)
			})
			_, _, err := c.Uploads.Create(t.Context(), testOrg, "a.txt", Sized(onlyReader{strings.NewReader(tc.content)}, tc.size))
			if err == nil {
				t.Fatal("upload of mis-sized content succeeded")
			}
			if !errors.Is(err, errUploadSize) {
				t.Errorf("error %v does not say the size is wrong", err)
			}
			if complete.Load() {
				t.Error("the server received a complete body")
			}
		})
	}
}
