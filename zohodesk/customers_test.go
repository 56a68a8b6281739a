package zohodesk

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestContactsUpdate(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/contacts/7", wantReq{
		method: "PATCH", path: "/api/v1/contacts/7", org: true, body: `{"phone":"+1 555","accountId":null}`,
	}, http.StatusOK, `{"id":"7","lastName":"Carol","phone":"+1 555","accountId":null}`)
	ct, _, err := c.Contacts.Update(t.Context(), testOrg, "7", &ContactUpdateRequest{Phone: Set("+1 555"), AccountID: Null[string]()})
	if err != nil || ct.Phone != "+1 555" || ct.AccountID != "" {
		t.Fatalf("Contacts.Update = %+v, %v", ct, err)
	}
	if _, _, err := c.Contacts.Update(t.Context(), testOrg, "7", &ContactUpdateRequest{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty update: error = %v, want ErrInvalid", err)
	}
}

func TestContactsMoveToTrash(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/contacts/moveToTrash", wantReq{
		method: "POST", path: "/api/v1/contacts/moveToTrash", org: true, body: `{"contactIds":["1","2"]}`,
	}, http.StatusNoContent, "")
	if _, err := c.Contacts.MoveToTrash(t.Context(), testOrg, []string{"1", "2"}); err != nil {
		t.Fatalf("Contacts.MoveToTrash: %v", err)
	}
	for _, ids := range [][]string{nil, {""}} {
		if _, err := c.Contacts.MoveToTrash(t.Context(), testOrg, ids); !errors.Is(err, ErrInvalid) {
			t.Errorf("MoveToTrash(%q) error = %v, want ErrInvalid", ids, err)
		}
	}
}

func TestContactsListTickets(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/contacts/7/tickets", wantReq{
		method: "GET", path: "/api/v1/contacts/7/tickets", org: true, query: q("from", "5", "limit", "10", "sortBy", "-createdTime"),
	}, http.StatusOK, `{"data":[{"id":"100","subject":"Printer"}]}`)
	got, _, err := c.Contacts.ListTickets(t.Context(), testOrg, "7", &ContactTicketsOptions{ListOptions: ListOptions{From: 5, Limit: 10}, SortBy: "-createdTime"})
	if err != nil || len(got) != 1 || got[0].Subject != "Printer" {
		t.Fatalf("Contacts.ListTickets = %+v, %v", got, err)
	}
	if _, _, err := c.Contacts.ListTickets(t.Context(), testOrg, "7", &ContactTicketsOptions{ListOptions: ListOptions{Limit: 101}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 101: error = %v, want ErrInvalid", err)
	}
}

