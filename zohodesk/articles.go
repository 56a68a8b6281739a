package zohodesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
)

// ArticlesService reads and searches knowledge-base articles through the
// agent API (/api/v1/articles, scope Desk.articles.READ; search also needs
// Desk.search.READ). The agent API sees every article the connection's user
// may see, drafts and agents-only articles included; callers filter on
// Status and Permission.
type ArticlesService service

// Article statuses and permissions (OAS-Article enums).
const (
	ArticlePublished = "Published"
	ArticleDraft     = "Draft"

	PermissionAll             = "ALL"             // public help centre
	PermissionRegisteredUsers = "REGISTEREDUSERS" // signed-in help-centre users
	PermissionAgents          = "AGENTS"          // agents only
)

// Article is a knowledge-base article. Answer (HTML) is present only in
// Get's answer, not in list or search rows. Raw keeps Zoho's whole object.
type Article struct {
	ID             string           `json:"id"`
	Title          string           `json:"title"`
	Summary        string           `json:"summary,omitempty"`
	Answer         string           `json:"answer,omitempty"`
	Status         string           `json:"status,omitempty"`
	Permission     string           `json:"permission,omitempty"`
	Locale         string           `json:"locale,omitempty"`
	CategoryID     string           `json:"categoryId,omitempty"`
	RootCategoryID string           `json:"rootCategoryId,omitempty"`
	Category       *ArticleCategory `json:"category,omitempty"`
	DepartmentID   string           `json:"departmentId,omitempty"`
	Permalink      string           `json:"permalink,omitempty"`
	WebURL         string           `json:"webUrl,omitempty"`
	PortalURL      string           `json:"portalUrl,omitempty"`
	AuthorID       string           `json:"authorId,omitempty"`
	CreatedTime    string           `json:"createdTime,omitempty"`
	ModifiedTime   string           `json:"modifiedTime,omitempty"`
	LatestVersion  string           `json:"latestVersion,omitempty"`
	Tags           []string         `json:"tags,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// ArticleCategory is the category embedded in an article.
type ArticleCategory struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Locale string `json:"locale,omitempty"`
}

// UnmarshalJSON decodes a and keeps the whole object in Raw. Zoho types
// ids and counts as "string|integer"; numbers are accepted where strings
// are usual, also inside the embedded category.
func (a *Article) UnmarshalJSON(b []byte) error {
	type plain Article
	aux := struct {
		*plain
		Category json.RawMessage `json:"category"`
	}{plain: (*plain)(a)}
	if err := decodeLenient(b, &aux); err != nil {
		return err
	}
	a.Category = nil
	if len(aux.Category) > 0 && string(aux.Category) != "null" {
		c := new(ArticleCategory)
		if err := decodeLenient(aux.Category, c); err != nil {
			return err
		}
		a.Category = c
	}
	a.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Per-endpoint maxima for articles (OAS-Article, OAS-Search).
const (
	MaxLimitArticles      = 50
	MaxLimitArticleSearch = 100
)

// ArticleSearchOptions are the query parameters of Articles.Search (0-based
// From at most MaxFromSearch; Limit at most MaxLimitArticleSearch). All
// (Zoho's "_all", 3 to 1,000 characters) matches every column; Title
// matches the title and takes a trailing "*" wildcard.
type ArticleSearchOptions struct {
	ListOptions
	All          string
	Title        string
	CategoryID   string
	DepartmentID string
	// SortBy: relevance, modifiedTime, createdTime ("-" prefix descending).
	SortBy string
}

// ArticleSearchResult is one page of hits and Zoho's total count as
// decimal text ("" on 204).
type ArticleSearchResult struct {
	Articles []*Article
	Count    string
}

// Search finds articles (empty on 204).
//
//desk:operation GET /api/v1/articles/search
func (s *ArticlesService) Search(ctx context.Context, orgID string, opts *ArticleSearchOptions) (*ArticleSearchResult, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.check(MaxLimitArticleSearch); err != nil {
			return nil, nil, err
		}
		if opts.From > MaxFromSearch {
			return nil, nil, invalidf("from %d is above the search maximum %d", opts.From, MaxFromSearch)
		}
		if n := len([]rune(opts.All)); opts.All != "" && (n < 3 || n > 1000) {
			return nil, nil, invalidf("_all must be 3 to 1000 characters long, not %d", n)
		}
		opts.set(q)
		setStr(q, "_all", opts.All)
		setStr(q, "title", opts.Title)
		setStr(q, "categoryId", opts.CategoryID)
		setStr(q, "departmentId", opts.DepartmentID)
		setStr(q, "sortBy", opts.SortBy)
	}
	var body struct {
		Data  []*Article      `json:"data"`
		Count json.RawMessage `json:"count"`
	}
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "articles/search", path: "articles/search", query: q, orgID: orgID, withOrg: true}, &body)
	if err != nil {
		return nil, resp, err
	}
	return &ArticleSearchResult{Articles: body.Data, Count: stringish(body.Count)}, resp, nil
}

// Get returns one article with its answer (HTML). An unknown id is
// ErrNotFound.
//
//desk:operation GET /api/v1/articles/{id}
func (s *ArticlesService) Get(ctx context.Context, orgID, articleID string) (*Article, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("articleID", articleID)
	if err != nil {
		return nil, nil, err
	}
	a := new(Article)
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "articles/{id}", path: "articles/" + id, orgID: orgID, withOrg: true}, a)
	if err != nil {
		return nil, resp, err
	}
	return a, resp, nil
}

// ArticleListOptions are the query parameters of Articles.List. From is
// 1-based on this endpoint (OAS minimum 1; [C NREC] from=1 returned the
// first article); 0 sends no from (Zoho's default 1). Limit is at most
// MaxLimitArticles.
type ArticleListOptions struct {
	ListOptions
	CategoryID string
	// Status: Draft, Published, Review, Expired, Unpublished.
	Status string
	// Permission: ALL, REGISTEREDUSERS, AGENTS.
	Permission string
	// SortBy: createdTime, modifiedTime, likeCount, viewCount,
	// feedbackCount, dislikeCount ("-" prefix descending).
	SortBy string
}

// List returns one page of articles without their answers (empty on 204).
//
//desk:operation GET /api/v1/articles
func (s *ArticlesService) List(ctx context.Context, orgID string, opts *ArticleListOptions) ([]*Article, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.check(MaxLimitArticles); err != nil {
			return nil, nil, err
		}
		opts.set(q)
		setStr(q, "categoryId", opts.CategoryID)
		setStr(q, "status", opts.Status)
		setStr(q, "permission", opts.Permission)
		setStr(q, "sortBy", opts.SortBy)
	}
	return getList[Article](ctx, s.client, orgID, "articles", "articles", q)
}

// ListAll iterates over every article, page by page (from 1, as the
// endpoint counts).
func (s *ArticlesService) ListAll(ctx context.Context, orgID string, opts *ArticleListOptions) iter.Seq2[*Article, error] {
	o := ArticleListOptions{}
	if opts != nil {
		o = *opts
	}
	if o.From == 0 {
		o.From = 1
	}
	return pages(ctx, o.ListOptions, MaxLimitArticles, -1, func(lo ListOptions) ([]*Article, error) {
		o.ListOptions = lo
		items, _, err := s.List(ctx, orgID, &o)
		return items, err
	})
}

// KBService reads the knowledge base's category tree (scope
// Desk.articles.READ). A root category is a knowledge base section of a
// help centre; its tree holds the nested categories articles live in.
type KBService service

// KBCategory is a root category or a category in a tree. Children is
// filled by CategoryTree. Raw keeps Zoho's whole object.
type KBCategory struct {
	ID               string        `json:"id"`
	Name             string        `json:"name"`
	Description      string        `json:"description,omitempty"`
	ParentCategoryID string        `json:"parentCategoryId,omitempty"`
	RootCategoryID   string        `json:"rootCategoryId,omitempty"`
	Status           string        `json:"status,omitempty"`
	Visibility       string        `json:"visibility,omitempty"`
	Locale           string        `json:"locale,omitempty"`
	Level            string        `json:"level,omitempty"`
	Order            string        `json:"order,omitempty"`
	Children         []*KBCategory `json:"children,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes c (numbers accepted where strings are usual, at
// every level) and keeps the whole object in Raw.
func (c *KBCategory) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	str := func(k string) string { return stringish(m[k]) }
	*c = KBCategory{
		ID: str("id"), Name: str("name"), Description: str("description"),
		ParentCategoryID: str("parentCategoryId"), RootCategoryID: str("rootCategoryId"),
		Status: str("status"), Visibility: str("visibility"), Locale: str("locale"),
		Level: str("level"), Order: str("order"),
	}
	if ch := m["children"]; len(ch) > 0 && string(ch) != "null" {
		if err := json.Unmarshal(ch, &c.Children); err != nil {
			return err
		}
	}
	c.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MaxLimitKBRootCategories is the largest limit of ListRootCategories
// (OAS-KBRootCategory: 1..700).
const MaxLimitKBRootCategories = 700

// KBRootCategoryListOptions are the query parameters of
// ListRootCategories. From is 1-based (OAS default 1); 0 sends none.
type KBRootCategoryListOptions struct {
	ListOptions
	// DepartmentID limits the list to one department's sections.
	DepartmentID string
}

// ListRootCategories returns the knowledge base's root categories.
//
//desk:operation GET /api/v1/kbRootCategories
func (s *KBService) ListRootCategories(ctx context.Context, orgID string, opts *KBRootCategoryListOptions) ([]*KBCategory, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.check(MaxLimitKBRootCategories); err != nil {
			return nil, nil, err
		}
		opts.set(q)
		setStr(q, "departmentId", opts.DepartmentID)
	}
	return getList[KBCategory](ctx, s.client, orgID, "kbRootCategories", "kbRootCategories", q)
}

// CategoryTree returns a root category with its nested categories.
//
//desk:operation GET /api/v1/kbRootCategories/{rootCategoryId}/categoryTree
func (s *KBService) CategoryTree(ctx context.Context, orgID, rootCategoryID string) (*KBCategory, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("rootCategoryID", rootCategoryID)
	if err != nil {
		return nil, nil, err
	}
	c := new(KBCategory)
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "kbRootCategories/{rootCategoryId}/categoryTree", path: "kbRootCategories/" + id + "/categoryTree", orgID: orgID, withOrg: true}, c)
	if err != nil {
		return nil, resp, err
	}
	return c, resp, nil
}
