package deskactions

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/htmltext"
	"github.com/deskconn/deskconn/zohodesk"
)

// Scopes of the knowledge-base actions (facts part 2 §6.1, §7).
var (
	articlesRead   = []string{"Desk.articles.READ"}
	articlesSearch = []string{"Desk.articles.READ", "Desk.search.READ"}
)

// SearchArticlesInput is the input of search_articles.
type SearchArticlesInput struct {
	OrgRef
	Text               string     `json:"text" jsonschema:"What to look for: words of the question or its key terms, at least 3 characters. Every word must occur in the article." schema:"minLength=3,maxLength=1000"`
	CategoryID         string     `json:"categoryId,omitempty" jsonschema:"Only articles of this category or the categories under it (list_article_categories)." schema:"pattern=^[0-9]+$,maxLength=32"`
	CategoryName       string     `json:"categoryName,omitempty" jsonschema:"Exact name of the category (instead of categoryId); it must match one category." schema:"maxLength=200"`
	Permission         StringList `json:"permission,omitempty" jsonschema:"Only articles with these audiences: ALL (public help centre), REGISTEREDUSERS (signed-in customers), AGENTS (internal). Default: all three. Use [ALL] to quote only what any customer may see." schema:"items.enum=ALL|REGISTEREDUSERS|AGENTS"`
	IncludeUnpublished bool       `json:"includeUnpublished,omitempty" jsonschema:"Also return drafts and other unpublished articles (default: published only)."`
	From               int        `json:"from,omitempty" jsonschema:"Index of the first search hit to read, from 0; pass nextFrom of the previous page." schema:"minimum=0,maximum=999"`
	Limit              int        `json:"limit,omitempty" jsonschema:"How many search hits to read, 1-20 (default 5); fewer are returned when some are filtered out." schema:"minimum=1,maximum=20"`
}

// ArticleHit is one search_articles result.
type ArticleHit struct {
	ID         string `json:"id" jsonschema:"The article id (articleId of get_article)."`
	Title      string `json:"title" jsonschema:"Title."`
	Snippet    string `json:"snippet" jsonschema:"Plain text around the first match in the article."`
	Category   string `json:"category,omitempty" jsonschema:"Name of the article's category."`
	CategoryID string `json:"categoryId,omitempty" jsonschema:"Id of the article's category."`
	Status     string `json:"status" jsonschema:"Published, Draft, ..."`
	Permission string `json:"permission" jsonschema:"Audience: ALL, REGISTEREDUSERS or AGENTS."`
	WebURL     string `json:"webUrl,omitempty" jsonschema:"Link to the article in Zoho Desk (for agents)."`
	PortalURL  string `json:"portalUrl,omitempty" jsonschema:"Link to the article in the help centre (for customers, when its audience allows)."`
}

// SearchArticlesOutput is one page of search_articles.
type SearchArticlesOutput struct {
	Data     []ArticleHit `json:"data" jsonschema:"The matching articles, best match first."`
	Count    int          `json:"count" jsonschema:"Number of articles returned."`
	Total    int          `json:"total" jsonschema:"How many articles Zoho's search matched in all, before the status and audience filters."`
	HasMore  bool         `json:"hasMore" jsonschema:"Whether more hits may exist after these."`
	NextFrom *int         `json:"nextFrom,omitempty" jsonschema:"Pass as from to read the next hits (absent when hasMore is false)."`
}

// GetArticleInput is the input of get_article.
type GetArticleInput struct {
	OrgRef
	ArticleID string `json:"articleId,omitempty" jsonschema:"Id of the article (search_articles)." schema:"pattern=^[0-9]+$,maxLength=32"`
	Title     string `json:"title,omitempty" jsonschema:"Exact title of the article (case does not matter); several articles with it give an ambiguous error listing them." schema:"maxLength=500"`
	MaxChars  int    `json:"maxChars,omitempty" jsonschema:"Longest plain text to return, in characters (default 20000); the HTML is cut to match." schema:"minimum=100,maximum=200000"`
}

