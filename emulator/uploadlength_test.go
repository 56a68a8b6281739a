package emulator_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/deskconn/deskconn/emulator"
)

// TestRequireUploadLength: with Options.RequireUploadLength, a multipart
// upload without a Content-Length is refused with 411 and stores nothing;
// with one it succeeds. Without the option both succeed.
func TestRequireUploadLength(t *testing.T) {
	t.Parallel()
	for _, require := range []bool{false, true} {
		e := newEnv(t, emulator.Options{RequireUploadLength: require})
		for _, path := range []string{"/api/v1/uploads", "/api/v1/tickets/1892000000042032/attachments"} {
			for _, chunked := range []bool{false, true} {
				var buf bytes.Buffer
				mw := multipart.NewWriter(&buf)
				fw, _ := mw.CreateFormFile("file", "a.txt")
				io.WriteString(fw, "some content")
				mw.Close()
				var body io.Reader = &buf
				if chunked {
					body = io.MultiReader(&buf) // no Len: sent without a length
				}
				req, err := http.NewRequest("POST", e.srv.URL+path, body)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Zoho-oauthtoken "+e.token)
				req.Header["orgId"] = []string{emulator.DemoOrgID}
				req.Header.Set("Content-Type", mw.FormDataContentType())
				r := e.send(req)
				if require && chunked {
					wantStatus(t, r, http.StatusLengthRequired, "LENGTH_REQUIRED")
				} else {
					wantStatus(t, r, http.StatusOK, "")
				}
			}
		}
		if info, _ := e.emu.GetTicket(emulator.DemoOrgID, "1892000000042032"); require && info.Attachments != 1 || !require && info.Attachments != 2 {
			t.Errorf("require=%v: %d attachments stored", require, info.Attachments)
		}
	}
}
