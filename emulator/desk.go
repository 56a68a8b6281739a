package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// route is one Desk endpoint with its contract.
type route struct {
	method  string
	pattern []string // path segments after /api/v1; "{x}" binds a variable
	// scopes: every group must be satisfied by one of its scopes.
	scopes [][]string
	params []string // allowed query parameters besides orgId
	noOrg  bool     // GET /organizations needs no orgId
	// orgOptional: without orgId the token's org is used; with it, it
	// must match the token (GET /accessibleOrganizations).
	orgOptional bool
	// weight is the API credits a call costs: 1 by default; paged (list
	// and search) routes cost listWeight(from). Recorded live
	// x-rate-limit-request-weight-v3 headers (NANGO-REC, audit row 29):
	// get 1, create 1, list 3, search 3, moveToTrash 6.
	weight int
	paged  bool
	// multipart routes take a multipart/form-data body with a "file" part
	// (capped by MaxAttachmentBytes); other POST/PATCH routes take JSON
	// (capped by MaxBodyBytes).
	multipart bool
	h         func(c *call)
}

// call is one authenticated Desk request.
type call struct {
	e    *Emulator
	r    *http.Request
	out  *resp
	dc   DataCenter
	tok  *accessToken
	org  *org // nil for noOrg routes
	vars map[string]string
	q    url.Values
	now  time.Time

	// The request body, read by readRequestBody before the state lock is
	// taken so that a slow client never blocks other requests. Handlers
	// report bodyErr (or file.err) at the point where they need the body,
	// which keeps Zoho's order of checks (404 before 413, and so on).
	body    []byte
	bodyErr error
	file    filePart
}

func (c *call) agentID() string {
	if c.org == nil {
		return ""
	}
	if a := c.org.agentByEmail(c.tok.User); a != nil {
		return a.ID
	}
	return ""
}

// layoutID is the id of the org's one (standard) layout: numeric like
// every Zoho id.
func (c *call) layoutID() string { return c.org.ID + "000000001" }

// deskBase is how the client reaches Desk in this DC ("https://desk.zoho.eu").
func (c *call) deskBase() string { return c.e.baseURL(c.r, c.dc, false) }

func rt(method, path string, scopes [][]string, params string, h func(*call)) route {
	var ps []string
	if params != "" {
		ps = strings.Split(params, ",")
	}
	return route{method: method, pattern: strings.Split(strings.Trim(path, "/"), "/"), scopes: scopes, params: ps, weight: 1, h: h}
}

func anyOf(scopes ...string) []string { return scopes }

