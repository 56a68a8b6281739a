package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// ---- knowledge base: JSON shapes ----------------------------------------

func (c *call) personJSON(id string) any {
	a := c.org.agents[id]
	if a == nil {
		return nil
	}
	return map[string]any{"id": a.ID, "name": a.name(), "photoURL": nil, "status": a.Status, "zuid": ns(a.ZUID)}
}

func (c *call) articleURLs(a *article) (webURL, portalURL string) {
	base := c.deskBase()
	return base + "/support/" + c.org.Portal + "/ShowHomePage.do#Solutions/dv/" + a.ID + "/en",
		base + "/portal/" + c.org.Portal + "/en/kb/articles/" + a.Permalink
}

// articleSearchJSON is an article as a search row (OAS
// searchSolutionResponseFields: a closed object).
func (c *call) articleSearchJSON(a *article) map[string]any {
	web, portal := c.articleURLs(a)
	cat := c.org.kb.categories[a.CategoryID]
	return map[string]any{
		"id": a.ID, "title": a.Title, "summary": ns(a.Summary), "status": a.Status, "latestVersionStatus": a.Status,
		"permission": a.Permission, "categoryId": a.CategoryID, "rootCategoryId": cat.RootID,
		"category": map[string]any{"id": cat.ID, "name": cat.Name},
		"author":   c.authorJSON(a.AuthorID), "authorId": a.AuthorID, "creatorId": a.AuthorID, "modifierId": a.AuthorID,
		"createdTime": ts(a.Created), "modifiedTime": ts(a.Modified), "permalink": a.Permalink,
		"webUrl": web, "portalUrl": portal, "latestVersion": "1.0", "latestPublishedVersion": publishedVersion(a),
		"likeCount": "0", "dislikeCount": "0", "viewCount": "0", "feedbackCount": "0", "usageCount": "0",
	}
}

// authorJSON is the {id, name, photoURL} author of a search row.
func (c *call) authorJSON(id string) any {
	a := c.org.agents[id]
	if a == nil {
		return nil
	}
	return map[string]any{"id": a.ID, "name": a.name(), "photoURL": nil}
}

func publishedVersion(a *article) any {
	if a.Status == "Published" {
		return "1.0"
	}
	return nil
}

// articleListJSON is an article as a GET /articles row (no answer [C NREC]).
func (c *call) articleListJSON(a *article) map[string]any {
	m := c.articleSearchJSON(a)
	cat := c.org.kb.categories[a.CategoryID]
	m["category"] = map[string]any{"id": cat.ID, "name": cat.Name, "locale": "en"}
	m["author"], m["owner"], m["createdBy"], m["modifiedBy"], m["latestVersionModifiedBy"] =
		c.personJSON(a.AuthorID), c.personJSON(a.AuthorID), c.personJSON(a.AuthorID), c.personJSON(a.AuthorID), c.personJSON(a.AuthorID)
	m["ownerId"], m["latestVersionModifierId"], m["departmentId"] = a.AuthorID, a.AuthorID, a.DepartmentID
	m["locale"], m["sourceLocale"], m["translationId"], m["translationState"] = "en", "en", a.ID, "UP-TO-DATE"
	m["translationSource"] = nil
	m["availableLocaleTranslations"] = []any{}
	m["attachmentCount"], m["commentCount"], m["position"], m["articleNumber"] = "0", "0", itoa(a.Number), itoa(a.Number)
	m["isLocked"], m["isTemplate"], m["isTrashed"] = false, false, false
	m["templateLastUpdatedTime"], m["templateUsageCount"], m["templateUsedUsersCount"] = nil, "0", "0"
	return m
}

// articleDetailJSON is an article as GET /articles/{id} answers it, with
// its answer (HTML).
func (c *call) articleDetailJSON(a *article) map[string]any {
	m := c.articleListJSON(a)
	delete(m, "articleNumber")
	m["answer"], m["tags"], m["attachments"] = a.Answer, strs(a.Tags), []any{}
	m["currentVersion"], m["expiryDate"], m["isFollowing"], m["myVote"] = "1.0", nil, false, nil
	m["reviewedBy"], m["reviewedTime"] = nil, nil
	m["seo"] = map[string]any{"title": nil, "description": nil, "keywords": nil, "isEnabled": false}
	m["metrics"] = map[string]any{"likeCount": "0", "dislikeCount": "0", "unlikeCount": "0", "viewCount": "0", "feedbackCount": "0",
		"usageCount": "0", "templateUsageCount": "0", "lastActivityTime": nil, "lastUsageTime": nil}
	return m
}

