package mcpserver

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
)

// TestReplyAndConversationTools: reply_to_ticket asks for confirmation and
// previews exactly what it would send, and list_ticket_conversations reads
// the ticket, over MCP with the real actions and the emulator.
func TestReplyAndConversationTools(t *testing.T) {
	t.Parallel()
	env := newDeskEnv(t)
	cs := connect(t, New(realRegistry(), ConnectionResolver(env.conns(), "tenant-1", "demo"), nil))

	body, txt := errorOf(t, call(t, cs, "reply_to_ticket", `{"ticketId":"1892000000042032","content":"Fixed."}`))
	if body.Code != deskconn.CodeForbidden || !strings.Contains(txt, `"confirm": true`) || !strings.Contains(txt, "cannot be recalled") {
		t.Errorf("reply without confirm: %s\n%s", body.Code, txt)
	}
	res := call(t, cs, "reply_to_ticket", `{"ticketId":"1892000000042032","content":"Fixed.","dryRun":true}`)
	out := mustSucceed(t, res)
	for _, want := range []string{`"to":"carol@zylker-customer.com"`, `"fromEmailAddress":"support@zylker.zohodesk.com"`, `"content":"Fixed."`, `/sendReply`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("dry run lacks %s: %s", want, out)
		}
	}
	if w := env.writes(); len(w) != 0 {
		t.Fatalf("confirm refusal and dry run wrote %v", w)
	}

	conv := mustSucceed(t, call(t, cs, "list_ticket_conversations", `{"ticketId":"1892000000042032","limit":10}`))
	var page struct {
		Items []struct{ Type, Direction, Content string } `json:"items"`
	}
	if err := json.Unmarshal(conv, &page); err != nil || len(page.Items) != 6 {
		t.Fatalf("conversation = %s (%v)", conv, err)
	}
	sent := mustSucceed(t, call(t, cs, "reply_to_ticket", `{"ticketId":"1892000000042032","content":"Fixed.","confirm":true}`))
	if !bytes.Contains(sent, []byte(`"status":"PENDING"`)) {
		t.Errorf("sent reply = %s", sent)
	}
	if w := env.writes(); len(w) != 1 || !strings.HasSuffix(w[0], "/sendReply") {
		t.Errorf("writes = %v, want one sendReply", w)
	}
}