func (e *Emulator) deskRoutes() []route {
	basicR := [][]string{anyOf("Desk.basic.READ", "Desk.settings.READ")}
	agentR := [][]string{anyOf("Desk.agents.READ", "Desk.basic.READ", "Desk.settings.READ")}
	list := func(r route) route { r.weight, r.paged = 3, true; return r }
	weighs := func(w int, r route) route { r.weight = w; return r }
	multipart := func(r route) route { r.multipart = true; return r }
	orgs := rt("GET", "organizations", [][]string{anyOf("Desk.basic.READ", "Desk.organization.READ", "Desk.settings.READ")}, "", e.listOrganizations)
	orgs.noOrg = true
	// [GAP] The Desk docs make orgId mandatory on every endpoint except GET
	// /organizations (facts §2.1), but Zoho's OAS marks it optional here and
	// the endpoint exists to find the org a fresh token is bound to, so a
	// missing orgId means the token's org.
	accessible := rt("GET", "accessibleOrganizations", [][]string{anyOf("Desk.basic.READ", "Desk.organization.READ", "Desk.settings.READ")}, "", e.accessibleOrganizations)
	accessible.orgOptional = true
	return []route{
		orgs,
		accessible,
		list(rt("GET", "departments", [][]string{anyOf("Desk.basic.READ", "Desk.departments.READ", "Desk.settings.READ")}, "isEnabled,from,limit,searchStr,chatStatus", e.listDepartments)),
		list(rt("GET", "teams", [][]string{anyOf("Desk.basic.READ", "Desk.settings.READ", "Desk.teams.READ")}, "from,limit", e.listTeams)),
		list(rt("GET", "products", [][]string{anyOf("Desk.products.READ", "Desk.settings.READ")}, "from,limit,departmentId,ownerId,sortBy,fields,include", e.listProducts)),
		list(rt("GET", "roles", [][]string{anyOf("Desk.basic.READ", "Desk.permissions.READ", "Desk.settings.READ")}, "from,limit,isVisible,isDefault,searchStr", e.listRoles)),
		list(rt("GET", "profiles", [][]string{anyOf("Desk.basic.READ", "Desk.permissions.READ", "Desk.settings.READ")}, "default,visible,searchStr,from,limit,fields", e.listProfiles)),
		rt("GET", "myinfo", basicR, "include", e.myInfo),
		list(rt("GET", "contacts", [][]string{anyOf("Desk.contacts.READ")}, "from,limit,sortBy,include,fields", e.listContacts)),
		list(rt("GET", "contacts/search", [][]string{anyOf("Desk.contacts.READ"), anyOf("Desk.search.READ")}, "from,limit,id,fullName,firstName,lastName,email,phone,mobile,_all,sortBy", e.searchContacts)),
		rt("POST", "contacts", [][]string{anyOf("Desk.contacts.CREATE")}, "", e.createContact),
		rt("GET", "contacts/{id}", [][]string{anyOf("Desk.contacts.READ")}, "include", e.getContact),
		// Contacts, accounts and the knowledge base (handlers_accounts.go,
		// handlers_kb.go; scopes from OAS-Contact, -Account, -Article,
		// -KBRootCategory and -Search).
		rt("PATCH", "contacts/{id}", [][]string{anyOf("Desk.contacts.UPDATE")}, "", e.updateContact),
		rt("POST", "contacts/moveToTrash", [][]string{anyOf("Desk.contacts.DELETE")}, "", e.moveContactsToTrash),
		list(rt("GET", "contacts/{id}/tickets", [][]string{anyOf("Desk.contacts.READ"), anyOf("Desk.tickets.READ")}, "from,limit,include,departmentId,sortBy,isSpam", e.listContactTickets)),
		list(rt("GET", "accounts", [][]string{anyOf("Desk.contacts.READ")}, "from,limit,sortBy", e.listAccounts)),
		list(rt("GET", "accounts/search", [][]string{anyOf("Desk.contacts.READ"), anyOf("Desk.search.READ")}, "from,limit,id,accountName,_all,sortBy", e.searchAccounts)),
		rt("POST", "accounts", [][]string{anyOf("Desk.contacts.CREATE")}, "", e.createAccount),
		rt("GET", "accounts/{id}", [][]string{anyOf("Desk.contacts.READ")}, "include", e.getAccount),
		rt("PATCH", "accounts/{id}", [][]string{anyOf("Desk.contacts.UPDATE")}, "", e.updateAccount),
		list(rt("GET", "accounts/{id}/contacts", [][]string{anyOf("Desk.contacts.READ")}, "from,limit,sortBy,isSpam", e.listAccountContacts)),
		list(rt("GET", "articles", [][]string{anyOf("Desk.articles.READ")}, "from,limit,categoryId,status,permission,sortBy", e.listArticles)),
		list(rt("GET", "articles/search", [][]string{anyOf("Desk.articles.READ"), anyOf("Desk.search.READ")}, "from,limit,_all,title,categoryId,departmentId,sortBy", e.searchArticles)),
		rt("GET", "articles/{id}", [][]string{anyOf("Desk.articles.READ")}, "", e.getArticle),
		list(rt("GET", "kbRootCategories", [][]string{anyOf("Desk.articles.READ")}, "from,limit,sortBy", e.listKBRootCategories)),
		rt("GET", "kbRootCategories/{id}/categoryTree", [][]string{anyOf("Desk.articles.READ")}, "sortBy,includeTrash", e.kbCategoryTree),
		list(rt("GET", "tickets", [][]string{anyOf("Desk.tickets.READ")}, "from,limit,departmentId,departmentIds,assignee,teamIds,channel,status,priority,receivedInDays,sortBy,include,fields", e.listTickets)),
		rt("POST", "tickets", [][]string{anyOf("Desk.tickets.CREATE")}, "", e.createTicket),
		list(rt("GET", "tickets/search", [][]string{anyOf("Desk.tickets.READ"), anyOf("Desk.search.READ")}, "from,limit,id,ticketNumber,subject,description,_all,email,phone,contactName,contactId,productId,productName,departmentId,assigneeId,status,priority,channel,category,createdTimeRange,modifiedTimeRange,sortBy", e.searchTickets)),
		weighs(6, rt("POST", "tickets/moveToTrash", [][]string{anyOf("Desk.tickets.DELETE")}, "", e.moveToTrash)),
		rt("GET", "tickets/{id}", [][]string{anyOf("Desk.tickets.READ")}, "include", e.getTicket),
		rt("PATCH", "tickets/{id}", [][]string{anyOf("Desk.tickets.UPDATE")}, "disableClosureNotification", e.updateTicket),
		// [I] OAS lists Desk.tickets.UPDATE; the docs may say CREATE: accept either.
		multipart(rt("POST", "tickets/{id}/attachments", [][]string{anyOf("Desk.tickets.UPDATE", "Desk.tickets.CREATE")}, "isPublic", e.createAttachment)),
		list(rt("GET", "tickets/{id}/attachments", [][]string{anyOf("Desk.tickets.READ")}, "from,limit,isPublic,sortBy,include", e.listAttachments)),
		rt("GET", "tickets/{id}/attachments/{att}/content", [][]string{anyOf("Desk.tickets.READ")}, "", e.attachmentContent),
		multipart(rt("POST", "uploads", [][]string{anyOf("Desk.basic.CREATE")}, "", e.upload)),
		list(rt("GET", "agents", agentR, "from,limit,status,departmentIds,profileIds,roleIds,rolePermissionType,isConfirmed,isLightAgent,include,searchStr,fieldName,sortOrder", e.listAgents)),
		rt("POST", "agents", [][]string{anyOf("Desk.settings.CREATE", "Desk.basic.CREATE", "Desk.agents.CREATE")}, "", e.addAgent),
		rt("POST", "agents/activate", [][]string{anyOf("Desk.settings.UPDATE", "Desk.basic.UPDATE", "Desk.agents.UPDATE")}, "", e.activateAgents),
		rt("GET", "agents/email/{email}", agentR, "include", e.agentByEmail),
		rt("GET", "agents/count", agentR, "status,isConfirmed,includeLightAgent", e.countAgents),
		rt("GET", "agents/{id}", agentR, "include", e.getAgent),
		// Working a ticket (handlers_threads.go, handlers_comments.go).
		list(rt("GET", "tickets/{id}/threads", [][]string{anyOf("Desk.tickets.READ")}, "from,limit,sortBy", e.listThreads)),
		rt("GET", "tickets/{id}/threads/{thread}", [][]string{anyOf("Desk.tickets.READ")}, "include", e.getThread),
		rt("GET", "tickets/{id}/threads/{thread}/fullContent", [][]string{anyOf("Desk.tickets.READ")}, "", e.getThreadFullContent),
		list(rt("GET", "tickets/{id}/conversations", [][]string{anyOf("Desk.tickets.READ")}, "from,limit", e.listConversations)),
		rt("POST", "tickets/{id}/sendReply", [][]string{anyOf("Desk.tickets.UPDATE")}, "isPrivate,sendImmediately", e.sendReply),
		rt("POST", "tickets/{id}/draftReply", [][]string{anyOf("Desk.tickets.UPDATE")}, "", e.draftReply),
		rt("PATCH", "tickets/{id}/draftReply/{thread}", [][]string{anyOf("Desk.tickets.UPDATE")}, "", e.updateDraft),
		list(rt("GET", "tickets/{id}/comments", [][]string{anyOf("Desk.tickets.READ")}, "from,limit,sortBy,include", e.listComments)),
		rt("POST", "tickets/{id}/comments", [][]string{anyOf("Desk.tickets.UPDATE")}, "", e.createComment),
		rt("PATCH", "tickets/{id}/comments/{comment}", [][]string{anyOf("Desk.tickets.UPDATE")}, "", e.updateComment),
		rt("DELETE", "tickets/{id}/comments/{comment}", [][]string{anyOf("Desk.tickets.UPDATE")}, "", e.deleteComment),
		rt("GET", "tickets/{id}/tags", [][]string{anyOf("Desk.tickets.READ")}, "", e.listTicketTags),
		rt("POST", "tickets/{id}/associateTag", [][]string{anyOf("Desk.tickets.CREATE")}, "", e.associateTags),
		rt("POST", "tickets/{id}/dissociateTag", [][]string{anyOf("Desk.tickets.CREATE")}, "", e.dissociateTags),
		list(rt("GET", "tickets/{id}/timeEntry", [][]string{anyOf("Desk.tickets.READ")}, "from,limit,billStatus,orderBy,module,include,createdTimeRange,modifiedTimeRange", e.listTimeEntries)),
		rt("POST", "tickets/{id}/timeEntry", [][]string{anyOf("Desk.tickets.UPDATE")}, "", e.createTimeEntry),
		// [GAP] not in Zoho's OAS; path and parameters per N-D29 [D].
		list(rt("GET", "tickets/{id}/History", [][]string{anyOf("Desk.tickets.READ")}, "from,limit,fieldName,eventFilter", e.listHistory)),
		// [D] PD; not in Zoho's OAS.
		rt("GET", "supportEmailAddress", [][]string{anyOf("Desk.settings.READ", "Desk.basic.READ")}, "departmentId,from,limit", e.listSupportAddresses),
		rt("POST", "agents/{id}/deactivate", [][]string{anyOf("Desk.settings.UPDATE", "Desk.basic.UPDATE", "Desk.agents.UPDATE")}, "", e.deactivateAgent),
	}
}

