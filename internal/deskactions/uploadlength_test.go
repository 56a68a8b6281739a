package deskactions

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/emulator"
)

// TestEveryUploadCarriesContentLength: issue 10 item 3. Whatever the source
// (base64, a URL that sends its length, a URL that does not and is spooled),
// uploads to /uploads and ticket attachments carry a Content-Length: the
// emulator here refuses a multipart body without one (411).
func TestEveryUploadCarriesContentLength(t *testing.T) {
	t.Parallel()
	files := fileServer(t, map[string][]byte{"/files/shot.png": pngBytes}, 0)
	env := newTestEnv(t, Deps{Files: files}, emulator.Options{RequireUploadLength: true})
	b64 := base64.StdEncoding.EncodeToString([]byte("a log line\nanother\n"))
	sources := []string{b64, "data:text/plain;base64," + b64, "https://example.com/files/shot.png", "https://example.com/files/shot.png?chunked=1"}
	for _, src := range sources {
		env.mustInvoke(t, "create_ticket_attachment", `{"orgId":"2389290","ticketId":"1892000000042032","fileName":"f.bin","fileData":"`+src+`"}`)
	}
	var uploads []string
	for _, src := range sources {
		uploads = append(uploads, `{"fileName":"f.bin","fileData":"`+src+`"}`)
	}
	// Each call succeeded, so no upload was refused for want of a length;
	// the stored files say every one arrived.
	created := env.mustInvoke(t, "create_ticket", `{"orgId":"2389290","payload":{"subject":"With files","departmentId":"`+emulator.DemoDepartmentID+
		`","contactId":"`+emulator.DemoContactID+`","uploads":[`+strings.Join(uploads, ",")+`]}}`)
	if got, _ := env.emu.GetTicket(emulator.DemoOrgID, "1892000000042032"); got.Attachments != len(sources) {
		t.Errorf("ticket attachments stored = %d, want %d", got.Attachments, len(sources))
	}
	if got, _ := env.emu.GetTicket(emulator.DemoOrgID, str(created, "id")); got.Attachments != len(sources) {
		t.Errorf("uploads attached to the new ticket = %d, want %d", got.Attachments, len(sources))
	}
}
