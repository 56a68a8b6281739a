package emulator

import (
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// threadChannels are the thread channel values (OAS Thread).
var threadChannels = []string{"EMAIL", "PHONE", "WEB", "FACEBOOK", "TWITTER", "TWITTER_DM", "FORUMS", "FEEDBACK", "FEEDBACK_WIDGET", "ONLINE_CHAT", "OFFLINE_CHAT", "CUSTOMERPORTAL"}

// liveTicket returns the ticket named by the {id} path variable, or writes
// 404 and returns nil.
func (c *call) liveTicket() *ticket {
	t := c.org.tickets[c.vars["id"]]
	if t == nil || t.Trashed {
		notFound(c.out)
		return nil
	}
	return t
}

func (c *call) threadAuthor(th *thread) map[string]any {
	first, last := splitName(th.AuthorName)
	var photo any
	if th.AuthorType == "AGENT" && th.AuthorID != "" {
		photo = c.deskBase() + "/api/v1/agents/" + th.AuthorID + "/photo?orgId=" + c.org.ID
	}
	return map[string]any{"id": ns(th.AuthorID), "name": th.AuthorName, "firstName": ns(first), "lastName": last,
		"email": ns(th.AuthorEmail), "photoURL": photo, "type": th.AuthorType}
}

func splitName(full string) (first, last string) {
	if i := strings.LastIndex(full, " "); i > 0 {
		return full[:i], full[i+1:]
	}
	return "", full
}

func (c *call) threadAttachments(th *thread) []any {
	out := make([]any, 0, len(th.Attachments))
	for _, a := range th.Attachments {
		out = append(out, map[string]any{"id": a.ID, "name": a.Name, "size": itoa(a.Size), "previewurl": nil,
			"href": c.deskBase() + "/api/v1/tickets/" + th.TicketID + "/threads/" + th.ID + "/attachments/" + a.ID + "/content"})
	}
	return out
}

// threadRow is a list row (no content) [C NREC list-ticket-threads].
func (c *call) threadRow(th *thread) map[string]any {
	m := map[string]any{
		"id": th.ID, "channel": th.Channel, "status": th.Status, "direction": th.Direction, "visibility": th.Visibility,
		"summary": summaryOf(th.Content), "contentType": th.ContentType, "canReply": th.Direction == "in" && th.Status != "DRAFT",
		"hasAttach": len(th.Attachments) > 0, "attachmentCount": itoa(len(th.Attachments)), "author": c.threadAuthor(th),
		"isDescriptionThread": th.IsDescription, "createdTime": ts(th.Created), "respondedIn": ns(th.RespondedIn),
		"responderId": nil, "sentiment": nil, "channelRelatedInfo": nil, "impersonatedUser": nil, "readReceipts": nil,
		"source":  map[string]any{"extId": nil, "appName": nil, "appPhotoURL": nil, "permalink": nil, "type": "SYSTEM"},
		"actions": c.threadActions(th),
	}
	if th.Direction == "out" {
		m["responderId"] = ns(th.AuthorID)
	}
	if th.Channel == "EMAIL" {
		m["fromEmailAddress"], m["to"], m["cc"], m["bcc"], m["isForward"] = th.From, th.To, th.Cc, th.Bcc, th.IsForward
	}
	return m
}

func (c *call) threadActions(th *thread) []any {
	base := c.deskBase() + "/api/v1/tickets/" + th.TicketID
	switch th.Status {
	case "DRAFT":
		return []any{
			map[string]any{"method": "POST", "rel": "send", "href": base + "/sendDraft?draftThreadId=" + th.ID},
			map[string]any{"method": "DELETE", "rel": "delete", "href": base + "/draftReply/" + th.ID},
		}
	case "FAILED":
		return []any{map[string]any{"method": "POST", "rel": "send", "href": base + "/resendFailedThread?threadId=" + th.ID}}
	}
	return []any{}
}

// threadDetail is the single-thread answer: the row plus content,
// attachments and the full-content keys.
func (c *call) threadDetail(th *thread, plainText bool) map[string]any {
	m := c.threadRow(th)
	m["content"], m["attachments"], m["isContentTruncated"], m["fullContentURL"], m["replyTo"] = th.Content, c.threadAttachments(th), false, nil, nil
	if r := []rune(th.Content); len(r) > threadContentCut {
		m["content"], m["isContentTruncated"] = string(r[:threadContentCut]), true
		m["fullContentURL"] = c.deskBase() + "/api/v1/tickets/" + th.TicketID + "/threads/" + th.ID + "/fullContent"
	}
	if th.Channel == "EMAIL" {
		m["replyTo"] = nil
	}
	if plainText {
		m["plainText"] = summaryOfFull(th.Content)
	}
	return m
}

// summaryOfFull is the whole text of HTML content (no 180-char cut).
func summaryOfFull(content string) string {
	s := tagRE.ReplaceAllString(content, " ")
	s = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&nbsp;", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// fromOne returns the 0-based index of a `from` value on an endpoint that
// counts from 1 ([C NREC]: /threads returned the first thread for from=1):
// from=0 and from=1 both mean the first row.
func fromOne(from int) int { return max(from-1, 0) }

func (e *Emulator) listThreads(c *call) {
	from, limit, ok := c.paging(100, 200, false) // [D] N-D29: max 200; default [GAP]
	if !ok {
		return
	}
	sortBy, ok := c.enumParam("sortBy", "sendDateTime", "-sendDateTime")
	if !ok {
		return
	}
	t := c.liveTicket()
	if t == nil {
		return
	}
	ths := slices.Clone(c.org.ticketWork(t).threads)
	slices.SortStableFunc(ths, func(a, b *thread) int { return a.Created.Compare(b.Created) })
	if sortBy != "sendDateTime" { // newest first by default [C OAS-Thread]
		slices.Reverse(ths)
	}
	lo, hi := window(len(ths), fromOne(from), limit)
	items := make([]any, 0, hi-lo)
	for _, th := range ths[lo:hi] {
		items = append(items, c.threadRow(th))
	}
	writePage(c.out, items, nil)
}

func (c *call) findThread(t *ticket) *thread {
	for _, th := range c.org.ticketWork(t).threads {
		if th.ID == c.vars["thread"] {
			return th
		}
	}
	notFound(c.out)
	return nil
}

// threadContentCut is where GET /threads/{id} cuts long content and sets
// isContentTruncated. [GAP] Zoho documents no threshold; 50,000 characters.
const threadContentCut = 50_000

// getThreadFullContent answers like getThread with the whole content.
func (e *Emulator) getThreadFullContent(c *call) {
	t := c.liveTicket()
	if t == nil {
		return
	}
	th := c.findThread(t)
	if th == nil {
		return
	}
	m := c.threadDetail(th, false)
	m["content"], m["isContentTruncated"], m["fullContentURL"] = th.Content, false, nil
	c.out.json(http.StatusOK, m)
}

func (e *Emulator) getThread(c *call) {
	inc, ok := c.includeParam("plainText")
	if !ok {
		return
	}
	t := c.liveTicket()
	if t == nil {
		return
	}
	th := c.findThread(t)
	if th == nil {
		return
	}
	c.out.json(http.StatusOK, c.threadDetail(th, inc["plainText"]))
}

// convItem is one entry of the merged conversation.
type convItem struct {
	at time.Time
	th *thread
	cm *comment
}

func (e *Emulator) listConversations(c *call) {
	from, limit, ok := c.paging(100, 200, false) // OAS: from ≥ 0, limit 1-200, default 100
	if !ok {
		return
	}
	t := c.liveTicket()
	if t == nil {
		return
	}
	w := c.org.ticketWork(t)
	items := make([]convItem, 0, len(w.threads)+len(w.comments))
	for _, th := range w.threads {
		if th.Status != "DRAFT" {
			items = append(items, convItem{at: th.Created, th: th})
		}
	}
	for _, cm := range w.comments {
		items = append(items, convItem{at: cm.Commented, cm: cm})
	}
	// [GAP] order undocumented; newest first like /threads [I].
	slices.SortStableFunc(items, func(a, b convItem) int { return b.at.Compare(a.at) })
	lo, hi := window(len(items), from, limit)
	out := make([]any, 0, hi-lo)
	for _, it := range items[lo:hi] {
		var m map[string]any
		if it.th != nil {
			m = c.threadRow(it.th)
			m["type"] = "thread"
		} else {
			m = c.commentJSON(it.cm, false)
			m["type"] = "comment"
		}
		out = append(out, m)
	}
	writePage(c.out, out, nil)
}

// addressOf returns the bare address of "Name" <a@b> or a@b.
func addressOf(s string) (string, bool) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return "", false
	}
	return a.Address, true
}