// match finds the route for path segs; methodOK is false when only the
// method differs.
func (e *Emulator) match(method string, segs []string) (rt *route, vars map[string]string, pathOK bool) {
	for i := range e.routes {
		r := &e.routes[i]
		if len(r.pattern) != len(segs) {
			continue
		}
		v := map[string]string{}
		ok := true
		for j, p := range r.pattern {
			if strings.HasPrefix(p, "{") {
				if segs[j] == "" {
					ok = false
					break
				}
				v[strings.Trim(p, "{}")] = segs[j]
			} else if p != segs[j] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		pathOK = true
		if r.method == method {
			return r, v, true
		}
	}
	return nil, nil, pathOK
}

func (e *Emulator) serveDesk(out *resp, r *http.Request, dc DataCenter, fault *Fault) {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v1/"), "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	rt, vars, pathOK := e.match(r.Method, segs)
	if rt == nil {
		if pathOK {
			writeZohoError(out, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "", nil)
			return
		}
		notFound(out)
		return
	}
	c := &call{e: e, r: r, out: out, dc: dc, vars: vars, q: r.URL.Query()}

	// 1. Token. Live Zoho answers a request without an Authorization
	// header with 401 UNAUTHORIZED and a token it does not know with 401
	// INVALID_OAUTH (LIVE-PROBE, audit row 16); only the second one is a
	// reason to refresh.
	authz := r.Header.Get("Authorization")
	if authz == "" {
		writeZohoError(out, http.StatusUnauthorized, "UNAUTHORIZED", "", nil)
		return
	}
	raw, ok := strings.CutPrefix(authz, "Zoho-oauthtoken ")
	e.mu.Lock()
	c.now = e.now()
	tok := e.st.access[strings.TrimSpace(raw)]
	if !ok || tok == nil || !c.now.Before(tok.Expires) || tok.Location != dc.Location {
		e.mu.Unlock()
		writeZohoError(out, http.StatusUnauthorized, "INVALID_OAUTH", "", nil)
		return
	}
	t := *tok
	c.tok = &t
	// 2. Scope: 403 SCOPE_MISMATCH, as live desk.zoho.in answers
	// (SCOPE-REPORT, audit row 18).
	for _, group := range rt.scopes {
		if !hasAnyScope(t.Scopes, group) {
			e.mu.Unlock()
			writeZohoError(out, http.StatusForbidden, "SCOPE_MISMATCH", "", nil)
			return
		}
	}
	// 3. orgId required, 4. bound to the token.
	if !rt.noOrg {
		orgID := orgIDOf(r)
		if orgID == "" && rt.orgOptional {
			orgID = t.OrgID
		}
		if orgID == "" {
			e.mu.Unlock()
			// [GAP] Zoho's answer to a missing orgId is undocumented.
			unprocessable(out, "The orgId header is mandatory for this request.")
			return
		}
		if orgID != t.OrgID {
			e.mu.Unlock()
			// [GAP] status undocumented; 403 like DEX.
			writeZohoError(out, http.StatusForbidden, "OAUTH_ORG_MISMATCH", "", nil)
			return
		}
		c.org = e.st.orgs[orgID]
	}
	limitOrg := c.org
	if limitOrg == nil {
		limitOrg = e.st.orgs[t.OrgID]
	}
	// 5. Requests within the time window (off unless Options.WindowRequests
	// is set). A refused request costs no credits.
	if !e.windowAdmitLocked(limitOrg, c.now) {
		e.mu.Unlock()
		writeZohoError(out, http.StatusTooManyRequests, codeWindow, messageWindow, nil)
		return
	}
	// 6. Daily credits.
	weight := rt.weight
	if rt.paged {
		weight = listWeight(c.q.Get("from"))
	}
	day := c.now.Format("2006-01-02")
	if limitOrg.creditDay != day {
		limitOrg.creditDay, limitOrg.creditUsed = day, 0
	}
	budget := e.creditBudget(limitOrg)
	if limitOrg.creditUsed+weight > budget {
		e.mu.Unlock()
		writeZohoError(out, http.StatusTooManyRequests, "THRESHOLD_EXCEEDED", "", nil)
		next := c.now.Truncate(24 * time.Hour).Add(24 * time.Hour)
		out.header.Set("Retry-After", strconv.Itoa(int(next.Sub(c.now).Seconds())+1))
		out.header.Set("X-Rate-Limit-Remaining-v3", strconv.Itoa(max(budget-limitOrg.creditUsed, 0)))
		return
	}
	limitOrg.creditUsed += weight
	remaining := budget - limitOrg.creditUsed
	edition := limitOrg.Edition
	orgKey := limitOrg.ID
	e.mu.Unlock()
	out.header.Set("X-Rate-Limit-Request-Weight-v3", strconv.Itoa(weight))
	out.header.Set("X-Rate-Limit-Remaining-v3", strconv.Itoa(remaining))

	// 7. Concurrency (held until the handler returns).
	sem := e.semaphore(orgKey, edition)
	select {
	case sem <- struct{}{}:
		defer func() { <-sem }()
	default:
		writeZohoError(out, http.StatusTooManyRequests, codeConcurrency, messageConcurrency, nil)
		return
	}
	fault.sleep(r) // injected latency holds the concurrency slot
	// 8. Unknown query parameters.
	for k := range c.q {
		if k != "orgId" && !contains(rt.params, k) {
			unprocessable(out, fmt.Sprintf("An extra parameter '%s' is found", k))
			return
		}
	}
	// 9. The body, read without the state lock: only validation and
	// storage happen under it.
	c.readRequestBody(rt)
	func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		rt.h(c)
	}()
	if build := out.deferred; build != nil {
		out.deferred = nil
		build(out) // encoding, without the state lock
	}
}

