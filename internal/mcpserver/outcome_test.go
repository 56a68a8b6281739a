package mcpserver

import (
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

// TestOutcomeUnknownText: a write whose outcome stays unknown tells the
// model not to call the tool again before Zoho Desk was checked, and keeps
// its code in the structured error.
func TestOutcomeUnknownText(t *testing.T) {
	t.Parallel()
	h := newHinter(action.NewRegistry(action.Options{}))
	e := &deskconn.Error{Code: deskconn.CodeOutcomeUnknown,
		Message: "the first create_ticket request with this idempotency key was sent to Zoho Desk at 2026-01-01T00:00:00Z, but its outcome is unknown"}
	env := h.envelope(e)
	txt := h.text(e, env)
	if env.Code != deskconn.CodeOutcomeUnknown || !strings.HasPrefix(txt, "Error (outcome_unknown): ") ||
		!strings.Contains(txt, "do not call this tool again") {
		t.Errorf("outcome_unknown renders as code %q:\n%s", env.Code, txt)
	}
}
