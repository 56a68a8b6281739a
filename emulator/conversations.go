package emulator

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file holds the work done on tickets: threads, comments, tags, time
// entries and history. It lives beside the ticket itself (org.work) and is
// materialised per ticket on first use, so a ticket's conversation matches
// its seeded threadCount and commentCount without costing memory for the
// 100k-ticket scale tests that never read one.

// DemoThreadTicketID is the seeded ticket with a hand-written conversation
// (see SEED.md): incoming e-mails with quoted history and a signature, an
// agent reply, a forwarded thread, private and public comments, and an
// attachment on a thread.
const DemoThreadTicketID = "1892000000042032"

type thread struct {
	ID, TicketID, Channel, Status, Direction, Visibility string
	Content, ContentType                                 string // text/html or text/plain
	From, To, Cc, Bcc                                    string
	IsForward, IsDescription                             bool
	AuthorID, AuthorType, AuthorName, AuthorEmail        string // AuthorType END_USER or AGENT
	RespondedIn                                          string
	Created                                              time.Time
	Attachments                                          []*threadAttachment
}

type threadAttachment struct {
	ID, Name string
	Size     int
}

type comment struct {
	ID, TicketID, Content, ContentType, CommenterID string
	IsPublic                                        bool
	Commented, Modified                             time.Time
}

type tagDef struct {
	ID, Name, DepartmentID, Type string
}

type timeEntry struct {
	ID, TicketID, OwnerID, CreatedBy, Description string
	Hours, Minutes, Seconds                       int
	IsBillable                                    bool
	Executed, Created                             time.Time
}

type historyInfo struct {
	Name, Previous, Updated string
}

type historyEvent struct {
	Name, Source                  string
	ActorID, ActorName, ActorType string
	Time                          time.Time
	Info                          []historyInfo
}

type supportAddress struct {
	ID, Address, DisplayName, DepartmentID string
	IsDefault                              bool
}

// ticketWork is everything done on one ticket.
type ticketWork struct {
	threads  []*thread // creation order (oldest first)
	comments []*comment
	tagIDs   []string
	time     []*timeEntry
	history  []*historyEvent
}

// orgWork is the work state of an org, created on first use.
type orgWork struct {
	tickets   map[string]*ticketWork
	tags      map[string]*tagDef // by id
	addresses []*supportAddress
}

func (o *org) workState() *orgWork {
	if o.work == nil {
		o.work = &orgWork{tickets: map[string]*ticketWork{}, tags: map[string]*tagDef{}}
		// Ids derive from the department's, so materialising this state never
		// shifts the ids later creations get.
		for i, d := range o.departments {
			local := strings.ToLower(strings.ReplaceAll(d.Name, " ", ""))
			if d.IsDefault {
				local = "support"
			}
			o.work.addresses = append(o.work.addresses, &supportAddress{ID: fmt.Sprintf("%s%03d", d.ID, 1), DepartmentID: d.ID, IsDefault: true,
				Address: local + "@" + o.Portal + ".zohodesk.com", DisplayName: o.Name + " " + d.Name})
			if i == 0 {
				// A second, non-default address of the default department.
				o.work.addresses = append(o.work.addresses, &supportAddress{ID: fmt.Sprintf("%s%03d", d.ID, 2), DepartmentID: d.ID,
					Address: "help@" + o.Portal + ".com", DisplayName: o.Name + " Help"})
			}
		}
	}
	return o.work
}

// ticketWork returns t's work, synthesising the seeded conversation on
// first use. now is the time of the call (used only for the demo ticket's
// relative times).
func (o *org) ticketWork(t *ticket) *ticketWork {
	ws := o.workState()
	if w := ws.tickets[t.ID]; w != nil {
		return w
	}
	w := &ticketWork{}
	ws.tickets[t.ID] = w
	if t.ID == DemoThreadTicketID && o.ID == DemoOrgID {
		o.seedDemoConversation(t, w)
	} else {
		o.seedConversation(t, w)
	}
	return w
}

func (o *org) customerOf(t *ticket) (id, name, email string) {
	if c := o.contacts[t.ContactID]; c != nil {
		return c.ID, c.fullName(), c.Email
	}
	return "", "Customer", t.Email
}

