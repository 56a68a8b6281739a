package deskactions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	segjson "github.com/segmentio/encoding/json"
	"golang.org/x/sync/errgroup"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// trashBatch is how many ids one moveToTrash call carries. [GAP] Zoho
// documents no maximum; 50 is the common Desk bulk limit (and the
// emulator's default), so larger requests are split.
const trashBatch = 50

// maxListAll is the hard cap of list_tickets with all: true.
const maxListAll = 5000

// listAllParallel is how many pages list_tickets with all: true fetches at
// once: the concurrency of Zoho's smallest edition (5), so one export never
// needs more than any org allows; the client's limiter enforces the
// deployment-wide cap. Past the last page, at most listAllParallel-1 empty
// pages are requested (each costs list credits; those still in flight when
// the end is seen are cancelled).
const listAllParallel = 5

// ticketPages fetches consecutive full-size pages of a ticket list from a
// start offset, keeping up to depth requests in flight: each request that
// ends with a full page starts the next page itself, so one slow answer
// delays only its own page, not the requests behind it (a window that
// moved only as the caller read pages in order kept the pace of the
// slowest answer so far). The pages requested from the one the caller
// waits for on are at most twice depth: that bounds the pages held in
// memory behind a slow answer, and how far a walk runs past a page that
// is about to fail. Pages are returned in order. Nothing is requested past
// the caller's limit, past a page seen short (the end of the list) or
// after a request failed. The client's per-org limiter still bounds what
// is in flight across the deployment.
type ticketPages struct {
	ctx    context.Context
	cancel context.CancelFunc
	g      *errgroup.Group
	call   *action.Call
	org    string
	opts   zohodesk.TicketListOptions
	start  int // offset of page 0

	mu       sync.Mutex
	depth    int                      // requests kept in flight
	limit    int                      // pages below limit may be requested
	wanted   int                      // the page the caller asked for last
	issued   int                      // pages requested so far: 0 .. issued-1
	inFlight int                      // requests not yet answered
	failed   bool                     // a request failed: request nothing more
	got      []chan []json.RawMessage // page n's answer, once
	// end is the index of the first page known to be short (the last
	// page of the list), or -1: nothing past it is requested.
	end int
}

// newTicketPages prepares the walk; nothing is requested until next.
func newTicketPages(ctx context.Context, call *action.Call, org string, opts zohodesk.TicketListOptions, from int) *ticketPages {
	ctx, cancel := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(ctx)
	return &ticketPages{ctx: gctx, cancel: cancel, g: g, call: call, org: org, opts: opts, start: from, end: -1}
}

// next returns page i (0, 1, 2... in turn). It first sets how many
// requests to keep in flight (depth) and the first page not to request
// (limit, above i), and tops the window up. A failed request fails next
// and cancels the others.
func (p *ticketPages) next(i, depth, limit int) ([]json.RawMessage, error) {
	p.mu.Lock()
	p.depth, p.limit, p.wanted = depth, max(p.limit, limit, i+1), i
	for p.issued <= i { // page i itself, whatever is in flight
		p.issueLocked()
	}
	p.topUpLocked()
	ch := p.got[i]
	p.mu.Unlock()
	select {
	case items := <-ch:
		return items, nil
	case <-p.ctx.Done():
		// The group's context ends on the first error (or the caller's).
		if err := p.g.Wait(); err != nil {
			return nil, err
		}
		return nil, p.ctx.Err()
	}
}

// topUpLocked requests the next pages while fewer than depth are in
// flight and fewer than twice depth are requested from the page the caller
// waits for on, up to the limit and the end of the list, unless a request
// failed; p.mu is held.
func (p *ticketPages) topUpLocked() {
	for p.inFlight < p.depth && p.issued < p.wanted+2*p.depth && p.issued < p.limit && (p.end < 0 || p.issued <= p.end) && !p.failed && p.ctx.Err() == nil {
		p.issueLocked()
	}
}

// issueLocked requests the next page; p.mu is held.
func (p *ticketPages) issueLocked() {
	n := p.issued
	ch := make(chan []json.RawMessage, 1)
	p.got = append(p.got, ch)
	p.issued++
	p.inFlight++
	o := p.opts
	o.ListOptions = zohodesk.ListOptions{From: p.start + n*zohodesk.MaxLimitTickets, Limit: zohodesk.MaxLimitTickets}
	p.g.Go(func() error {
		items, _, err := p.call.Desk.Tickets.ListRaw(p.ctx, p.org, &o)
		p.mu.Lock()
		p.inFlight--
		switch {
		case err != nil:
			// The group cancels the others once this returns; until then
			// nothing more may start.
			p.failed = true
		case len(items) < zohodesk.MaxLimitTickets && (p.end < 0 || n < p.end):
			p.end = n // the list ends here
		}
		p.topUpLocked()
		p.mu.Unlock()
		if err != nil {
			return err
		}
		ch <- items
		return nil
	})
}