// addressList checks a comma (or semicolon) separated address list.
func addressList(s string) bool {
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if _, ok := addressOf(p); !ok {
			return false
		}
	}
	return true
}

// replyBody is a parsed sendReply/draftReply body.
type replyBody struct {
	channel, content, contentType, from, to, cc, bcc, inReplyTo, ticketStatus string
	isForward, isPrivate                                                      bool
	attachmentIDs                                                             []string
}

// readReply parses and validates a reply body (OAS emailThreadSendReply);
// it writes the 422 and returns false on bad input. drafts allow only
// EMAIL, FACEBOOK and FORUMS.
func (c *call) readReply(t *ticket, draft bool) (*replyBody, bool) {
	b, ok := c.readJSON()
	if !ok {
		return nil, false
	}
	r := &replyBody{}
	var present bool
	r.channel, present, _ = b.str("channel", 0)
	if !present || r.channel == "" {
		b.fail("channel", "missing")
	} else if !contains(threadChannels, r.channel) || (draft && !contains([]string{"EMAIL", "FACEBOOK", "FORUMS"}, r.channel)) {
		b.fail("channel", "invalid")
	}
	r.content, present, _ = b.str("content", 16_000_000)
	if !present || r.content == "" {
		b.fail("content", "missing")
	}
	r.contentType, _, _ = b.str("contentType", 0)
	if r.contentType != "" && r.contentType != "html" && r.contentType != "plainText" {
		b.fail("contentType", "invalid")
	}
	r.from, present, _ = b.str("fromEmailAddress", 300)
	needsFrom := contains([]string{"EMAIL", "ONLINE_CHAT", "OFFLINE_CHAT", "CUSTOMERPORTAL", "FORUMS"}, r.channel)
	switch {
	case !present || r.from == "":
		if needsFrom {
			b.fail("fromEmailAddress", "missing")
		}
	default:
		// [GAP] Zoho's answer to an address that is not configured; most
		// likely 422 on /fromEmailAddress (facts part 2 §2.5 [I]).
		addr, ok := addressOf(r.from)
		if !ok || c.org.supportAddress(addr) == nil {
			b.fail("fromEmailAddress", "invalid")
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"to", &r.to}, {"cc", &r.cc}, {"bcc", &r.bcc}} {
		*f.dst, _, _ = b.str(f.name, 13000)
		if *f.dst != "" && !addressList(*f.dst) {
			b.fail(f.name, "invalid")
		}
	}
	r.isForward = b.boolean("isForward")
	r.isPrivate = b.boolean("isPrivate")
	r.inReplyTo, _, _ = b.id("inReplyToThreadId")
	r.ticketStatus, _, _ = b.str("ticketStatus", 120)
	if r.ticketStatus != "" {
		if _, ok := c.org.statusType(r.ticketStatus); !ok {
			b.fail("ticketStatus", "invalid")
		}
	}
	r.attachmentIDs, _ = b.strList("attachmentIds", 20)
	for i, id := range r.attachmentIDs {
		if c.org.uploads[id] == nil {
			b.fail(fmt.Sprintf("attachmentIds/%d", i), "invalid")
		}
	}
	b.str("sendAsEmailMode", 0)
	b.anyMap("cf")
	b.id("layoutId")
	b.rejectUnknown()
	if b.failed() {
		invalidData(c.out, *b.errs)
		return nil, false
	}
	if r.channel == "EMAIL" && r.to == "" {
		_, _, cemail := c.org.customerOf(t)
		r.to = cemail
	}
	return r, true
}