func (o *org) defaultAddress(deptID string) *supportAddress {
	for _, a := range o.workState().addresses {
		if a.DepartmentID == deptID && a.IsDefault {
			return a
		}
	}
	if as := o.workState().addresses; len(as) > 0 {
		return as[0]
	}
	return nil
}

// seedConversation gives a synthetic ticket threadCount threads (ids are
// the ticket id + "1" + index, comments + "2" + index)
// (alternating customer and agent, the first being the description) and
// commentCount private comments.
func (o *org) seedConversation(t *ticket, w *ticketWork) {
	cid, cname, cemail := o.customerOf(t)
	from := ""
	if a := o.defaultAddress(t.DepartmentID); a != nil {
		from = a.Address
	}
	agentID := t.AssigneeID
	if agentID == "" {
		agentID = t.CreatedBy
	}
	ag := o.agents[agentID]
	channel := strings.ToUpper(t.Channel)
	if channel == "CHAT" {
		channel = "ONLINE_CHAT"
	}
	for i := range t.ThreadCount {
		th := &thread{ID: fmt.Sprintf("%s1%02d", t.ID, i), TicketID: t.ID, Channel: channel, Status: "SUCCESS", Visibility: "public",
			ContentType: "text/html", Created: t.Created.Add(time.Duration(i) * 5 * time.Minute)}
		if i%2 == 0 {
			th.Direction, th.AuthorID, th.AuthorType, th.AuthorName, th.AuthorEmail = "in", cid, "END_USER", cname, cemail
			th.From, th.To = cemail, from
			th.Content = fmt.Sprintf("<div>%s</div><div>Ticket %s, message %d from the customer.</div>", htmlEscape(t.Subject), t.number(), i+1)
			th.IsDescription = i == 0
		} else {
			th.Direction, th.From, th.To = "out", from, cemail
			th.AuthorType = "AGENT"
			if ag != nil {
				th.AuthorID, th.AuthorName, th.AuthorEmail = ag.ID, ag.name(), ag.Email
			}
			th.Content = fmt.Sprintf("<div>Hello %s,</div><div>we are looking into it.</div>", htmlEscape(cname))
			th.RespondedIn = "00:05:00"
		}
		if channel != "EMAIL" {
			th.From, th.To = "", ""
		}
		w.threads = append(w.threads, th)
	}
	for i := range t.CommentCount {
		w.comments = append(w.comments, &comment{ID: fmt.Sprintf("%s2%02d", t.ID, i), TicketID: t.ID, Content: "Internal note: checked the account.",
			ContentType: "plainText", CommenterID: agentID, Commented: t.Created.Add(time.Duration(i+1) * 3 * time.Minute)})
	}
	w.history = append(w.history, &historyEvent{Name: "TicketCreated", Source: sourceOf(t.Channel), ActorID: cid, ActorName: cname, ActorType: "Contact", Time: t.Created})
}

func sourceOf(channel string) string {
	switch channel {
	case "Email":
		return "Email"
	case "Chat":
		return "Chat"
	case "Web":
		return "WebForm"
	case "Twitter":
		return "Twitter"
	case "Facebook":
		return "Facebook"
	case "Forums":
		return "Forum"
	}
	return ""
}