// close cancels the requests still in flight (pages past the end or the
// cap) and waits for them.
func (p *ticketPages) close() {
	p.cancel()
	_ = p.g.Wait() // their answers (or cancellations) are not needed
}

// ticketIncludeGet and ticketIncludeList are Zoho's include values.
var (
	ticketIncludeGet  = []string{"contacts", "products", "assignee", "departments", "contract", "isRead", "team", "skills"}
	ticketIncludeList = []string{"contacts", "products", "departments", "team", "assignee"}
)

// compactKeys are the ticket fields a compact list row keeps: everything the
// spec's list Response promises, and the ids that link to other objects.
var compactKeys = newKeySet(
	"id", "ticketNumber", "subject", "description", "status", "statusType", "priority", "channel",
	"createdTime", "modifiedTime", "dueDate", "departmentId", "department", "contactId", "contact",
	"assigneeId", "assignee", "teamId", "team", "productId", "product", "webUrl", "isOverDue",
)

func ticketActions(deps Deps) []*action.Action {
	return []*action.Action{
		action.Define("create_ticket", action.Info{
			Title:       "Create ticket",
			Description: "Creates a ticket. departmentId: list_departments; contactId: search_contacts (or payload.contact to reuse or create one); assigneeId: list_agents; teamId: list_teams; productId: list_products.",
			Toolset:     "tickets",
			Hints:       action.Hints{OpenWorld: true}, Write: true, ZohoFieldPrefix: "/payload", TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in CreateTicketInput) (CreateTicketOutput, error) {
			return createTicket(ctx, deps, call, in)
		}),
		action.Define("list_tickets", action.Info{
			Title:       "List tickets",
			Description: "Lists tickets with filters, a page at a time; all: true walks every page. departmentId: list_departments; teamIds: list_teams; assignee: list_agents. Rows are compact unless view is full.",
			Toolset:     "tickets",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in ListTicketsInput) (ListOutput, error) {
			return listTickets(ctx, call, in)
		}),
		action.Define("get_ticket", action.Info{
			Title:       "Get ticket",
			Description: "Returns one ticket whole. ticketId: search_tickets. latestConversations: N adds its newest N messages and comments.",
			Toolset:     "tickets",
			Hints:       action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in GetTicketInput) (GetTicketOutput, error) {
			errs := in.TicketSelector.check()
			errs = append(errs, checkEnumList("/params/include", in.Params.Include, ticketIncludeGet, 0)...)
			if err := invalid(errs); err != nil {
				return GetTicketOutput{}, err
			}
			org, err := call.OrgID(in.OrgID)
			if err != nil {
				return GetTicketOutput{}, err
			}
			id, err := resolveTicket(ctx, call, org, in.TicketSelector)
			if err != nil {
				return GetTicketOutput{}, err
			}
			t, _, err := call.Desk.Tickets.Get(ctx, org, id, &zohodesk.TicketGetOptions{Include: in.Params.Include.Join()})
			if err != nil {
				return GetTicketOutput{}, ticketNotFound(err, in.TicketSelector, id)
			}
			if t.IsTrashed {
				return GetTicketOutput{}, ticketTrashed(in.TicketSelector, id)
			}
			out := GetTicketOutput{TicketOutput: ticketOutput(t)}
			if in.LatestConversations > 0 {
				if out.Conversation, err = latestConversation(ctx, call, org, id, in.LatestConversations); err != nil {
					return GetTicketOutput{}, err
				}
			}
			return out, nil
		}),
		action.Define("update_ticket", action.Info{
			Title:       "Update ticket",
			Description: "Changes the payload fields of a ticket (null clears one). assigneeId: list_agents; teamId: list_teams; departmentId: list_departments. ticketId: search_tickets.",
			Toolset:     "tickets",
			Hints:       action.Hints{Idempotent: true, OpenWorld: true}, Write: true, ZohoFieldPrefix: "/payload", TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in UpdateTicketInput) (UpdateTicketOutput, error) {
			return updateTicket(ctx, call, in)
		}),
		action.Define("move_tickets_to_trash", action.Info{
			Title:       "Move tickets to trash",
			Description: "Moves tickets to the recycle bin (restorable for 60 days), by ticketIds, ticketNumbers or exact ticketSubjects.",
			Toolset:     "tickets",
			Hints:       action.Hints{Destructive: true, Idempotent: true, OpenWorld: true}, Write: true, ZohoFieldPrefix: "/payload", TypeSchemas: typeSchemas(),
		}, func(ctx context.Context, call *action.Call, in MoveTicketsToTrashInput) (MoveTicketsToTrashOutput, error) {
			return moveToTrash(ctx, deps, call, in)
		}),
	}
}

// ticketOutput builds a TicketOutput from a Zoho ticket.
func ticketOutput(t *zohodesk.Ticket) TicketOutput {
	return TicketOutput{
		ID: t.ID, TicketNumber: t.TicketNumber, Subject: t.Subject, Status: t.Status,
		WebURL: t.WebURL, ModifiedTime: t.ModifiedTime, DescriptionText: htmlToText(t.Description), Ticket: t.Raw,
	}
}