// listWeight is the credit cost of a list call by `from` (§2.5).
func listWeight(from string) int {
	n, _ := strconv.Atoi(from)
	switch {
	case n <= 2000:
		return 3
	case n <= 10000:
		return 5
	case n <= 50000:
		return 10
	case n <= 100000:
		return 50
	}
	return 100
}

var editionLimits = map[string]struct{ base, perAgent, concurrent int }{
	"FREE": {5000, 0, 5}, "EXPRESS": {25000, 100, 10}, "STANDARD": {50000, 250, 10},
	"PROFESSIONAL": {75000, 500, 15}, "ENTERPRISE": {100000, 1000, 25}, "ZOHOONE": {100000, 1000, 25},
}

func (e *Emulator) creditBudget(o *org) int {
	if e.opts.DailyCredits > 0 {
		return e.opts.DailyCredits
	}
	l := editionLimits[o.Edition]
	n := 0
	for _, a := range o.agentOrder {
		if a.Status == "ACTIVE" && !a.IsLight {
			n++
		}
	}
	return l.base + n*l.perAgent
}

// concurrencyLimit is the number of concurrent Desk calls an org of
// edition may make.
func (e *Emulator) concurrencyLimit(edition string) int {
	n := e.opts.MaxConcurrent
	if n <= 0 {
		n = editionLimits[edition].concurrent
	}
	if n <= 0 {
		n = 5
	}
	return n
}