func (c *call) rootCategoryJSON(r *kbCategory) map[string]any {
	status := "SHOW_IN_HELPCENTER"
	if r.Visibility == "AGENTS" {
		status = "HIDE_IN_HELPCENTER"
	}
	return map[string]any{
		"id": r.ID, "name": r.Name, "description": ns(r.Description), "order": itoa(r.Order), "status": status,
		"visibility": r.Visibility, "articleViewType": "LISTVIEW", "associatedDepartmentIds": []any{DemoDepartmentID},
		"primaryDepartmentId": DemoDepartmentID, "helpcenterId": c.org.ID + "000000002", "canCurrentUserModerate": true,
		"createdBy": c.personJSON(AdminAgentID), "modifiedBy": c.personJSON(AdminAgentID),
		"createdTime": nil, "modifiedTime": nil, "encryptedWorkspaceId": nil, "workspaceId": nil,
		"feedbackTicketConversionPreference": nil, "groups": []any{}, "isFollowing": false, "isReviewEnabled": false,
		"isTrashed": false, "logoUrl": nil, "moderationType": "NONE", "translations": []any{},
	}
}

func (c *call) categoryTreeJSON(k *kbCategory) map[string]any {
	status := "SHOW_IN_HELPCENTER"
	if k.Visibility == "AGENTS" {
		status = "HIDE_IN_HELPCENTER"
	}
	children := make([]any, 0, len(k.children))
	for _, ch := range k.children {
		children = append(children, c.categoryTreeJSON(ch))
	}
	m := map[string]any{
		"id": k.ID, "name": k.Name, "description": ns(k.Description), "level": itoa(k.Level), "order": itoa(k.Order),
		"parentCategoryId": ns(k.ParentID), "rootCategoryId": k.RootID, "status": status, "visibility": k.Visibility,
		"locale": "en", "logoUrl": nil, "isFollowing": false, "isTrashed": false, "children": children,
		"translations": []any{},
	}
	if k.ParentID == "" {
		m["canCurrentUserModerate"], m["moderationType"] = true, "NONE"
	}
	return m
}

// ---- knowledge base: handlers -------------------------------------------

// inCategory reports whether category id is cat or nested under it.
func (kb *knowledgeBase) inCategory(id, cat string) bool {
	for k := kb.categories[id]; k != nil; k = kb.categories[k.ParentID] {
		if k.ID == cat {
			return true
		}
		if k.ParentID == "" {
			return false
		}
	}
	return false
}

// searchArticles models GET /articles/search (OAS-Search):
//   - _all (3..1000 characters): every word must occur, ignoring case, in
//     the title, summary, answer text or tags [I: Zoho's full-text rules
//     are undocumented];
//   - title: Zoho's wildcard syntax (exact, "abc*" prefix, "*abc*"
//     contains), ignoring case;
//   - categoryId: the category or any category nested under it [I];
//     departmentId: the article's department;
//   - every status and permission is searched (the agent API sees drafts
//     and agents-only articles [I]); trashed articles are not;
//   - sortBy relevance (default): title matches first, then newest
//     modifiedTime [I]; modifiedTime / createdTime, "-" descending;
//   - from 0-based up to SearchMaxFrom, limit 1..100 (default 10); count is
//     a JSON number; no hit is 204.
func (e *Emulator) searchArticles(c *call) {
	from, limit, ok := c.paging(10, 100, false)
	if !ok {
		return
	}
	if from > e.opts.SearchMaxFrom {
		unprocessable(c.out, "The value passed for the 'from' query parameter is invalid.")
		return
	}
	all, title := c.q.Get("_all"), c.q.Get("title")
	if n := len([]rune(all)); c.q.Has("_all") && (n < 3 || n > 1000) {
		unprocessable(c.out, "The value passed for the '_all' query parameter is invalid.")
		return
	}
	sortBy, ok := c.enumParam("sortBy", "relevance", "modifiedTime", "-modifiedTime", "createdTime", "-createdTime")
	if !ok {
		return
	}
	cat, dept := c.q.Get("categoryId"), c.q.Get("departmentId")
	words := strings.Fields(strings.ToLower(all))
	type hit struct {
		a     *article
		score int
	}
	var hits []hit
	for _, a := range c.org.kb.articles {
		if a.Trashed || (cat != "" && !c.org.kb.inCategory(a.CategoryID, cat)) || (dept != "" && a.DepartmentID != dept) {
			continue
		}
		if title != "" && !wildcard(title, a.Title) {
			continue
		}
		score, match := 0, true
		lt := strings.ToLower(a.Title + " " + a.Summary + " " + strings.Join(a.Tags, " "))
		for _, w := range words {
			switch {
			case strings.Contains(strings.ToLower(a.Title), w):
				score += 2
			case strings.Contains(lt, w) || strings.Contains(a.text, w):
				score++
			default:
				match = false
			}
		}
		if match {
			hits = append(hits, hit{a, score})
		}
	}
	key := strings.TrimPrefix(sortBy, "-")
	slices.SortStableFunc(hits, func(x, y hit) int {
		switch key {
		case "createdTime":
			return x.a.Created.Compare(y.a.Created)
		case "modifiedTime":
			return x.a.Modified.Compare(y.a.Modified)
		}
		if x.score != y.score {
			return y.score - x.score
		}
		return y.a.Modified.Compare(x.a.Modified)
	})
	if strings.HasPrefix(sortBy, "-") {
		slices.Reverse(hits)
	}
	lo, hi := window(len(hits), from, limit)
	items := make([]any, 0, hi-lo)
	for _, h := range hits[lo:hi] {
		items = append(items, c.articleSearchJSON(h.a))
	}
	writePage(c.out, items, map[string]any{"count": len(hits)})
}