// ArticleOutput is one whole article.
type ArticleOutput struct {
	ID           string          `json:"id" jsonschema:"The article id."`
	Title        string          `json:"title" jsonschema:"Title."`
	Status       string          `json:"status" jsonschema:"Published, Draft, ..."`
	Permission   string          `json:"permission" jsonschema:"Audience: ALL (public), REGISTEREDUSERS or AGENTS (internal)."`
	CategoryPath []string        `json:"categoryPath" jsonschema:"Category names from the knowledge base's root down to the article's category."`
	Text         string          `json:"text" jsonschema:"The answer as plain text."`
	TextCut      bool            `json:"textCut,omitempty" jsonschema:"True when text was cut at maxChars."`
	HTML         string          `json:"html" jsonschema:"The answer as Zoho Desk stores it (HTML)."`
	ModifiedTime string          `json:"modifiedTime,omitempty" jsonschema:"When the article last changed (ISO 8601)."`
	WebURL       string          `json:"webUrl,omitempty" jsonschema:"Link to the article in Zoho Desk."`
	PortalURL    string          `json:"portalUrl,omitempty" jsonschema:"Link to the article in the help centre."`
	Article      json.RawMessage `json:"article" jsonschema:"The whole article as Zoho Desk returned it."`
}

// ListArticleCategoriesInput is the input of list_article_categories.
type ListArticleCategoriesInput struct {
	OrgRef
	RootCategoryID string `json:"rootCategoryId,omitempty" jsonschema:"Only this knowledge base section (a root category id) and the categories under it." schema:"pattern=^[0-9]+$,maxLength=32"`
}

// ArticleCategory is one category of list_article_categories.
type ArticleCategory struct {
	ID             string   `json:"id" jsonschema:"The category id (categoryId of search_articles)."`
	Name           string   `json:"name" jsonschema:"Name."`
	Path           []string `json:"path" jsonschema:"Names from the root category down to this one."`
	ParentID       string   `json:"parentId,omitempty" jsonschema:"Id of the parent category (absent for a root)."`
	RootCategoryID string   `json:"rootCategoryId" jsonschema:"Id of the root category (the knowledge base section)."`
	Visibility     string   `json:"visibility,omitempty" jsonschema:"Who sees it: ALL_USERS, AGENTS, ..."`
}

// ListArticleCategoriesOutput is every category, roots first, depth first.
type ListArticleCategoriesOutput struct {
	Data  []ArticleCategory `json:"data" jsonschema:"The categories, each root followed by the categories under it."`
	Count int               `json:"count" jsonschema:"Number of categories."`
}

func knowledgeActions() []*action.Action {
	ro := action.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}
	return []*action.Action{
		action.Define("search_articles", action.Info{
			Title:       "Search knowledge base",
			Description: "Searches the knowledge base for an answer to a question. categoryId: list_article_categories. permission [ALL]: public articles only. Read one with get_article.",
			Toolset:     "knowledge",
			Hints:       ro, Scopes: articlesSearch, TypeSchemas: typeSchemas(),
		}, searchArticles),
		action.Define("get_article", action.Info{
			Title:       "Get knowledge-base article",
			Description: "Returns one knowledge-base article whole (answer as text and HTML), by articleId (search_articles) or exact title.",
			Toolset:     "knowledge",
			Hints:       ro, Scopes: articlesSearch, TypeSchemas: typeSchemas(),
		}, getArticle),
		action.Define("list_article_categories", action.Info{
			Title:       "List knowledge-base categories",
			Description: "Lists the knowledge base's sections and categories with their paths. Gives categoryId for search_articles.",
			Toolset:     "knowledge",
			Hints:       ro, Scopes: articlesRead, TypeSchemas: typeSchemas(),
		}, listArticleCategories),
	}
}

