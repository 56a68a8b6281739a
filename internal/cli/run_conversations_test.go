package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRunTicketWork runs the ticket-work actions from the command line: a
// conversation read, a reply that needs --confirm and its dry run, and a
// comment.
func TestRunTicketWork(t *testing.T) {
	t.Parallel()
	cd := startCLIDemo(t)
	ticket := `{"orgId":"2389290","ticketId":"1892000000042032"`

	code, stdout, stderr := cd.run(t, ticket+`,"limit":3}`, "run", "list_ticket_conversations", "--tenant", "demo", "--input", "-")
	var conv struct {
		Items []map[string]any `json:"items"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &conv) != nil || len(conv.Items) != 3 {
		t.Fatalf("list_ticket_conversations: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	reply := ticket + `,"content":"Sent from the CLI"}`
	code, _, stderr = cd.run(t, reply, "run", "reply_to_ticket", "--tenant", "demo", "--input", "-")
	if code != 5 || !strings.Contains(stderr, "confirm") {
		t.Errorf("reply without --confirm: exit %d %s", code, stderr)
	}
	code, stdout, stderr = cd.run(t, reply, "run", "reply_to_ticket", "--tenant", "demo", "--input", "-", "--dry-run")
	if code != 0 || !strings.Contains(stdout, `"fromEmailAddress": "support@zylker.zohodesk.com"`) {
		t.Errorf("reply dry run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = cd.run(t, reply, "run", "reply_to_ticket", "--tenant", "demo", "--input", "-", "--confirm", "--idempotency-key", "cli-reply-1")
	if code != 0 || !strings.Contains(stdout, `"status": "PENDING"`) {
		t.Errorf("reply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = cd.run(t, ticket+`,"content":"Checked from the CLI"}`, "run", "add_ticket_comment", "--tenant", "demo", "--input", "-")
	if code != 0 || !strings.Contains(stdout, `"isPublic": false`) {
		t.Errorf("comment: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