func (o *org) supportAddress(addr string) *supportAddress {
	for _, a := range o.workState().addresses {
		if strings.EqualFold(a.Address, addr) {
			return a
		}
	}
	return nil
}

// newOutgoing builds the thread a reply or draft creates.
func (c *call) newOutgoing(t *ticket, r *replyBody, status string) *thread {
	ag := c.org.agents[c.agentID()]
	th := &thread{ID: c.org.newID(), TicketID: t.ID, Channel: r.channel, Status: status, Direction: "out", Visibility: "public",
		Content: r.content, ContentType: "text/plain", To: r.to, Cc: r.cc, Bcc: r.bcc, IsForward: r.isForward,
		AuthorType: "AGENT", Created: c.now}
	if r.contentType == "html" {
		th.ContentType = "text/html"
	}
	if r.isPrivate || r.isForward { // forwarded threads are always private [C OAS]
		th.Visibility = "private"
	}
	if ag != nil {
		th.AuthorID, th.AuthorName, th.AuthorEmail = ag.ID, ag.name(), ag.Email
	}
	if r.from != "" {
		addr, _ := addressOf(r.from)
		sa := c.org.supportAddress(addr)
		th.From = `"` + sa.DisplayName + `"<` + sa.Address + `>` // display form [C NREC]
	}
	for _, id := range r.attachmentIDs {
		u := c.org.uploads[id]
		th.Attachments = append(th.Attachments, &threadAttachment{ID: c.org.newID(), Name: u.Name, Size: len(u.Data)})
	}
	return th
}