// flatCategories walks the trees of every root category (or one), depth
// first.
func flatCategories(ctx context.Context, call *action.Call, org, rootID string) ([]ArticleCategory, error) {
	var roots []string
	if rootID != "" {
		roots = []string{rootID}
	} else {
		rs, _, err := call.Desk.KB.ListRootCategories(ctx, org, &zohodesk.KBRootCategoryListOptions{ListOptions: zohodesk.ListOptions{Limit: zohodesk.MaxLimitKBRootCategories}})
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			roots = append(roots, r.ID)
		}
	}
	var out []ArticleCategory
	var walk func(k *zohodesk.KBCategory, root string, path []string)
	walk = func(k *zohodesk.KBCategory, root string, path []string) {
		path = append(slices.Clip(path), k.Name)
		out = append(out, ArticleCategory{ID: k.ID, Name: k.Name, Path: path, ParentID: k.ParentCategoryID, RootCategoryID: root, Visibility: k.Visibility})
		for _, ch := range k.Children {
			walk(ch, root, path)
		}
	}
	for _, r := range roots {
		tree, _, err := call.Desk.KB.CategoryTree(ctx, org, r)
		if err != nil {
			if errors.Is(err, zohodesk.ErrNotFound) && rootID != "" {
				return nil, &deskconn.Error{Code: deskconn.CodeNotFound, Err: err,
					Message: "no knowledge base section (root category) has id " + rootID + "; list them with list_article_categories without rootCategoryId",
					Fields:  []deskconn.FieldError{{Pointer: "/rootCategoryId", Code: "invalid", Message: "no such root category"}}}
			}
			return nil, err
		}
		walk(tree, tree.ID, nil)
	}
	return out, nil
}

func listArticleCategories(ctx context.Context, call *action.Call, in ListArticleCategoriesInput) (ListArticleCategoriesOutput, error) {
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return ListArticleCategoriesOutput{}, err
	}
	cats, err := flatCategories(ctx, call, org, in.RootCategoryID)
	if err != nil {
		return ListArticleCategoriesOutput{}, err
	}
	if cats == nil {
		cats = []ArticleCategory{}
	}
	return ListArticleCategoriesOutput{Data: cats, Count: len(cats)}, nil
}

// snippetChars is the length of a search_articles snippet.
const snippetChars = 240

// snippet returns about snippetChars characters of text around the first
// of words found in it (ignoring case), or its start; "…" marks a cut.
func snippet(text string, words []string) string {
	runes := []rune(text)
	lower := []rune(strings.ToLower(text))
	at := -1
	if len(lower) == len(runes) { // offsets agree
		ls := string(lower)
		for _, w := range words {
			if i := strings.Index(ls, strings.ToLower(w)); i >= 0 {
				if r := utf8.RuneCountInString(ls[:i]); at < 0 || r < at {
					at = r
				}
			}
		}
	}
	start := max(0, at-snippetChars/3)
	end := min(len(runes), start+snippetChars)
	if start > 0 { // begin at a word
		for i := start; i < at; i++ {
			if runes[i] == ' ' {
				start = i + 1
				break
			}
		}
	}
	if end < len(runes) { // end at a word
		for i := end; i > start+snippetChars/2; i-- {
			if runes[i] == ' ' {
				end = i
				break
			}
		}
	}
	s := strings.Join(strings.Fields(string(runes[start:end])), " ")
	if start > 0 {
		s = "…" + s
	}
	if end < len(runes) {
		s += "…"
	}
	return s
}