// listArticles models GET /articles: from is 1-based (0 and 1 both mean
// the first row), limit 1..50 (default 50 [I]); filters categoryId (the
// category itself only), status, permission; newest createdTime first
// unless sortBy says otherwise [I].
func (e *Emulator) listArticles(c *call) {
	from, limit, ok := c.pagingFrom1(50, 50)
	if !ok {
		return
	}
	status, ok1 := c.enumParam("status", "Draft", "Published", "Review", "Expired", "Unpublished")
	perm, ok2 := c.enumParam("permission", "ALL", "REGISTEREDUSERS", "AGENTS")
	sortBy, ok3 := c.enumParam("sortBy", "createdTime", "-createdTime", "modifiedTime", "-modifiedTime")
	if !ok1 || !ok2 || !ok3 {
		return
	}
	cat := c.q.Get("categoryId")
	var list []*article
	for i := len(c.org.kb.articles) - 1; i >= 0; i-- {
		a := c.org.kb.articles[i]
		if a.Trashed || (cat != "" && a.CategoryID != cat) || (status != "" && a.Status != status) || (perm != "" && a.Permission != perm) {
			continue
		}
		list = append(list, a)
	}
	if sortBy != "" {
		key := strings.TrimPrefix(sortBy, "-")
		sortStable(list, func(x, y *article) bool {
			if key == "modifiedTime" {
				return x.Modified.Before(y.Modified)
			}
			return x.Created.Before(y.Created)
		}, strings.HasPrefix(sortBy, "-"))
	}
	lo, hi := window(len(list), from, limit)
	items := make([]any, 0, hi-lo)
	for _, a := range list[lo:hi] {
		items = append(items, c.articleListJSON(a))
	}
	writePage(c.out, items, nil)
}

func (e *Emulator) getArticle(c *call) {
	a := c.org.kb.byID[c.vars["id"]]
	if a == nil || a.Trashed {
		notFound(c.out)
		return
	}
	c.out.json(http.StatusOK, c.articleDetailJSON(a))
}

// listKBRootCategories models GET /kbRootCategories: from 1-based, limit
// 1..700 (default 50); always 200 (the OAS lists no 204), sorted by order.
func (e *Emulator) listKBRootCategories(c *call) {
	from, limit, ok := c.pagingFrom1(50, 700)
	if !ok {
		return
	}
	if _, ok := c.enumParam("sortBy", "name", "order"); !ok {
		return
	}
	roots := c.org.kb.roots
	if c.q.Get("sortBy") == "name" {
		roots = slices.Clone(roots)
		sortStable(roots, func(x, y *kbCategory) bool { return strings.ToLower(x.Name) < strings.ToLower(y.Name) }, false)
	}
	lo, hi := window(len(roots), from, limit)
	items := make([]any, 0, hi-lo)
	for _, r := range roots[lo:hi] {
		items = append(items, c.rootCategoryJSON(r))
	}
	c.out.json(http.StatusOK, map[string]any{"data": items})
}

func (e *Emulator) kbCategoryTree(c *call) {
	if _, ok := c.enumParam("sortBy", "name", "order"); !ok {
		return
	}
	if _, _, ok := c.boolParam("includeTrash"); !ok {
		return
	}
	r := c.org.kb.categories[c.vars["id"]]
	if r == nil || r.ParentID != "" {
		notFound(c.out)
		return
	}
	c.out.json(http.StatusOK, c.categoryTreeJSON(r))
}