func createTicket(ctx context.Context, deps Deps, call *action.Call, in CreateTicketInput) (CreateTicketOutput, error) {
	if err := invalid(in.check()); err != nil {
		return CreateTicketOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return CreateTicketOutput{}, err
	}
	p := in.Payload
	req := &zohodesk.TicketCreateRequest{
		Subject: p.Subject, DepartmentID: p.DepartmentID, ContactID: p.ContactID,
		Email: p.Email, Phone: p.Phone, Description: p.Description, Status: p.Status, Priority: p.Priority,
		Channel: p.Channel, Classification: p.Classification, Category: p.Category, SubCategory: p.SubCategory,
		AssigneeID: p.AssigneeID, TeamID: p.TeamID, ProductID: p.ProductID, DueDate: p.DueDate,
		Language: p.Language, Resolution: p.Resolution, CF: p.CF, Extra: map[string]any{},
	}
	if c := p.Contact; c != nil {
		req.Contact = &zohodesk.TicketContact{LastName: c.LastName, FirstName: c.FirstName, Email: c.Email, Phone: c.Phone, Mobile: c.Mobile}
	}
	if p.WebURL != "" {
		req.Extra["webUrl"] = p.WebURL
	}
	if len(p.SecondaryContacts) > 0 {
		req.Extra["secondaryContacts"] = []string(p.SecondaryContacts)
	}
	if len(p.EntitySkills) > 0 {
		req.Extra["entitySkills"] = []string(p.EntitySkills)
	}

	// Uploads: ids are used as given; files are opened (and, for URLs,
	// fetched) before anything is sent, so that a bad file fails the whole
	// call before any upload.
	var planned []action.PlannedRequest
	var uploadIDs []string
	for i, u := range p.Uploads {
		if u.File == nil {
			uploadIDs = append(uploadIDs, u.ID)
			continue
		}
		at := "/payload/uploads/" + itoa(i)
		if call.DryRun {
			f, err := openFile(ctx, deps, *u.File, at)
			if err != nil {
				return CreateTicketOutput{}, err
			}
			planned = append(planned, uploadPlan(org, f))
			f.Body.Close()
			uploadIDs = append(uploadIDs, "<id of upload "+itoa(i)+">")
			continue
		}
		id, err := uploadFile(ctx, deps, call, org, *u.File, at)
		if err != nil {
			return CreateTicketOutput{}, err
		}
		uploadIDs = append(uploadIDs, id)
	}
	req.Uploads = uploadIDs
	if call.DryRun {
		planned = append(planned, action.PlannedRequest{Method: "POST", Path: "/tickets", Header: orgHeader(org), Body: req})
		return CreateTicketOutput{}, call.Plan(planned...)
	}
	t, resp, err := call.Desk.Tickets.Create(ctx, org, req)
	if resp != nil {
		call.SetRequestID(resp.RequestID)
	}
	if err != nil {
		return CreateTicketOutput{}, err
	}
	call.SetDetail("ticket " + t.ID + " created")
	call.Created("ticket", t.ID, t.ModifiedTime)
	out := CreateTicketOutput{
		ID: t.ID, TicketNumber: t.TicketNumber, WebURL: t.WebURL, CreatedTime: t.CreatedTime,
		AssigneeID: t.AssigneeID, UploadIDs: uploadIDs, Ticket: t.Raw,
	}
	out.Assignee = t.AssigneeObject()
	return out, nil
}

func listTickets(ctx context.Context, call *action.Call, in ListTicketsInput) (ListOutput, error) {
	p := in.Params
	var errs []deskconn.FieldError
	errs = append(errs, checkEnumList("/params/include", p.Include, ticketIncludeList, 0)...)
	errs = append(errs, checkEnumList("/params/fields", p.Fields, nil, 30)...)
	errs = append(errs, checkEnumList("/params/priority", p.Priority, nil, 20)...)
	for i, a := range p.Assignee {
		if a != "Unassigned" && !isID(a) {
			errs = append(errs, deskconn.FieldError{Pointer: "/params/assignee/" + itoa(i), Code: "invalid", Message: "must be an agent id (list_agents) or Unassigned"})
		}
	}
	for i, a := range p.TeamIDs {
		if a != "Unassigned" && !isID(a) {
			errs = append(errs, deskconn.FieldError{Pointer: "/params/teamIds/" + itoa(i), Code: "invalid", Message: "must be a team id (list_teams) or Unassigned"})
		}
	}
	if err := invalid(errs); err != nil {
		return ListOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return ListOutput{}, err
	}
	sortBy := listSortBy(p.SortBy, in.SortOrder)
	opts := &zohodesk.TicketListOptions{
		DepartmentID: p.DepartmentID, TeamIDs: p.TeamIDs.Join(), Assignee: p.Assignee.Join(),
		Channel: p.Channel.Join(), Status: p.Status.Join(), Priority: p.Priority.Join(),
		SortBy: sortBy, Include: p.Include.Join(), Fields: p.Fields.Join(),
	}
	if p.ReceivedInDays != 0 {
		opts.ReceivedInDays = itoa(p.ReceivedInDays)
	}
	row := func(raw json.RawMessage) json.RawMessage {
		if in.View == "full" {
			return raw
		}
		return project(raw, compactKeys)
	}
	if !in.All {
		limit := pageLimit(p.Limit, zohodesk.MaxLimitTickets)
		opts.ListOptions = zohodesk.ListOptions{From: p.From, Limit: limit}
		// Pages need only Zoho's objects as they came: they are not
		// decoded (all: true reads only the ids it de-duplicates by).
		items, _, err := call.Desk.Tickets.ListRaw(ctx, org, opts)
		if err != nil {
			return ListOutput{}, err
		}
		return pageOf(items, row, p.From, limit), nil
	}
	return listAllTickets(ctx, call, org, *opts, p.From, row)
}

