package mcpserver

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

// lookupHints maps an input field name (the last non-index token of a JSON
// Pointer) to the lookup tools that return valid values for it, best first.
// It is the one table of such hints; a tool the registry does not have is
// never named.
var lookupHints = map[string][]string{
	"orgId":                   {"list_organizations"},
	"departmentId":            {"list_departments"},
	"departmentIds":           {"list_departments"},
	"associatedDepartmentIds": {"list_departments"},
	"teamId":                  {"list_teams"},
	"teamIds":                 {"list_teams"},
	"assigneeId":              {"find_agent_by_email", "list_agents"},
	"assignee":                {"find_agent_by_email", "list_agents"},
	"agentId":                 {"find_agent_by_email", "list_agents"},
	"productId":               {"list_products"},
	"contactId":               {"search_contacts", "list_contacts"},
	"contactIds":              {"search_contacts", "list_contacts"},
	"secondaryContacts":       {"search_contacts"},
	"accountId":               {"search_accounts", "list_accounts"},
	"articleId":               {"search_articles"},
	"categoryId":              {"list_article_categories"},
	"rootCategoryId":          {"list_article_categories"},
	"roleId":                  {"list_roles"},
	"profileId":               {"list_profiles"},
	"ticketId":                {"search_tickets", "list_tickets"},
	"ticketIds":               {"search_tickets", "list_tickets"},
}

// hinter renders domain errors for a registry: it knows which lookup tools
// exist.
type hinter struct {
	has func(name string) bool
}

func newHinter(reg *action.Registry) *hinter {
	return &hinter{has: func(name string) bool { return reg.Lookup(name) != nil }}
}

// fieldName returns the last token of pointer that is not an array index
// ("/payload/teamIds/2" gives "teamIds").
func fieldName(pointer string) string {
	toks := strings.Split(pointer, "/")
	for i := len(toks) - 1; i >= 0; i-- {
		t := toks[i]
		if t == "" {
			continue
		}
		if _, err := strconv.Atoi(t); err == nil {
			continue
		}
		// RFC 6901 unescaping.
		return strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return ""
}

// lookups returns the lookup tools (present in the registry) that find
// values for the field at pointer.
func (h *hinter) lookups(pointer string) []string {
	var out []string
	for _, name := range lookupHints[fieldName(pointer)] {
		if h.has(name) {
			out = append(out, name)
		}
	}
	return out
}

// fieldProblem is one field problem in the error envelope.
type fieldProblem struct {
	Pointer string   `json:"pointer"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Lookup  []string `json:"lookup,omitempty"`
}

// errorBody is the structured content of an error result, under "error".
type errorBody struct {
	Code              deskconn.Code        `json:"code"`
	Message           string               `json:"message"`
	Errors            []fieldProblem       `json:"errors,omitempty"`
	Candidates        []deskconn.Candidate `json:"candidates,omitempty"`
	Upstream          *deskconn.Upstream   `json:"upstream,omitempty"`
	RetryAfterSeconds int64                `json:"retryAfterSeconds,omitempty"`
}

// envelope returns the structured form of e, with the lookup tools for each
// field. An internal error's message is always the generic one.
func (h *hinter) envelope(e *deskconn.Error) *errorBody {
	b := &errorBody{Code: e.Code, Message: e.Message, Candidates: e.Candidates, Upstream: e.Upstream}
	if e.Code == deskconn.CodeInternal {
		b.Message = "internal error"
		b.Upstream = nil
	}
	if b.Message == "" {
		b.Message = string(e.Code)
	}
	for _, f := range e.Fields {
		b.Errors = append(b.Errors, fieldProblem{Pointer: f.Pointer, Code: f.Code, Message: f.Message, Lookup: h.lookups(f.Pointer)})
	}
	if e.RetryAfter > 0 {
		b.RetryAfterSeconds = int64(math.Ceil(e.RetryAfter.Seconds()))
	}
	return b
}

// text renders the error for a model: what went wrong and what to change.
func (h *hinter) text(e *deskconn.Error, b *errorBody) string {
	var s strings.Builder
	fmt.Fprintf(&s, "Error (%s): %s", b.Code, b.Message)
	if !strings.HasSuffix(b.Message, ".") {
		s.WriteString(".")
	}
	if errors.Is(e, action.ErrConfirmationRequired) || errors.Is(e, action.ErrDenied) {
		s.WriteString("\nNothing was changed.")
	}
	if e.Code == deskconn.CodeOutcomeUnknown {
		s.WriteString("\nThe write may already have happened: do not call this tool again for it until Zoho Desk has been checked as said above.")
	}
	if len(b.Errors) > 0 {
		s.WriteString("\nProblems (fix every one, then call again):")
		for _, f := range b.Errors {
			fmt.Fprintf(&s, "\n- %s", f.Pointer)
			if f.Pointer == "" {
				s.WriteString("(input)")
			}
			if f.Code != "" {
				fmt.Fprintf(&s, " (%s)", f.Code)
			}
			fmt.Fprintf(&s, ": %s", f.Message)
			if hint := lookupSentence(f.Lookup, f.Message); hint != "" {
				s.WriteString(" " + hint)
			}
		}
	}
	if len(b.Candidates) > 0 {
		s.WriteString("\nCandidates (choose one and call again with its id):")
		for _, c := range b.Candidates {
			fmt.Fprintf(&s, "\n- id %s: %s", c.ID, c.Label)
			if c.Details != "" {
				fmt.Fprintf(&s, " (%s)", c.Details)
			}
		}
	}
	if b.RetryAfterSeconds > 0 {
		fmt.Fprintf(&s, "\nRetry after %d second(s).", b.RetryAfterSeconds)
	}
	if u := b.Upstream; u != nil && (u.Status != 0 || u.ErrorCode != "") {
		s.WriteString("\nZoho Desk answered")
		if u.Status != 0 {
			fmt.Fprintf(&s, " HTTP %d", u.Status)
		}
		if u.ErrorCode != "" {
			fmt.Fprintf(&s, " %s", u.ErrorCode)
		}
		if u.Message != "" {
			fmt.Fprintf(&s, ": %s", u.Message)
		}
		if u.RequestID != "" {
			fmt.Fprintf(&s, " (request id %s)", u.RequestID)
		}
		s.WriteString(".")
	}
	return s.String()
}

// lookupSentence tells the model which tools find a valid value, unless the
// message already names them all.
func lookupSentence(tools []string, message string) string {
	var missing []string
	for _, t := range tools {
		if !strings.Contains(message, t) {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "Find a valid value with " + strings.Join(missing, " or ") + "."
}