func searchArticles(ctx context.Context, call *action.Call, in SearchArticlesInput) (SearchArticlesOutput, error) {
	var errs []deskconn.FieldError
	if strings.TrimSpace(in.Text) == "" || utf8.RuneCountInString(strings.TrimSpace(in.Text)) < 3 {
		errs = append(errs, deskconn.FieldError{Pointer: "/text", Code: "invalid", Message: "give at least 3 characters to search for"})
	}
	if in.CategoryID != "" && in.CategoryName != "" {
		errs = append(errs, deskconn.FieldError{Pointer: "/categoryId", Code: "invalid", Message: "give only one of categoryId and categoryName"})
	}
	errs = append(errs, checkEnumList("/permission", in.Permission, []string{zohodesk.PermissionAll, zohodesk.PermissionRegisteredUsers, zohodesk.PermissionAgents}, 0)...)
	if err := invalid(errs); err != nil {
		return SearchArticlesOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return SearchArticlesOutput{}, err
	}
	catID := in.CategoryID
	if in.CategoryName != "" {
		cats, err := flatCategories(ctx, call, org, "")
		if err != nil {
			return SearchArticlesOutput{}, err
		}
		var hits []ArticleCategory
		for _, c := range cats {
			if strings.EqualFold(strings.TrimSpace(c.Name), strings.TrimSpace(in.CategoryName)) {
				hits = append(hits, c)
			}
		}
		switch len(hits) {
		case 0:
			return SearchArticlesOutput{}, &deskconn.Error{Code: deskconn.CodeNotFound,
				Message: "no knowledge-base category is named " + quote(in.CategoryName) + "; list them with list_article_categories",
				Fields:  []deskconn.FieldError{{Pointer: "/categoryName", Code: "invalid", Message: "matches no category"}}}
		case 1:
			catID = hits[0].ID
		default:
			e := &deskconn.Error{Code: deskconn.CodeAmbiguous,
				Message: itoa(len(hits)) + " categories are named " + quote(in.CategoryName) + "; choose one and send its categoryId",
				Fields:  []deskconn.FieldError{{Pointer: "/categoryName", Code: "invalid", Message: "matches several categories"}}}
			for _, c := range hits {
				e.Candidates = append(e.Candidates, deskconn.Candidate{ID: c.ID, Label: strings.Join(c.Path, " > ")})
			}
			return SearchArticlesOutput{}, e
		}
	}
	limit := in.Limit
	if limit <= 0 {
		limit = 5
	}
	res, _, err := call.Desk.Articles.Search(ctx, org, &zohodesk.ArticleSearchOptions{
		ListOptions: zohodesk.ListOptions{From: in.From, Limit: limit}, All: strings.TrimSpace(in.Text), CategoryID: catID, SortBy: "relevance",
	})
	if err != nil {
		return SearchArticlesOutput{}, err
	}
	words := strings.Fields(in.Text)
	out := SearchArticlesOutput{Data: []ArticleHit{}}
	for _, a := range res.Articles {
		if !in.IncludeUnpublished && a.Status != zohodesk.ArticlePublished {
			continue
		}
		if len(in.Permission) > 0 && !slices.Contains([]string(in.Permission), a.Permission) {
			continue
		}
		// Search rows carry no answer: read it for the snippet.
		full, _, err := call.Desk.Articles.Get(ctx, org, a.ID)
		if err != nil {
			return SearchArticlesOutput{}, err
		}
		text, _ := htmltext.FromHTML(full.Answer, 20000)
		hit := ArticleHit{ID: a.ID, Title: a.Title, Snippet: snippet(text, words), CategoryID: a.CategoryID,
			Status: a.Status, Permission: a.Permission, WebURL: a.WebURL, PortalURL: a.PortalURL}
		if a.Category != nil {
			hit.Category = a.Category.Name
		}
		out.Data = append(out.Data, hit)
	}
	out.Count = len(out.Data)
	total := 0
	if n, ok := parseCount(res.Count); ok {
		total = n
	}
	out.Total = total
	read := in.From + len(res.Articles)
	if len(res.Articles) >= limit && read <= zohodesk.MaxFromSearch && (total == 0 || read < total) {
		out.HasMore = true
		out.NextFrom = &read
	}
	return out, nil
}