// listSortBy is the sortBy list_tickets always sends. Zoho lists tickets
// newest first when no sortBy is sent (fidelity audit row 1: recorded
// desk.zoho.com answers), while list_tickets documents ascending as its
// default; an explicit key makes the documented order the one Zoho returns,
// whatever Zoho's default. Without a key the order is by creation
// ("createdTime", or "-createdTime" for sortOrder "-"/"desc"). The spec's
// sortOrder only becomes the "-" prefix: it is never sent as a query
// parameter, which Zoho refuses with 422 "Extra query parameter 'sortOrder'"
// (audit row 22).
func listSortBy(sortBy, sortOrder string) string {
	if sortBy == "" {
		sortBy = "createdTime"
	}
	return sortPrefix(sortBy, sortOrder)
}

// appendOnly reports whether tickets created during a walk in order sortBy
// can only come after every ticket that existed when it started, so that
// offset pages never shift: creation order, ascending.
func appendOnly(sortBy string) bool {
	return sortBy == "createdTime" || sortBy == "ticketNumber"
}

// listAllTickets walks every page of opts from from, in the order of
// opts.SortBy, up to maxListAll distinct tickets; the cap keeps the start
// of that order (the oldest tickets ascending, the newest descending).
//
// Offset pages shift when tickets are inserted in front of the offset, so:
//   - in an append-only order (createdTime or ticketNumber ascending) new
//     tickets come after every existing one and never shift a page; up to
//     listAllParallel pages are in flight while earlier ones are read (the
//     first page of a walk from 0 alone, since most lists fit in it), and
//     the client's per-org limiter bounds what is in flight;
//   - in any other order pages are fetched one after another, so a ticket
//     created during the walk can only push rows to a later page: they are
//     seen twice, never skipped, and the second copy is dropped by id.
//
// In both, rows are de-duplicated by id and the output's walk says what
// was done. A ticket trashed during the walk, or one whose sort key
// changes (dueDate, recentThread...), can still shift rows the other way:
// no offset walk can prevent that, and the note says so.
func listAllTickets(ctx context.Context, call *action.Call, org string, opts zohodesk.TicketListOptions, from int, row func(json.RawMessage) json.RawMessage) (ListOutput, error) {
	walk := &ListWalk{Order: opts.SortBy, Parallel: appendOnly(opts.SortBy)}
	switch {
	case walk.Parallel:
		walk.Note = "Tickets created during the walk come after all others in this order, so no row was skipped or repeated; they are included when the walk reached them."
	case strings.TrimPrefix(opts.SortBy, "-") == "createdTime" || strings.TrimPrefix(opts.SortBy, "-") == "ticketNumber":
		walk.Note = "Pages were read one after another: tickets created during the walk push older rows to later pages, which were de-duplicated by id; no existing ticket was skipped, and tickets created after the walk started may be missing."
	default:
		walk.Note = "Pages were read one after another and de-duplicated by id: tickets created during the walk cause no skips, but a ticket whose " + strings.TrimPrefix(opts.SortBy, "-") + " changed during the walk may be missing or out of place; for an exact snapshot sort by createdTime."
	}
	out := ListOutput{Data: []json.RawMessage{}, From: from, Limit: zohodesk.MaxLimitTickets, Walk: walk}
	seen := make(map[string]bool)
	pages := newTicketPages(ctx, call, org, opts, from)
	defer pages.close()
	for i := 0; ; i++ {
		depth := listAllParallel
		switch {
		case !walk.Parallel:
			depth = 1
		case i == 0 && from == 0:
			depth = 1 // most lists fit in their first page
		}
		// Never ask for a page past the cap.
		limit := i + max(1, (maxListAll-len(out.Data)+zohodesk.MaxLimitTickets-1)/zohodesk.MaxLimitTickets)
		items, err := pages.next(i, depth, limit)
		if err != nil {
			return ListOutput{}, err
		}
		used := 0 // rows of this page consumed (kept or dropped)
		for _, t := range items {
			if len(out.Data) == maxListAll {
				break
			}
			used++
			r := row(t) // a compact row keeps the id, and is shorter to scan
			if id := rowID(r); id != "" {
				if seen[id] {
					walk.DuplicatesDropped++
					continue
				}
				seen[id] = true
			}
			out.Data = append(out.Data, r)
		}
		from += used
		if used == len(items) && len(items) < zohodesk.MaxLimitTickets {
			break // a short page: the end
		}
		if len(out.Data) == maxListAll {
			out.HasMore, out.Truncated = true, true
			next := from
			out.NextFrom = &next
			break
		}
	}
	out.Count = len(out.Data)
	return out, nil
}

