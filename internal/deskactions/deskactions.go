// Package deskactions defines deskconn's Zoho Desk actions on top of the
// action registry (internal/action) and the zohodesk client: the ten actions
// of the connector spec (create_ticket, list_tickets, get_ticket,
// update_ticket, move_tickets_to_trash, create_ticket_attachment,
// list_ticket_attachments, add_agent, list_agents, deactivate_agent) and the
// read-only lookups that find the ids they take (list_organizations,
// list_departments, list_teams, list_products, search_contacts, list_roles,
// list_profiles, search_tickets, find_agent_by_email).
//
// Inputs take the spec's JSON shapes verbatim (orgId, payload, params,
// sortOrder, ticketId, agentId, fileName, fileData), plus the selectors
// ticketNumber / ticketSubject and agentEmail. Outputs carry the fields the
// spec's "Response" sections promise at the top level and Zoho's object whole
// next to them.
//
// Handlers check what the schema cannot (one selector of several, an empty
// update, Custom agents without role and profile) before any Zoho call, and
// return zohodesk errors as they are: the registry maps errors once.
package deskactions

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/filedata"
)

// Deps are what the actions need besides the per-call Zoho client.
type Deps struct {
	// Files configures how create_ticket_attachment and create_ticket's
	// uploads read fileData (the SSRF-guarded fetcher and the size cap).
	Files filedata.Options
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Events reads the event log for list_events; nil makes list_events
	// answer unavailable (processes without the event pipeline).
	Events EventReader
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

// All returns every action of this package, the spec's ten first and the
// lookups after them. Each call returns new Action values.
func All(deps Deps) []*action.Action {
	areas := []func() []*action.Action{
		func() []*action.Action { return ticketActions(deps) },
		func() []*action.Action { return attachmentActions(deps) },
		func() []*action.Action { return agentActions(deps) },
		lookupActions,
		searchActions,
		func() []*action.Action { return contactActions(deps) },
		accountActions,
		knowledgeActions,
		conversationActions,
		func() []*action.Action { return replyActions(deps) },
		commentActions,
		tagActions,
		func() []*action.Action { return timeActions(deps) },
		historyActions,
		func() []*action.Action { return eventActions(deps) },
	}
	// Defining an action infers and checks its schemas (CPU only), so
	// the areas are built on every core: it shortens the start of every
	// process (deskconn mcp above all). The order stays the listed one.
	built := make([][]*action.Action, len(areas))
	var wg sync.WaitGroup
	for i, area := range areas {
		wg.Go(func() { built[i] = area() })
	}
	wg.Wait()
	var acts []*action.Action
	for _, b := range built {
		acts = append(acts, b...)
	}
	return withSettlers(acts)
}

// invalid turns field problems into the domain's invalid error, or nil.
func invalid(errs []deskconn.FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	msg := "the input has 1 problem; fix it and send again"
	if len(errs) > 1 {
		msg = "the input has " + strconv.Itoa(len(errs)) + " problems; fix all of them and send again"
	}
	return deskconn.Invalid(msg, errs...)
}

func itoa(i int) string { return strconv.Itoa(i) }

// isID reports whether s looks like a Zoho id (1 to 32 digits).
func isID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// looksLikeEmail is the minimal shape check Zoho needs: text@text.
func looksLikeEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n")
}

// checkEnumList reports items of l not in allowed (the comma-string form
// escapes the schema's item enum), and more than max items (0: no cap).
func checkEnumList(at string, l StringList, allowed []string, max int) []deskconn.FieldError {
	var errs []deskconn.FieldError
	if max > 0 && len(l) > max {
		errs = append(errs, deskconn.FieldError{Pointer: at, Code: "invalid", Message: "must have at most " + itoa(max) + " items; got " + itoa(len(l))})
	}
	if allowed == nil {
		return errs
	}
	for i, v := range l {
		ok := false
		for _, a := range allowed {
			if v == a {
				ok = true
				break
			}
		}
		if !ok {
			errs = append(errs, deskconn.FieldError{Pointer: at + "/" + itoa(i), Code: "invalid", Message: "must be one of " + strings.Join(allowed, ", ") + "; got " + strconv.Quote(v)})
		}
	}
	return errs
}

// sortPrefix turns the spec's top-level sortOrder ("-", "desc", "", "asc")
// into Zoho's sortBy form: a "-" prefix means descending. A sortBy that
// already carries "-" keeps it.
func sortPrefix(sortBy, sortOrder string) string {
	if sortBy == "" || strings.HasPrefix(sortBy, "-") {
		return sortBy
	}
	if sortOrder == "-" || strings.EqualFold(sortOrder, "desc") {
		return "-" + sortBy
	}
	return sortBy
}