func parseCount(s string) (int, bool) {
	n := 0
	if s == "" {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

func getArticle(ctx context.Context, call *action.Call, in GetArticleInput) (ArticleOutput, error) {
	if err := invalid(checkOneOf("the article", "search_articles returns ids", selectorField{"articleId", in.ArticleID}, selectorField{"title", in.Title})); err != nil {
		return ArticleOutput{}, err
	}
	org, err := call.OrgID(in.OrgID)
	if err != nil {
		return ArticleOutput{}, err
	}
	id := in.ArticleID
	if id == "" {
		if id, err = findArticleByTitle(ctx, call, org, strings.TrimSpace(in.Title)); err != nil {
			return ArticleOutput{}, err
		}
	}
	a, _, err := call.Desk.Articles.Get(ctx, org, id)
	if err != nil {
		if errors.Is(err, zohodesk.ErrNotFound) {
			return ArticleOutput{}, &deskconn.Error{Code: deskconn.CodeNotFound, Err: err,
				Message: "no article has id " + id + "; find articles with search_articles",
				Fields:  []deskconn.FieldError{{Pointer: "/articleId", Code: "invalid", Message: "no such article"}}}
		}
		return ArticleOutput{}, err
	}
	maxChars := in.MaxChars
	if maxChars <= 0 {
		maxChars = 20000
	}
	text, cut := htmltext.FromHTML(a.Answer, maxChars)
	out := ArticleOutput{ID: a.ID, Title: a.Title, Status: a.Status, Permission: a.Permission, Text: text, TextCut: cut,
		HTML: a.Answer, ModifiedTime: a.ModifiedTime, WebURL: a.WebURL, PortalURL: a.PortalURL, Article: a.Raw, CategoryPath: []string{}}
	if cut && len(out.HTML) > maxChars*16 {
		// Bounded like the text (markup is longer than its text); cut on
		// a character boundary.
		out.HTML = strings.ToValidUTF8(out.HTML[:maxChars*16], "")
	}
	if a.RootCategoryID != "" && a.CategoryID != "" {
		cats, err := flatCategories(ctx, call, org, a.RootCategoryID)
		if err != nil {
			return ArticleOutput{}, err
		}
		for _, c := range cats {
			if c.ID == a.CategoryID {
				out.CategoryPath = c.Path
			}
		}
	}
	if len(out.CategoryPath) == 0 && a.Category != nil && a.Category.Name != "" {
		out.CategoryPath = []string{a.Category.Name}
	}
	return out, nil
}

// findArticleByTitle returns the id of the one article titled title.
func findArticleByTitle(ctx context.Context, call *action.Call, org, title string) (string, error) {
	res, _, err := call.Desk.Articles.Search(ctx, org, &zohodesk.ArticleSearchOptions{Title: title, ListOptions: zohodesk.ListOptions{Limit: zohodesk.MaxLimitArticleSearch}})
	if err != nil {
		return "", err
	}
	var hits []*zohodesk.Article
	for _, a := range res.Articles {
		if strings.EqualFold(strings.TrimSpace(a.Title), title) {
			hits = append(hits, a)
		}
	}
	switch len(hits) {
	case 0:
		return "", &deskconn.Error{Code: deskconn.CodeNotFound,
			Message: "no article has the title " + quote(title) + "; find articles with search_articles",
			Fields:  []deskconn.FieldError{{Pointer: "/title", Code: "invalid", Message: "matches no article"}}}
	case 1:
		return hits[0].ID, nil
	}
	e := &deskconn.Error{Code: deskconn.CodeAmbiguous,
		Message: itoa(len(hits)) + " articles have the title " + quote(title) + "; choose one and send its articleId",
		Fields:  []deskconn.FieldError{{Pointer: "/title", Code: "invalid", Message: "matches several articles"}}}
	for _, a := range hits {
		e.Candidates = append(e.Candidates, deskconn.Candidate{ID: a.ID, Label: a.Title, Details: "status: " + a.Status + ", audience: " + a.Permission})
	}
	return "", e
}