func (e *Emulator) semaphore(orgID, edition string) chan struct{} {
	if s, ok := e.sems.Load(orgID); ok {
		return s.(chan struct{})
	}
	s, _ := e.sems.LoadOrStore(orgID, make(chan struct{}, e.concurrencyLimit(edition)))
	return s.(chan struct{})
}

var scopeGroups = map[string]bool{}

func init() {
	for _, g := range strings.Split("tickets,contacts,basic,settings,search,products,tasks,activities,calls,events,articles,community,feeds,zia,extensions,integrations,phonebridge,agents,teams,departments,organization,permissions,webhooks,imports,exports", ",") {
		scopeGroups[strings.ToLower(g)] = true
	}
}

// validScope reports whether s is Desk.<group>.<OP> with a known group.
func validScope(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || !strings.EqualFold(parts[0], "Desk") || !scopeGroups[strings.ToLower(parts[1])] {
		return false
	}
	switch strings.ToUpper(parts[2]) {
	case "READ", "CREATE", "UPDATE", "DELETE", "ALL":
		return true
	}
	return false
}

// hasAnyScope reports whether granted covers one of want; Desk.x.ALL covers
// all four operations of group x. Comparison is case-insensitive.
func hasAnyScope(granted, want []string) bool {
	for _, w := range want {
		wg, _, _ := strings.Cut(strings.ToLower(strings.TrimPrefix(strings.ToLower(w), "desk.")), ".")
		for _, g := range granted {
			gl := strings.ToLower(g)
			if gl == strings.ToLower(w) || gl == "desk."+wg+".all" {
				return true
			}
		}
	}
	return false
}