// seedDemoConversation writes the hand-made conversation of the demo
// ticket: 4 threads, a draft and 2 comments (t.ThreadCount and
// t.CommentCount are set to match in seedZylker).
func (o *org) seedDemoConversation(t *ticket, w *ticketWork) {
	cid, cname, cemail := o.customerOf(t)
	jade := o.agents[DemoAgentID]
	addr := o.defaultAddress(DemoDepartmentID).Address
	at := func(min int) time.Time { return t.Created.Add(time.Duration(min) * time.Minute) }
	w.threads = []*thread{
		{ID: "1892000000090001", TicketID: t.ID, Channel: "EMAIL", Status: "SUCCESS", Direction: "in", Visibility: "public", ContentType: "text/html",
			From: cemail, To: addr, IsDescription: true, AuthorID: cid, AuthorType: "END_USER", AuthorName: cname, AuthorEmail: cemail, Created: at(0),
			Content: `<div>Hello,</div><div>I cannot access my account since this morning. The login page says "account locked".</div>` +
				`<div>Screenshot attached.</div><div><br></div><div class="gmail_signature">Lucas Carol<br>Zylker Customer Inc.<br>+1 555 0100</div>`,
			Attachments: []*threadAttachment{{ID: "1892000000091001", Name: "login-error.png", Size: 48213}}},
		{ID: "1892000000090002", TicketID: t.ID, Channel: "EMAIL", Status: "SUCCESS", Direction: "out", Visibility: "public", ContentType: "text/html",
			From: addr, To: cemail, AuthorID: jade.ID, AuthorType: "AGENT", AuthorName: jade.name(), AuthorEmail: jade.Email, Created: at(30), RespondedIn: "00:30:00",
			Content: `<div>Hi Lucas,</div><div>I have unlocked your account. Please try again and reset your password at <a href="https://accounts.zylker.com/reset">the reset page</a>.</div>` +
				`<div>Best regards,<br>Jade</div><blockquote>On Monday Lucas Carol wrote: I cannot access my account...</blockquote>`},
		{ID: "1892000000090003", TicketID: t.ID, Channel: "EMAIL", Status: "SUCCESS", Direction: "in", Visibility: "public", ContentType: "text/html",
			From: cemail, To: addr, AuthorID: cid, AuthorType: "END_USER", AuthorName: cname, AuthorEmail: cemail, Created: at(90),
			Content: `<div>Thanks, the reset worked but now I see error E-17 when I open the dashboard.</div>` +
				`<div class="zmail_extra"><div>---- On Mon, Jade Tywin wrote ----</div><div>Hi Lucas, I have unlocked your account.</div></div>`},
		{ID: "1892000000090004", TicketID: t.ID, Channel: "EMAIL", Status: "SUCCESS", Direction: "out", Visibility: "private", ContentType: "text/html",
			From: addr, To: "engineering@zylker.com", IsForward: true, AuthorID: jade.ID, AuthorType: "AGENT", AuthorName: jade.name(), AuthorEmail: jade.Email, Created: at(100),
			Content: `<div>Engineering, can you check dashboard error E-17 for this customer?</div><div>---------- Forwarded message ----------</div><div>Thanks, the reset worked but now I see error E-17.</div>`},
	}
	// A reply draft waiting for review (drafts are listed by /threads but
	// not counted in threadCount nor shown in /conversations).
	w.threads = append(w.threads, &thread{ID: "1892000000090005", TicketID: t.ID, Channel: "EMAIL", Status: "DRAFT", Direction: "out", Visibility: "public",
		ContentType: "text/html", From: `"Zylker Support"<` + addr + `>`, To: cemail, AuthorID: jade.ID, AuthorType: "AGENT", AuthorName: jade.name(),
		AuthorEmail: jade.Email, Created: at(97), Content: `<div>Hi Lucas, engineering is looking at E-17.</div>`})
	w.comments = []*comment{
		{ID: "1892000000092001", TicketID: t.ID, ContentType: "plainText", CommenterID: jade.ID, Commented: at(95),
			Content: "zsu[@user:60000001]zsu E-17 looks like the dashboard cache bug, can you confirm?"},
		{ID: "1892000000092002", TicketID: t.ID, ContentType: "html", CommenterID: AdminAgentID, IsPublic: true, Commented: at(120),
			Content: "<div>We are tracking error E-17; a fix ships this week.</div>"},
	}
	login := &tagDef{ID: "1892000000094001", Name: "login", DepartmentID: DemoDepartmentID, Type: "MANUAL"}
	o.workState().tags[login.ID] = login
	w.tagIDs = []string{login.ID}
	w.time = []*timeEntry{{ID: "1892000000093001", TicketID: t.ID, OwnerID: jade.ID, CreatedBy: jade.ID, Description: "Unlocked the account",
		Minutes: 20, IsBillable: true, Executed: at(10), Created: at(31)}}
	w.history = []*historyEvent{
		{Name: "TicketCreated", Source: "Email", ActorID: cid, ActorName: cname, ActorType: "Contact", Time: at(0)},
		{Name: "TicketUpdated", ActorID: AdminAgentID, ActorName: "Zylker Admin", ActorType: "Agent", Time: at(5),
			Info: []historyInfo{{Name: "Assignee", Previous: "", Updated: jade.name()}, {Name: "Team", Previous: "", Updated: "Tier 1"}}},
		{Name: "ThreadAdded", ActorID: jade.ID, ActorName: jade.name(), ActorType: "Agent", Time: at(30)},
		{Name: "ThreadAdded", Source: "Email", ActorID: cid, ActorName: cname, ActorType: "Contact", Time: at(90)},
		{Name: "CommentAdded", ActorID: jade.ID, ActorName: jade.name(), ActorType: "Agent", Time: at(95)},
		{Name: "TagsAdded", ActorID: jade.ID, ActorName: jade.name(), ActorType: "Agent", Time: at(96), Info: []historyInfo{{Name: "Tags", Updated: "login"}}},
	}
}