func optional(n Nullable) zohodesk.Optional[string] {
	switch {
	case !n.Set:
		return zohodesk.Optional[string]{}
	case n.Null:
		return zohodesk.Null[string]()
	}
	return zohodesk.Set(n.Value)
}

func updateTicket(ctx context.Context, call *action.Call, in UpdateTicketInput) (UpdateTicketOutput, error) {
	if err := invalid(in.check()); err != nil {
		return UpdateTicketOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return UpdateTicketOutput{}, err
	}
	p := in.Payload
	req := &zohodesk.TicketUpdateRequest{
		Subject: optional(p.Subject), DepartmentID: optional(p.DepartmentID), ContactID: optional(p.ContactID),
		Email: optional(p.Email), Phone: optional(p.Phone), Description: optional(p.Description),
		Status: optional(p.Status), Priority: optional(p.Priority), Channel: optional(p.Channel),
		Classification: optional(p.Classification), Category: optional(p.Category), SubCategory: optional(p.SubCategory),
		AssigneeID: optional(p.AssigneeID), TeamID: optional(p.TeamID), ProductID: optional(p.ProductID),
		DueDate: optional(p.DueDate), Language: optional(p.Language), Resolution: optional(p.Resolution),
		CF: p.CF, Uploads: p.Uploads, Extra: map[string]any{},
	}
	if p.WebURL.Set {
		req.Extra["webUrl"] = p.WebURL.wireValue()
	}
	if p.Contact != nil {
		req.Extra["contact"] = p.Contact
	}
	if p.SecondaryContacts != nil {
		req.Extra["secondaryContacts"] = []string(p.SecondaryContacts)
	}
	if p.EntitySkills != nil {
		req.Extra["entitySkills"] = []string(p.EntitySkills)
	}
	id, err := resolveTicket(ctx, call, org, in.TicketSelector)
	if err != nil {
		return UpdateTicketOutput{}, err
	}
	fields := make([]string, 0, len(p.body()))
	for k := range p.body() {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	// Whether Zoho answers a trashed ticket with 404 or with 200 and
	// "isTrashed": true is unknown (fidelity audit row 6). In the second
	// case a PATCH would edit the trashed ticket, and its answer tells only
	// afterwards, so the ticket is read first: one GET, 1 credit (the weight
	// recorded for a get), before the PATCH. A ticket resolved by search was
	// live a moment ago, but search may lag (item 2), so it is checked too.
	if err := checkNotTrashed(ctx, call, org, in.TicketSelector, id); err != nil {
		return UpdateTicketOutput{}, err
	}
	if call.DryRun {
		plan := action.PlannedRequest{Method: "PATCH", Path: "/tickets/" + id, Header: orgHeader(org), Body: req}
		if in.Params.DisableClosureNotification {
			plan.Query = map[string][]string{"disableClosureNotification": {"true"}}
		}
		return UpdateTicketOutput{}, call.Plan(plan)
	}
	t, resp, err := call.Desk.Tickets.Update(ctx, org, id, req, &zohodesk.TicketUpdateOptions{DisableClosureNotification: in.Params.DisableClosureNotification})
	if resp != nil {
		call.SetRequestID(resp.RequestID)
	}
	if err != nil {
		return UpdateTicketOutput{}, ticketNotFound(err, in.TicketSelector, id)
	}
	call.Updated("ticket", t.ID, t.ModifiedTime)
	if t.IsTrashed {
		// Moved to the trash between the check and the PATCH: Zoho applied
		// the change, but the ticket must not be reported as live.
		call.SetDetail("ticket " + t.ID + " updated while in the trash")
		e := ticketTrashed(in.TicketSelector, id)
		e.Message = "ticket " + id + " was moved to the trash while it was being updated; Zoho applied the change to the trashed ticket. Restore it from the trash in Zoho Desk to use it"
		return UpdateTicketOutput{}, e
	}
	call.SetDetail("ticket " + t.ID + " updated")
	return UpdateTicketOutput{
		TicketOutput: ticketOutput(t), UpdatedFields: fields,
		ClosureNotificationEnabled: !in.Params.DisableClosureNotification,
	}, nil
}

// resolveTicket returns the id of the ticket a selector names. A ticketId is
// returned as is (the following call reports a missing ticket); a number or
// subject is looked up with Zoho's search and matched exactly, then, when
// that finds nothing, among the newest tickets by list (see findTicket).
func resolveTicket(ctx context.Context, call *action.Call, org string, s TicketSelector) (string, error) {
	switch {
	case s.TicketID != "":
		return s.TicketID, nil
	case s.TicketNumber != "":
		// A number never changes, so a search hit needs no check.
		return findTicket(ctx, call, org, "/ticketNumber", &zohodesk.TicketSearchOptions{TicketNumber: s.TicketNumber},
			func(t *zohodesk.Ticket) bool { return t.TicketNumber == s.TicketNumber }, false, "number "+s.TicketNumber)
	default:
		subject := strings.TrimSpace(s.TicketSubject)
		return findTicket(ctx, call, org, "/ticketSubject", &zohodesk.TicketSearchOptions{Subject: subject},
			func(t *zohodesk.Ticket) bool { return strings.EqualFold(strings.TrimSpace(t.Subject), subject) }, true, "subject "+quote(subject))
	}
}

// maxSubjectHits bounds how many search hits a subject lookup reads.
const maxSubjectHits = 500

// recentFallbackPages is how many pages of the newest tickets (by
// createdTime, 100 a page) findTicket reads when search finds nothing: the
// newest 200 tickets, 2 list calls (3 credits each, the recorded weight of
// a list).
const recentFallbackPages = 2

// maxVerifiedHits is how many search hits findTicket re-reads to check that
// their current values still match (1 credit each).
const maxVerifiedHits = 5

// findTicket returns the one ticket match accepts. Zoho's search index lags
// behind writes (fidelity audit row 2: new and changed tickets appear in
// /tickets/search only after a delay of no documented length), so a ticket
// created or changed a moment ago is missing from search, or found by its
// old values:
//   - with recheck (a subject, which can change), up to maxVerifiedHits
//     search hits are read again with GET, and a hit whose current values no
//     longer match is dropped;
//   - when no hit is left, the newest tickets by list (recentFallbackPages
//     pages by -createdTime, which sees every write at once) are matched
//     before answering not_found, and the message says what was searched.
//
// A ticket renamed a moment ago that is older than the newest 200 is not
// found until search catches up: the message says so. [I]
func findTicket(ctx context.Context, call *action.Call, org, ptr string, opts *zohodesk.TicketSearchOptions, match func(*zohodesk.Ticket) bool, recheck bool, what string) (string, error) {
	var hits []*zohodesk.Ticket
	n := 0
	for t, err := range call.Desk.Tickets.SearchAll(ctx, org, opts) {
		if err != nil {
			return "", err
		}
		if match(t) {
			hits = append(hits, t)
		}
		if n++; n >= maxSubjectHits {
			break
		}
	}
	if recheck && len(hits) <= maxVerifiedHits {
		var current []*zohodesk.Ticket
		for _, h := range hits {
			t, _, err := call.Desk.Tickets.Get(ctx, org, h.ID, nil)
			switch {
			case errors.Is(err, zohodesk.ErrNotFound):
				continue // trashed or deleted since it was indexed
			case err != nil:
				return "", err
			case !t.IsTrashed && match(t):
				current = append(current, t)
			}
		}
		hits = current
	}
	if len(hits) == 0 {
		var err error
		if hits, err = recentTickets(ctx, call, org, match); err != nil {
			return "", err
		}
	}
	switch len(hits) {
	case 0:
		return "", &deskconn.Error{Code: deskconn.CodeNotFound,
			Message: "no ticket has the " + what + ": searched Zoho's ticket search and the newest " + itoa(recentFallbackPages*zohodesk.MaxLimitTickets) +
				" tickets by creation time (search can lag a few minutes behind new and changed tickets); find tickets with search_tickets or list_tickets, or select the ticket by ticketId",
			Fields: []deskconn.FieldError{{Pointer: ptr, Code: "invalid", Message: "matches no ticket"}}}
	case 1:
		return hits[0].ID, nil
	}
	e := &deskconn.Error{Code: deskconn.CodeAmbiguous,
		Message: itoa(len(hits)) + " tickets have the " + what + "; choose one and send its ticketId",
		Fields:  []deskconn.FieldError{{Pointer: ptr, Code: "invalid", Message: "matches several tickets"}}}
	for _, t := range hits {
		e.Candidates = append(e.Candidates, deskconn.Candidate{ID: t.ID, Label: "#" + t.TicketNumber + " " + t.Subject, Details: "status: " + t.Status})
	}
	return "", e
}

// recentTickets returns the tickets match accepts among the newest
// recentFallbackPages pages by creation time.
func recentTickets(ctx context.Context, call *action.Call, org string, match func(*zohodesk.Ticket) bool) ([]*zohodesk.Ticket, error) {
	var hits []*zohodesk.Ticket
	for page := range recentFallbackPages {
		opts := &zohodesk.TicketListOptions{SortBy: "-createdTime",
			ListOptions: zohodesk.ListOptions{From: page * zohodesk.MaxLimitTickets, Limit: zohodesk.MaxLimitTickets}}
		items, _, err := call.Desk.Tickets.List(ctx, org, opts)
		if err != nil {
			return nil, err
		}
		for _, t := range items {
			if match(t) && !slices.ContainsFunc(hits, func(h *zohodesk.Ticket) bool { return h.ID == t.ID }) {
				hits = append(hits, t)
			}
		}
		if len(items) < zohodesk.MaxLimitTickets {
			break
		}
	}
	return hits, nil
}

// ticketNotFound turns a 404 for a ticket into not_found naming the
// selector; other errors pass through. Zoho may answer 404 for a trashed
// ticket (fidelity audit row 6), so the message says both.
func ticketNotFound(err error, s TicketSelector, id string) error {
	if !errors.Is(err, zohodesk.ErrNotFound) {
		return err
	}
	return &deskconn.Error{Code: deskconn.CodeNotFound, Err: err,
		Message: "ticket " + id + " does not exist or is in the trash; find tickets with search_tickets or list_tickets",
		Fields:  []deskconn.FieldError{{Pointer: s.pointer(), Code: "invalid", Message: "no such ticket"}}}
}

// ticketTrashed is the error for a ticket Zoho returned with "isTrashed":
// true. It is not_found, the class of the 404 Zoho may send instead, so a
// trashed ticket reads the same whichever Zoho does: an action on it must
// not go ahead as if it were live, and the message says where it is.
func ticketTrashed(s TicketSelector, id string) *deskconn.Error {
	return &deskconn.Error{Code: deskconn.CodeNotFound,
		Message: "ticket " + id + " is in the trash; restore it from the trash in Zoho Desk to use it",
		Fields:  []deskconn.FieldError{{Pointer: s.pointer(), Code: "invalid", Message: "ticket is in the trash"}}}
}

// checkNotTrashed reads ticket id and fails with not_found when it is
// missing or in the trash.
func checkNotTrashed(ctx context.Context, call *action.Call, org string, s TicketSelector, id string) error {
	t, _, err := call.Desk.Tickets.Get(ctx, org, id, nil)
	if err != nil {
		return ticketNotFound(err, s, id)
	}
	if t.IsTrashed {
		return ticketTrashed(s, id)
	}
	return nil
}

func quote(s string) string { return "\"" + s + "\"" }

func moveToTrash(ctx context.Context, deps Deps, call *action.Call, in MoveTicketsToTrashInput) (MoveTicketsToTrashOutput, error) {
	if err := invalid(in.check()); err != nil {
		return MoveTicketsToTrashOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return MoveTicketsToTrashOutput{}, err
	}
	p := in.Payload
	var ids []string
	add := func(id string) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range p.TicketIDs {
		add(id)
	}
	for i, n := range p.TicketNumbers {
		id, err := resolveTicket(ctx, call, org, TicketSelector{TicketNumber: n})
		if err != nil {
			return MoveTicketsToTrashOutput{}, repoint(err, "/payload/ticketNumbers/"+itoa(i))
		}
		add(id)
	}
	for i, s := range p.TicketSubjects {
		id, err := resolveTicket(ctx, call, org, TicketSelector{TicketSubject: s})
		if err != nil {
			return MoveTicketsToTrashOutput{}, repoint(err, "/payload/ticketSubjects/"+itoa(i))
		}
		add(id)
	}
	var batches [][]string
	for b := range slices.Chunk(ids, trashBatch) {
		batches = append(batches, b)
	}
	if call.DryRun {
		var plan []action.PlannedRequest
		for _, b := range batches {
			plan = append(plan, action.PlannedRequest{Method: "POST", Path: "/tickets/moveToTrash", Header: orgHeader(org), Body: map[string]any{"ticketIds": b}})
		}
		return MoveTicketsToTrashOutput{}, call.Plan(plan...)
	}
	out := MoveTicketsToTrashOutput{Moved: []string{}}
	for _, b := range batches {
		resp, err := call.Desk.Tickets.MoveToTrash(ctx, org, b)
		if resp != nil {
			call.SetRequestID(resp.RequestID)
		}
		switch {
		case err == nil:
			out.Moved = append(out.Moved, b...)
		case len(out.Moved) == 0 && len(out.Failed) == 0 && !itemError(err):
			// Nothing happened yet and the failure is not about these
			// tickets (auth, rate limit, Zoho down): report it as the error.
			return MoveTicketsToTrashOutput{}, err
		case itemError(err) && len(b) > 1:
			// A bad id fails the whole batch. Zoho names the bad ones
			// (/ticketIds/N) when it can: those fail, the rest are sent
			// again together. Otherwise each id is sent alone to find them.
			bad := badIndexes(err, len(b))
			var rest []string
			for i, id := range b {
				if bad[i] {
					out.Failed = append(out.Failed, trashFailure(id, err))
				} else {
					rest = append(rest, id)
				}
			}
			singles := [][]string{rest}
			if len(bad) == 0 {
				singles = nil
				for _, id := range rest {
					singles = append(singles, []string{id})
				}
			}
			for _, s := range singles {
				if len(s) == 0 {
					continue
				}
				resp, err := call.Desk.Tickets.MoveToTrash(ctx, org, s)
				if resp != nil {
					call.SetRequestID(resp.RequestID)
				}
				if err != nil {
					for _, id := range s {
						out.Failed = append(out.Failed, trashFailure(id, err))
					}
				} else {
					out.Moved = append(out.Moved, s...)
				}
			}
		default:
			for _, id := range b {
				out.Failed = append(out.Failed, trashFailure(id, err))
			}
		}
	}
	out.Success = len(out.Failed) == 0
	out.MovedAt = deps.now().Format(time.RFC3339Nano)
	call.SetDetail(itoa(len(out.Moved)) + " ticket(s) moved to trash, " + itoa(len(out.Failed)) + " failed")
	return out, nil
}

// badIndexes returns the indexes of a batch that Zoho's field errors name
// (fieldName "/ticketIds/N"); empty when it names none.
func badIndexes(err error, n int) map[int]bool {
	bad := map[int]bool{}
	var ae *zohodesk.APIError
	if !errors.As(err, &ae) {
		return bad
	}
	for _, f := range ae.Fields {
		rest, ok := strings.CutPrefix(f.Pointer, "/ticketIds/")
		if !ok {
			continue
		}
		if i, err := strconv.Atoi(rest); err == nil && i >= 0 && i < n {
			bad[i] = true
		}
	}
	return bad
}

// itemError reports whether err is about the items of the request (a bad
// or unknown id) rather than about the call as a whole.
func itemError(err error) bool {
	return errors.Is(err, zohodesk.ErrInvalid) || errors.Is(err, zohodesk.ErrNotFound)
}

func trashFailure(id string, err error) TrashFailure {
	f := TrashFailure{TicketID: id, Code: string(zohoCode(err)), Message: "could not be moved to the trash"}
	var ae *zohodesk.APIError
	if errors.As(err, &ae) && ae.Message != "" {
		f.Message = ae.Message
	}
	var te *zohodesk.TransportError
	if errors.As(err, &te) && te.MaybeSent {
		f.Message = "Zoho Desk did not answer; the ticket may or may not have been moved (check with get_ticket)"
	}
	return f
}

// zohoCode classifies a zohodesk error into a domain code, for per-item
// results (whole-call errors are mapped by the registry).
func zohoCode(err error) deskconn.Code {
	switch {
	case errors.Is(err, zohodesk.ErrNotFound):
		return deskconn.CodeNotFound
	case errors.Is(err, zohodesk.ErrInvalid), errors.Is(err, zohodesk.ErrTooLarge):
		return deskconn.CodeInvalid
	case errors.Is(err, zohodesk.ErrForbidden):
		return deskconn.CodeForbidden
	case errors.Is(err, zohodesk.ErrUnauthorized):
		return deskconn.CodeUnauthenticated
	case errors.Is(err, zohodesk.ErrRateLimited):
		return deskconn.CodeRateLimited
	}
	return deskconn.CodeUnavailable
}

// repoint moves the field pointers of a selector error to ptr.
func repoint(err error, ptr string) error {
	var e *deskconn.Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Fields = make([]deskconn.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		f.Pointer = ptr
		c.Fields[i] = f
	}
	return &c
}

var (
	blockTags = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/li|/h[1-6]|/tr)\s*/?>`)
	anyTag    = regexp.MustCompile(`(?s)<[^>]*>`)
	blankRuns = regexp.MustCompile(`\n[ \t]*\n(?:[ \t]*\n)+`)
)

// htmlToText renders Zoho's HTML description as plain text: line breaks for
// block ends, tags dropped, entities decoded.
func htmlToText(s string) string {
	if s == "" {
		return ""
	}
	s = blockTags.ReplaceAllString(s, "\n")
	s = anyTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = strings.ReplaceAll(s, "\u00a0", " ")
	s = blankRuns.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}

// idKey is the one member rowID looks for.
var idKey = newKeySet("id")

// rowID returns the string value of the object's top-level "id" member (""
// when raw is not an object, has no such member, or its value is not a
// string); of a member given twice, the last, as decoding would. raw is
// valid JSON (a row the client decoded, or its projection). It finds the
// member with the byte scan project uses, and falls back to segmentio's
// tokenizer for what that scan declines (an escaped key) and to decoding
// for an escaped value. A value without escapes is taken as its bytes:
// invalid UTF-8 in it is not replaced (ids are digits; the same bytes
// give the same id, which is what de-duplication needs).
func rowID(raw json.RawMessage) string {
	var sp spans
	if !scanMembers(raw, idKey, &sp) {
		sp = spans{}
		if !tokenizeMembers(raw, idKey, &sp) {
			return ""
		}
	}
	s := sp[0]
	if s[1] == 0 || raw[s[0]] != '"' {
		return ""
	}
	v := raw[s[0]:s[1]]
	if !bytes.ContainsRune(v, '\\') {
		return string(v[1 : len(v)-1])
	}
	var id string
	if segjson.Unmarshal(v, &id) != nil {
		return ""
	}
	return id
}