// ---- query helpers ---------------------------------------------------

// paging reads from (0-based) and limit (1..maxLimit, default def). A
// zeroAll endpoint treats limit=0 as "all". It writes the 422 and returns
// false on bad values.
func (c *call) paging(def, maxLimit int, zeroAll bool) (from, limit int, ok bool) {
	from, limit = 0, def
	if v := c.q.Get("from"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			unprocessable(c.out, "The value passed for the 'from' query parameter is invalid.")
			return 0, 0, false
		}
		from = n
	}
	if v := c.q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n > maxLimit || n < 0 || (n == 0 && !zeroAll) {
			unprocessable(c.out, "The value passed for the 'limit' query parameter is invalid.")
			return 0, 0, false
		}
		limit = n
	}
	if zeroAll && limit == 0 {
		limit = int(^uint(0) >> 1)
	}
	return from, limit, true
}

// boolParam reads an optional boolean parameter.
func (c *call) boolParam(name string) (val, set, ok bool) {
	v := c.q.Get(name)
	if v == "" {
		return false, false, true
	}
	b, err := strconv.ParseBool(v)
	if err != nil || (v != "true" && v != "false") {
		unprocessable(c.out, fmt.Sprintf("The value passed for the '%s' query parameter is invalid.", name))
		return false, false, false
	}
	return b, true, true
}

// listParam splits a comma list; at most maxN values (0 = unlimited).
func (c *call) listParam(name string, maxN int) ([]string, bool) {
	v := c.q.Get(name)
	if v == "" {
		return nil, true
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if maxN > 0 && len(out) > maxN {
		unprocessable(c.out, fmt.Sprintf("The value passed for the '%s' query parameter is invalid.", name))
		return nil, false
	}
	return out, true
}

// enumParam checks a single value against allowed.
func (c *call) enumParam(name string, allowed ...string) (string, bool) {
	v := c.q.Get(name)
	if v == "" || contains(allowed, v) {
		return v, true
	}
	unprocessable(c.out, fmt.Sprintf("The value passed for the '%s' query parameter is invalid.", name))
	return "", false
}

// includeParam validates include ⊆ allowed.
func (c *call) includeParam(allowed ...string) (map[string]bool, bool) {
	vals, ok := c.listParam("include", 0)
	if !ok {
		return nil, false
	}
	m := map[string]bool{}
	for _, v := range vals {
		if !contains(allowed, v) {
			unprocessable(c.out, "The value passed for the 'include' query parameter is invalid.")
			return nil, false
		}
		m[v] = true
	}
	return m, true
}

// page writes {"data": items[from:from+limit]} or 204.
func writePage(out *resp, items []any, extra map[string]any) {
	if len(items) == 0 {
		out.noContent(http.StatusNoContent)
		return
	}
	body := map[string]any{"data": items}
	for k, v := range extra {
		body[k] = v
	}
	out.json(http.StatusOK, body)
}

// window returns the [from, from+limit) slice bounds for n items.
func window(n, from, limit int) (int, int) {
	if from >= n {
		return n, n
	}
	end := n
	if limit < n-from {
		end = from + limit
	}
	return from, end
}

// wildcard matches Zoho search syntax: "abc*" prefix, "*abc*" contains,
// "abc" exact (case-insensitive).
func wildcard(pattern, s string) bool {
	p, v := strings.ToLower(pattern), strings.ToLower(s)
	switch {
	case strings.HasPrefix(p, "*") && strings.HasSuffix(p, "*") && len(p) >= 2:
		return strings.Contains(v, strings.Trim(p, "*"))
	case strings.HasSuffix(p, "*"):
		return strings.HasPrefix(v, strings.TrimSuffix(p, "*"))
	}
	return p == v
}