// ensureTag returns the department's tag named name (case-insensitive),
// creating it.
func (o *org) ensureTag(deptID, name string) *tagDef {
	ws := o.workState()
	for _, tg := range ws.tags {
		if tg.DepartmentID == deptID && strings.EqualFold(tg.Name, name) {
			return tg
		}
	}
	tg := &tagDef{ID: o.newID(), Name: name, DepartmentID: deptID, Type: "MANUAL"}
	ws.tags[tg.ID] = tg
	return tg
}

// ticketTagCount is the number of tags on t, as the ticket's tagCount
// string says. A ticket whose work was never read has the tags of its
// seeded conversation only once that is synthesised; until then 0.
func (o *org) ticketTagCount(t *ticket) string {
	if o.work == nil || o.work.tickets[t.ID] == nil {
		return "0"
	}
	return strconv.Itoa(len(o.work.tickets[t.ID].tagIDs))
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// summaryOf is Zoho's list-row summary: the text of the content, at most
// 180 characters plus "..." [C NREC].
func summaryOf(content string) string {
	s := tagRE.ReplaceAllString(content, " ")
	s = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&nbsp;", " ").Replace(s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 180 {
		return string(r[:180]) + "..."
	}
	return s
}

// AddCustomerReply records an incoming e-mail from the ticket's contact, as
// if the customer had answered: threadCount and customerResponseTime move,
// and a ticket whose status is of the Closed type reopens (status Open),
// as Zoho does by default. It returns the new thread's id.
func (e *Emulator) AddCustomerReply(orgID, ticketID, content string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.st.orgs[orgID]
	if o == nil {
		return "", fmt.Errorf("emulator: no org %s", orgID)
	}
	t := o.tickets[ticketID]
	if t == nil || t.Trashed {
		return "", fmt.Errorf("emulator: no ticket %s in org %s", ticketID, orgID)
	}
	now := e.now().UTC().Truncate(time.Millisecond)
	w := o.ticketWork(t)
	cid, cname, cemail := o.customerOf(t)
	to := ""
	if a := o.defaultAddress(t.DepartmentID); a != nil {
		to = a.Address
	}
	th := &thread{ID: o.newID(), TicketID: t.ID, Channel: "EMAIL", Status: "SUCCESS", Direction: "in", Visibility: "public", ContentType: "text/html",
		From: cemail, To: to, AuthorID: cid, AuthorType: "END_USER", AuthorName: cname, AuthorEmail: cemail, Created: now, Content: content}
	// The webhook events Zoho fires for it, as for a reply made through
	// the API: Ticket_Update when the reply reopens a closed ticket, then
	// Ticket_Thread_Add.
	c := &call{e: e, org: o, now: now}
	if len(e.opts.DataCenters) > 0 {
		c.dc = e.opts.DataCenters[0] // only names the host of a long thread's fullContentURL
	}
	var prev map[string]any
	if c.webhooksOn() {
		prev = c.ticketDetail(t)
	}
	w.threads = append(w.threads, th)
	t.ThreadCount++
	t.lastOut = false
	t.CustomerResponse, t.Modified = now, now
	reopened := false
	if typ, _ := o.statusType(t.Status); typ == "Closed" {
		w.history = append(w.history, &historyEvent{Name: "TicketUpdated", Source: "IncomingResponse", ActorID: cid, ActorName: cname, ActorType: "Contact", Time: now,
			Info: []historyInfo{{Name: "Status", Previous: t.Status, Updated: "Open"}}})
		t.Status, t.Closed = "Open", time.Time{}
		reopened = true
	}
	w.history = append(w.history, &historyEvent{Name: "ThreadAdded", Source: "Email", ActorID: cid, ActorName: cname, ActorType: "Contact", Time: now})
	if reopened && prev != nil {
		c.emitWebhookEvent("Ticket_Update", c.ticketDetail(t), prev)
	}
	c.emitThreadAdd(t, th)
	return th.ID, nil
}