func (e *Emulator) sendReply(c *call) {
	private, _, ok := c.boolParam("isPrivate")
	if !ok {
		return
	}
	if _, _, ok := c.boolParam("sendImmediately"); !ok {
		return
	}
	t := c.liveTicket()
	if t == nil {
		return
	}
	r, ok := c.readReply(t, false)
	if !ok {
		return
	}
	r.isPrivate = r.isPrivate || private
	w := c.org.ticketWork(t)
	th := c.newOutgoing(t, r, "PENDING")
	// respondedIn: time since the latest incoming thread [C NREC].
	for i := len(w.threads) - 1; i >= 0; i-- {
		if in := w.threads[i]; in.Direction == "in" {
			d := c.now.Sub(in.Created)
			th.RespondedIn = fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
			break
		}
	}
	w.threads = append(w.threads, th)
	t.ThreadCount++
	t.lastOut = true
	t.Modified, t.ModifiedBy = c.now, th.AuthorID
	t.ResponseDueDate = time.Time{} // the customer got an answer
	ev := &historyEvent{Name: "ThreadAdded", ActorID: th.AuthorID, ActorName: th.AuthorName, ActorType: "Agent", Time: c.now}
	w.history = append(w.history, ev)
	if r.ticketStatus != "" && r.ticketStatus != t.Status {
		w.history = append(w.history, &historyEvent{Name: "TicketUpdated", ActorID: th.AuthorID, ActorName: th.AuthorName, ActorType: "Agent", Time: c.now,
			Info: []historyInfo{{Name: "Status", Previous: t.Status, Updated: r.ticketStatus}}})
		c.setStatus(t, r.ticketStatus)
	}
	c.out.header.Set("isassignmentruleapplied", "false")
	c.out.header.Set("isslaapplied", "false")
	c.out.header.Set("iswfruleapplied", "false")
	c.out.json(http.StatusOK, c.threadDetail(th, false))
	th.Status = "SUCCESS" // the queued mail goes out right after [I]
	c.emitThreadAdd(t, th)
}

// setStatus changes t's status and its closed/on-hold times.
func (c *call) setStatus(t *ticket, status string) {
	typ, _ := c.org.statusType(status)
	t.Status = status
	t.Closed, t.Onhold = time.Time{}, time.Time{}
	switch typ {
	case "Closed":
		t.Closed = c.now
	case "On Hold":
		t.Onhold = c.now
	}
}

func (e *Emulator) draftReply(c *call) {
	t := c.liveTicket()
	if t == nil {
		return
	}
	r, ok := c.readReply(t, true)
	if !ok {
		return
	}
	th := c.newOutgoing(t, r, "DRAFT")
	w := c.org.ticketWork(t)
	w.threads = append(w.threads, th)
	c.out.json(http.StatusOK, c.threadDetail(th, false))
}

func (e *Emulator) updateDraft(c *call) {
	t := c.liveTicket()
	if t == nil {
		return
	}
	th := c.findThread(t)
	if th == nil {
		return
	}
	if th.Status != "DRAFT" {
		// [GAP] Zoho's answer for a thread that is not a draft.
		unprocessable(c.out, "The thread is not a draft.")
		return
	}
	r, ok := c.readReply(t, true)
	if !ok {
		return
	}
	nt := c.newOutgoing(t, r, "DRAFT")
	nt.ID, nt.Created = th.ID, th.Created
	*th = *nt
	c.out.json(http.StatusOK, c.threadDetail(th, false))
}

func (e *Emulator) listSupportAddresses(c *call) {
	from, limit, ok := c.paging(50, 100, false)
	if !ok {
		return
	}
	dept := c.q.Get("departmentId")
	if dept != "" && c.org.department(dept) == nil {
		unprocessable(c.out, "The value passed for the 'departmentId' query parameter is invalid.")
		return
	}
	var list []*supportAddress
	for _, a := range c.org.workState().addresses {
		if dept == "" || a.DepartmentID == dept {
			list = append(list, a)
		}
	}
	lo, hi := window(len(list), fromOne(from), limit)
	items := make([]any, 0, hi-lo)
	for _, a := range list[lo:hi] {
		items = append(items, map[string]any{"id": a.ID, "address": a.Address, "displayName": a.DisplayName,
			"departmentId": a.DepartmentID, "isDefault": a.IsDefault, "isVerified": true})
	}
	writePage(c.out, items, nil)
}

// emitThreadAdd emits Ticket_Thread_Add for a thread just added to t.
// The payload is the thread with its ticketId, as Zoho's webhook payloads
// name the ticket [D N-D29].
func (c *call) emitThreadAdd(t *ticket, th *thread) {
	if !c.webhooksOn() {
		return
	}
	m := c.threadDetail(th, false)
	m["ticketId"], m["departmentId"] = t.ID, t.DepartmentID
	c.emitWebhookEvent("Ticket_Thread_Add", m, nil)
}