func TestContactsFindByEmail(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	// Search matches case-insensitively and may return near misses; the
	// result keeps exact matches only, newest first.
	serve(t, mux, "/api/v1/contacts/search", wantReq{
		method: "GET", path: "/api/v1/contacts/search", org: true, query: q("email", "Ann@Example.com", "limit", "100"),
	}, http.StatusOK, `{"data":[
		{"id":"1","email":"ann@example.com","createdTime":"2026-01-01T00:00:00.000Z"},
		{"id":"2","email":"ann@example.com.au","createdTime":"2026-03-01T00:00:00.000Z"},
		{"id":"3","email":"ANN@example.com","createdTime":"2026-02-01T00:00:00.000Z"}],"count":3}`)
	got, err := c.Contacts.FindByEmail(t.Context(), testOrg, "Ann@Example.com")
	if err != nil || len(got) != 2 || got[0].ID != "3" || got[1].ID != "1" {
		t.Fatalf("FindByEmail = %+v, %v; want ids 3, 1", got, err)
	}
	for _, bad := range []string{"", "a*@b.c", "a@b.c,d@e.f", "${empty}"} {
		if _, err := c.Contacts.FindByEmail(t.Context(), testOrg, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("FindByEmail(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestAccountsCRUD(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	row := `{"id":"55","accountName":"Zylker Corp","website":"https://zylker.example","createdTime":"2026-01-01T00:00:00.000Z"}`
	mux.HandleFunc("/api/v1/accounts", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			wantReq{method: "POST", path: "/api/v1/accounts", org: true, body: `{"accountName":"Zylker Corp","website":"https://zylker.example"}`}.check(t, r)
			w.Write([]byte(row))
		default:
			wantReq{method: "GET", path: "/api/v1/accounts", org: true, query: q("from", "1", "limit", "2", "sortBy", "accountName")}.check(t, r)
			w.Write([]byte(`{"data":[` + row + `]}`))
		}
	})
	serve(t, mux, "/api/v1/accounts/55", wantReq{method: "PATCH", path: "/api/v1/accounts/55", org: true, body: `{"phone":"+44 1"}`}, http.StatusOK, row)
	serve(t, mux, "/api/v1/accounts/search", wantReq{method: "GET", path: "/api/v1/accounts/search", org: true, query: q("accountName", "Zylker*")}, http.StatusOK, `{"data":[`+row+`],"count":1}`)
	serve(t, mux, "/api/v1/accounts/55/contacts", wantReq{method: "GET", path: "/api/v1/accounts/55/contacts", org: true, query: q("limit", "100")}, http.StatusNoContent, "")

	ctx := t.Context()
	a, _, err := c.Accounts.Create(ctx, testOrg, &AccountCreateRequest{AccountName: "Zylker Corp", Website: "https://zylker.example"})
	if err != nil || a.ID != "55" || a.AccountName != "Zylker Corp" {
		t.Fatalf("Accounts.Create = %+v, %v", a, err)
	}
	if _, _, err := c.Accounts.Create(ctx, testOrg, &AccountCreateRequest{Website: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("create without accountName: error = %v, want ErrInvalid", err)
	}
	if _, _, err := c.Accounts.Update(ctx, testOrg, "55", &AccountUpdateRequest{Phone: Set("+44 1")}); err != nil {
		t.Errorf("Accounts.Update: %v", err)
	}
	n, err := drain(c.Accounts.ListAll(ctx, testOrg, &AccountListOptions{ListOptions: ListOptions{Limit: 2}, SortBy: "accountName"}))
	if err != nil || n != 1 {
		t.Errorf("Accounts.ListAll = %d, %v", n, err)
	}
	res, _, err := c.Accounts.Search(ctx, testOrg, &AccountSearchOptions{AccountName: "Zylker*"})
	if err != nil || res.Count != "1" || len(res.Accounts) != 1 {
		t.Errorf("Accounts.Search = %+v, %v", res, err)
	}
	cts, _, err := c.Accounts.ListContacts(ctx, testOrg, "55", &AccountContactsOptions{ListOptions: ListOptions{Limit: 100}})
	if err != nil || len(cts) != 0 {
		t.Errorf("Accounts.ListContacts on 204 = %+v, %v", cts, err)
	}
	if _, _, err := c.Accounts.Search(ctx, testOrg, &AccountSearchOptions{ListOptions: ListOptions{From: 1000}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("search from 1000: error = %v, want ErrInvalid", err)
	}
}

func TestArticlesSearchAndGet(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/articles/search", wantReq{
		method: "GET", path: "/api/v1/articles/search", org: true, query: q("_all", "reset password", "categoryId", "9", "limit", "5"),
	}, http.StatusOK, `{"data":[{"id":11,"title":"Reset your password","status":"Published","permission":"ALL","category":{"id":9,"name":"Accounts","locale":"en"},"webUrl":"https://x/#Solutions/dv/11/en"}],"count":1}`)
	serve(t, mux, "/api/v1/articles/11", wantReq{method: "GET", path: "/api/v1/articles/11", org: true},
		http.StatusOK, `{"id":"11","title":"Reset your password","answer":"<p>Open <b>Settings</b></p>","modifiedTime":"2026-01-02T03:04:05.000Z","category":{"id":"9","name":"Accounts"}}`)
	ctx := t.Context()
	res, _, err := c.Articles.Search(ctx, testOrg, &ArticleSearchOptions{All: "reset password", CategoryID: "9", ListOptions: ListOptions{Limit: 5}})
	if err != nil || res.Count != "1" || len(res.Articles) != 1 {
		t.Fatalf("Articles.Search = %+v, %v", res, err)
	}
	if a := res.Articles[0]; a.ID != "11" || a.Category == nil || a.Category.ID != "9" || a.Category.Name != "Accounts" {
		t.Errorf("search row = %+v (category %+v)", a, a.Category)
	}
	a, _, err := c.Articles.Get(ctx, testOrg, "11")
	if err != nil || a.Answer != "<p>Open <b>Settings</b></p>" || a.ModifiedTime == "" || !hasKey(a.Raw, "answer") {
		t.Errorf("Articles.Get = %+v, %v", a, err)
	}
	if _, _, err := c.Articles.Search(ctx, testOrg, &ArticleSearchOptions{All: "ab"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("_all of 2 characters: error = %v, want ErrInvalid", err)
	}
}

func TestKBCategories(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/kbRootCategories", wantReq{method: "GET", path: "/api/v1/kbRootCategories", org: true, query: q("limit", "700")},
		http.StatusOK, `{"data":[{"id":"1","name":"Zylker Help"}]}`)
	serve(t, mux, "/api/v1/kbRootCategories/1/categoryTree", wantReq{method: "GET", path: "/api/v1/kbRootCategories/1/categoryTree", org: true},
		http.StatusOK, `{"id":1,"name":"Zylker Help","level":0,"children":[{"id":"2","name":"Billing","parentCategoryId":1,"children":[{"id":"3","name":"Invoices","children":[]}]}]}`)
	roots, _, err := c.KB.ListRootCategories(t.Context(), testOrg, &KBRootCategoryListOptions{ListOptions: ListOptions{Limit: 700}})
	if err != nil || len(roots) != 1 || roots[0].Name != "Zylker Help" {
		t.Fatalf("KB.ListRootCategories = %+v, %v", roots, err)
	}
	tree, _, err := c.KB.CategoryTree(t.Context(), testOrg, "1")
	if err != nil || tree.ID != "1" || len(tree.Children) != 1 || tree.Children[0].ParentCategoryID != "1" || tree.Children[0].Children[0].Name != "Invoices" {
		t.Fatalf("KB.CategoryTree = %+v, %v", tree, err)
	}
}

// FuzzLooseDecoders feeds arbitrary JSON to the decoders of Zoho's loosely
// typed KB and account objects: they must never panic, and what they
// accept must keep the raw bytes.
func FuzzLooseDecoders(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"title":"t","category":{"id":2,"name":"n"}}`,
		`{"id":"1","category":null}`,
		`{"id":"1","children":[{"id":2,"children":[{"id":3}]}]}`,
		`{"id":1,"accountName":"A","cf":{"x":1}}`,
		`[]`, `{"category":7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Article
		if json.Unmarshal(b, &a) == nil && len(a.Raw) == 0 {
			t.Errorf("Article accepted %q without keeping Raw", b)
		}
		var k KBCategory
		if json.Unmarshal(b, &k) == nil && len(k.Raw) == 0 {
			t.Errorf("KBCategory accepted %q without keeping Raw", b)
		}
		var ac Account
		if json.Unmarshal(b, &ac) == nil && len(ac.Raw) == 0 {
			t.Errorf("Account accepted %q without keeping Raw", b)
		}
	})
}

func TestArticlesListAllPagesFromOne(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var froms []string
	mux.HandleFunc("/api/v1/articles", func(w http.ResponseWriter, r *http.Request) {
		froms = append(froms, r.URL.Query().Get("from"))
		if r.URL.Query().Get("from") == "1" {
			w.Write([]byte(`{"data":[{"id":"1","title":"a"},{"id":"2","title":"b"}]}`))
			return
		}
		w.Write([]byte(`{"data":[{"id":"3","title":"c"}]}`))
	})
	n, err := drain(c.Articles.ListAll(t.Context(), testOrg, &ArticleListOptions{ListOptions: ListOptions{Limit: 2}, Status: ArticlePublished}))
	if err != nil || n != 3 || strings.Join(froms, ",") != "1,3" {
		t.Errorf("ListAll = %d, %v; froms %v, want 3 articles from 1 then 3", n, err, froms)
	}
}
