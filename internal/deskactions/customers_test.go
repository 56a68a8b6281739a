package deskactions

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// newWrappedEnv is newTestEnv with the emulator behind wrap (nil: none) and
// a token holding scopes.
func newWrappedEnv(t *testing.T, scopes []string, wrap func(http.Handler) http.Handler) *testEnv {
	t.Helper()
	emu := emulator.New(emulator.Options{})
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, scopes)
	if err != nil {
		t.Fatal(err)
	}
	desk, err := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken(access), Retry: zohodesk.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	reg := action.NewRegistry(action.Options{})
	reg.Add(All(Deps{Now: func() time.Time { return fixedNow }})...)
	return &testEnv{emu: emu, reg: reg, target: action.Target{Tenant: "t1",
		Conn: action.Conn{ID: "c1", Name: "demo", UserID: emulator.AdminAgentID, UserEmail: emulator.DemoUser, DefaultOrgID: emulator.DemoOrgID}, Desk: desk}}
}

// newCustomerTestEnv is newTestEnv with the demo org as the connection's
// default organisation.
func newCustomerTestEnv(t *testing.T) *testEnv {
	env := newTestEnv(t, Deps{}, emulator.Options{})
	env.target.Conn.DefaultOrgID = emulator.DemoOrgID
	return env
}

// staleSearch makes contact search answer 204, as Zoho's index does for
// contacts created moments ago.
func staleSearch(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/contacts/search") {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func countCalls(calls []string, call string) int {
	n := 0
	for _, c := range calls {
		if c == call {
			n++
		}
	}
	return n
}

func TestCreateContactRefusesDuplicates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		wrap func(http.Handler) http.Handler
	}{{"search up to date", nil}, {"search index behind", staleSearch}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newWrappedEnv(t, allScopes, tc.wrap)
			in := `{"payload":{"lastName":"Moss","firstName":"Jen","email":"jen.moss@example.net","accountName":"Northwind Traders"}}`
			first := env.mustInvoke(t, "create_contact", in)
			if str(first, "accountId") != "1892000000060003" || str(first, "email") != "jen.moss@example.net" {
				t.Fatalf("created = %v", first)
			}
			_, err := env.invoke(t, "create_contact", strings.Replace(in, "jen.moss@", "JEN.MOSS@", 1))
			de := domainErr(t, err, deskconn.CodeConflict)
			if len(de.Candidates) != 1 || de.Candidates[0].ID != str(first, "id") || !slices.Equal(pointers(de), []string{"/payload/email"}) {
				t.Errorf("conflict = %+v", de)
			}
			again := env.mustInvoke(t, "create_contact", `{"ifExists":"return","payload":{"lastName":"Moss","email":"jen.moss@example.net"}}`)
			if str(again, "id") != str(first, "id") || again["existing"] != true {
				t.Errorf("ifExists return = %v", again)
			}
			if n := countCalls(env.writes(), "POST /contacts"); n != 1 {
				t.Fatalf("%d contacts created, want 1", n)
			}
			second := env.mustInvoke(t, "create_contact", `{"ifExists":"create","payload":{"lastName":"Moss","email":"jen.moss@example.net"}}`)
			if str(second, "id") == str(first, "id") {
				t.Errorf("ifExists create returned the existing contact")
			}
		})
	}
}

func TestCreateContactChecksAndDryRun(t *testing.T) {
	t.Parallel()
	env := newCustomerTestEnv(t)
	_, err := env.invoke(t, "create_contact", `{"payload":{"lastName":" ","email":"nope","accountId":"1","accountName":"x"}}`)
	de := domainErr(t, err, deskconn.CodeInvalid)
	if got := pointers(de); !slices.Equal(got, []string{"/payload/accountId", "/payload/email", "/payload/lastName"}) {
		t.Errorf("pointers = %v", got)
	}
	_, err = env.invoke(t, "create_contact", `{"payload":{"lastName":"A","accountName":"No Such Company"}}`)
	de = domainErr(t, err, deskconn.CodeNotFound)
	if !slices.Equal(pointers(de), []string{"/payload/accountName"}) {
		t.Errorf("pointers = %v", pointers(de))
	}
	out := env.mustInvoke(t, "create_contact", `{"dryRun":true,"payload":{"lastName":"Dry","email":"dry@example.net"}}`)
	if out["dryRun"] != true || len(env.writes()) != 0 {
		t.Errorf("dry run = %v, writes %v", out, env.writes())
	}
}

func TestGetAndUpdateContact(t *testing.T) {
	t.Parallel()
	env := newCustomerTestEnv(t)
	got := env.mustInvoke(t, "get_contact", `{"email":"Carol@Zylker-Customer.com"}`)
	if str(got, "id") != emulator.DemoContactID || str(got, "accountId") != emulator.DemoAccountID {
		t.Fatalf("get_contact by email = %v", got)
	}
	_, err := env.invoke(t, "get_contact", `{"email":"`+emulator.DuplicateEmail+`"}`)
	if de := domainErr(t, err, deskconn.CodeAmbiguous); len(de.Candidates) != 2 {
		t.Errorf("candidates = %v", de.Candidates)
	}
	_, err = env.invoke(t, "get_contact", `{"email":"nobody@example.net"}`)
	if de := domainErr(t, err, deskconn.CodeNotFound); !slices.Equal(pointers(de), []string{"/email"}) {
		t.Errorf("pointers = %v", pointers(de))
	}
	_, err = env.invoke(t, "get_contact", `{"contactId":"1892000000049999"}`)
	domainErr(t, err, deskconn.CodeNotFound)
	_, err = env.invoke(t, "get_contact", `{}`)
	domainErr(t, err, deskconn.CodeInvalid)
	_, err = env.invoke(t, "get_contact", `{"email":"carol*@zylker-customer.com"}`)
	if de := domainErr(t, err, deskconn.CodeInvalid); !slices.Equal(pointers(de), []string{"/email"}) {
		t.Errorf("wildcard e-mail: pointers %v", pointers(de))
	}

	up := env.mustInvoke(t, "update_contact", `{"email":"carol@zylker-customer.com","payload":{"title":"CTO","accountName":"initech"}}`)
	if str(up, "accountId") != "1892000000060005" || !slices.Equal(anyStrings(up["updatedFields"]), []string{"accountId", "title"}) {
		t.Errorf("update_contact = %v", up)
	}
	list := env.mustInvoke(t, "list_account_contacts", `{"accountName":"Initech"}`)
	if list["count"] != float64(1) {
		t.Errorf("list_account_contacts = %v", list)
	}
	_, err = env.invoke(t, "update_contact", `{"contactId":"`+emulator.DemoContactID+`","payload":{"lastName":null}}`)
	domainErr(t, err, deskconn.CodeInvalid)
	_, err = env.invoke(t, "update_contact", `{"contactId":"`+emulator.DemoContactID+`","payload":{}}`)
	domainErr(t, err, deskconn.CodeInvalid)
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestListContactsAndTickets(t *testing.T) {
	t.Parallel()
	env := newCustomerTestEnv(t)
	page := env.mustInvoke(t, "list_contacts", `{"params":{"limit":10,"sortBy":"-createdTime"}}`)
	if page["count"] != float64(10) || page["hasMore"] != true || page["nextFrom"] != float64(10) {
		t.Errorf("list_contacts = %v", page)
	}
	all := env.mustInvoke(t, "list_contacts", `{"all":true,"params":{"from":3}}`)
	if all["count"] != float64(30) || all["hasMore"] != false { // 33 seeded contacts
		t.Errorf("list_contacts all from 3: count %v, hasMore %v", all["count"], all["hasMore"])
	}
	tickets := env.mustInvoke(t, "list_contact_tickets", `{"email":"carol@zylker-customer.com","params":{"limit":5}}`)
	if tickets["count"].(float64) < 1 {
		t.Fatalf("list_contact_tickets = %v", tickets)
	}
	row := tickets["data"].([]any)[0].(map[string]any)
	if row["subject"] == nil || row["description"] != nil {
		t.Errorf("row is not compact: %v", row)
	}
}

func TestMoveContactsToTrashNeedsConfirm(t *testing.T) {
	t.Parallel()
	env := newWrappedEnv(t, allScopes, nil) // default policies: confirm
	in := `{"payload":{"emails":["carol@zylker-customer.com"],"contactIds":["1892000000043001"]}}`
	_, err := env.invoke(t, "move_contacts_to_trash", in)
	de := domainErr(t, err, deskconn.CodeForbidden)
	if !strings.Contains(de.Message, "move 2 contact(s)") || len(env.writes()) != 0 {
		t.Fatalf("unconfirmed trash: %v; writes %v", de, env.writes())
	}
	out := env.mustInvoke(t, "move_contacts_to_trash", strings.Replace(in, `{"payload"`, `{"confirm":true,"payload"`, 1))
	if out["success"] != true || !slices.Equal(anyStrings(out["moved"]), []string{"1892000000043001", emulator.DemoContactID}) {
		t.Errorf("trash = %v", out)
	}
	_, err = env.invoke(t, "get_contact", `{"contactId":"`+emulator.DemoContactID+`"}`)
	domainErr(t, err, deskconn.CodeNotFound)
	_, err = env.invoke(t, "move_contacts_to_trash", `{"confirm":true,"payload":{"contactIds":["`+emulator.DemoContactID+`"]}}`)
	if de := domainErr(t, err, deskconn.CodeInvalid); !slices.Equal(pointers(de), []string{"/payload/contactIds"}) {
		t.Errorf("trash of a trashed contact: %v", de)
	}
}

func TestAccountActions(t *testing.T) {
	t.Parallel()
	env := newCustomerTestEnv(t)
	created := env.mustInvoke(t, "create_account", `{"payload":{"accountName":"Stark Industries","website":"https://stark.example"}}`)
	id := str(created, "id")
	// Found by name at once, though search may lag: the newest accounts are read too.
	got := env.mustInvoke(t, "get_account", `{"accountName":"stark industries"}`)
	if str(got, "id") != id {
		t.Errorf("get_account by name = %v", got)
	}
	up := env.mustInvoke(t, "update_account", `{"accountId":"`+id+`","payload":{"phone":"+1 555 3000","website":null}}`)
	if str(up, "phone") != "+1 555 3000" || str(up, "website") != "" {
		t.Errorf("update_account = %v", up)
	}
	first := env.mustInvoke(t, "list_accounts", `{"params":{"limit":2}}`)
	second := env.mustInvoke(t, "list_accounts", `{"params":{"from":1,"limit":2}}`)
	ids := func(m map[string]any) []string {
		var out []string
		for _, r := range m["data"].([]any) {
			out = append(out, r.(map[string]any)["id"].(string))
		}
		return out
	}
	if a, b := ids(first), ids(second); a[0] != emulator.DemoAccountID || a[1] != b[0] {
		t.Errorf("list_accounts pages: %v then %v", a, b)
	}
	hits := env.mustInvoke(t, "search_accounts", `{"params":{"accountName":"North*"}}`)
	if hits["total"] != float64(1) {
		t.Errorf("search_accounts = %v", hits)
	}
	_, err := env.invoke(t, "create_account", `{"payload":{"accountName":"STARK industries "}}`)
	if de := domainErr(t, err, deskconn.CodeConflict); len(de.Candidates) != 1 || de.Candidates[0].ID != id {
		t.Errorf("duplicate name: %+v", de)
	}
	back := env.mustInvoke(t, "create_account", `{"ifExists":"return","payload":{"accountName":"Stark Industries"}}`)
	if str(back, "id") != id || back["existing"] != true {
		t.Errorf("ifExists return = %v", back)
	}
	env.mustInvoke(t, "create_account", `{"ifExists":"create","payload":{"accountName":"Stark Industries"}}`)
	_, err = env.invoke(t, "get_account", `{"accountName":"Stark Industries"}`)
	if de := domainErr(t, err, deskconn.CodeAmbiguous); len(de.Candidates) != 2 {
		t.Errorf("candidates = %v", de.Candidates)
	}
	_, err = env.invoke(t, "create_account", `{"payload":{"accountName":""}}`)
	domainErr(t, err, deskconn.CodeInvalid)
}

func TestSearchArticles(t *testing.T) {
	t.Parallel()
	env := newCustomerTestEnv(t)
	titles := func(m map[string]any) []string {
		var out []string
		for _, r := range m["data"].([]any) {
			out = append(out, r.(map[string]any)["title"].(string))
		}
		return out
	}
	out := env.mustInvoke(t, "search_articles", `{"text":"E-42"}`)
	if got := titles(out); !slices.Equal(got, []string{"Printer F3 error E-42: paper jam sensor"}) {
		t.Fatalf("published E-42 articles = %v", got)
	}
	hit := out["data"].([]any)[0].(map[string]any)
	if !strings.Contains(hit["snippet"].(string), "E-42") || strings.Contains(hit["snippet"].(string), "<") ||
		hit["category"] != "Troubleshooting" || hit["id"] != emulator.DemoArticleID || !strings.Contains(hit["webUrl"].(string), emulator.DemoArticleID) {
		t.Errorf("hit = %v", hit)
	}
	all := env.mustInvoke(t, "search_articles", `{"text":"E-42","includeUnpublished":true}`)
	if len(titles(all)) != 2 {
		t.Errorf("with drafts = %v", titles(all))
	}
	public := env.mustInvoke(t, "search_articles", `{"text":"refund","permission":["ALL"]}`)
	if got := titles(public); !slices.Equal(got, []string{"Request a refund"}) {
		t.Errorf("public refund articles = %v", got)
	}
	billing := env.mustInvoke(t, "search_articles", `{"text":"invoice","categoryName":"billing & subscriptions"}`)
	if got := titles(billing); !slices.Equal(got, []string{"Download invoices and receipts"}) {
		t.Errorf("billing invoice articles = %v", got)
	}
	_, err := env.invoke(t, "search_articles", `{"text":"x","categoryName":"Nope"}`)
	domainErr(t, err, deskconn.CodeInvalid)
	_, err = env.invoke(t, "search_articles", `{"text":"printer","categoryName":"Nope"}`)
	domainErr(t, err, deskconn.CodeNotFound)
}

func TestGetArticleAndCategories(t *testing.T) {
	t.Parallel()
	env := newCustomerTestEnv(t)
	a := env.mustInvoke(t, "get_article", `{"title":"printer f3 error e-42: paper jam sensor"}`)
	if str(a, "id") != emulator.DemoArticleID || !strings.Contains(str(a, "text"), "Open the rear door") || !strings.Contains(str(a, "html"), "<b>E-42</b>") {
		t.Errorf("get_article = %v", a)
	}
	if got := anyStrings(a["categoryPath"]); !slices.Equal(got, []string{"Zylker Help Center", "Printers", "Troubleshooting"}) {
		t.Errorf("categoryPath = %v", got)
	}
	if str(a, "modifiedTime") == "" {
		t.Error("no modifiedTime")
	}
	short := env.mustInvoke(t, "get_article", `{"articleId":"`+emulator.DemoArticleID+`","maxChars":100}`)
	if short["textCut"] != true || len([]rune(str(short, "text"))) > 100 {
		t.Errorf("maxChars 100: %q cut=%v", str(short, "text"), short["textCut"])
	}
	_, err := env.invoke(t, "get_article", `{"articleId":"1892000000079999"}`)
	domainErr(t, err, deskconn.CodeNotFound)
	_, err = env.invoke(t, "get_article", `{"title":"No such article"}`)
	domainErr(t, err, deskconn.CodeNotFound)

	cats := env.mustInvoke(t, "list_article_categories", `{}`)
	if cats["count"] != float64(8) {
		t.Fatalf("categories = %v", cats)
	}
	var troubleshooting []string
	for _, c := range cats["data"].([]any) {
		if m := c.(map[string]any); m["name"] == "Troubleshooting" {
			troubleshooting = anyStrings(m["path"])
		}
	}
	if !slices.Equal(troubleshooting, []string{"Zylker Help Center", "Printers", "Troubleshooting"}) {
		t.Errorf("Troubleshooting path = %v", troubleshooting)
	}
	one := env.mustInvoke(t, "list_article_categories", `{"rootCategoryId":"`+emulator.AgentsRootCategoryID+`"}`)
	if one["count"] != float64(2) {
		t.Errorf("agents section = %v", one)
	}
}

func TestMissingScopeNamesIt(t *testing.T) {
	t.Parallel()
	env := newWrappedEnv(t, []string{"Desk.tickets.ALL", "Desk.search.READ", "Desk.contacts.READ", "Desk.basic.READ"}, nil)
	_, err := env.invoke(t, "search_articles", `{"text":"printer"}`)
	de := domainErr(t, err, deskconn.CodeForbidden)
	if !strings.Contains(de.Message, "Desk.articles.READ") || !strings.Contains(de.Message, "reconnect") {
		t.Errorf("message = %q", de.Message)
	}
	_, err = env.invoke(t, "create_account", `{"payload":{"accountName":"No Scope Ltd"}}`)
	if de := domainErr(t, err, deskconn.CodeForbidden); !strings.Contains(de.Message, "Desk.contacts.CREATE") {
		t.Errorf("message = %q", de.Message)
	}
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("alpha beta ", 40) + "the E-42 sensor " + strings.Repeat("gamma delta ", 40)
	tests := []struct {
		text  string
		words []string
		want  func(string) bool
	}{
		{"Short text with E-42 in it.", []string{"e-42"}, func(s string) bool { return s == "Short text with E-42 in it." }},
		{long, []string{"sensor", "E-42"}, func(s string) bool {
			return strings.HasPrefix(s, "…") && strings.HasSuffix(s, "…") && strings.Contains(s, "the E-42 sensor") && len([]rune(s)) <= snippetChars+2
		}},
		{long, []string{"missing"}, func(s string) bool { return strings.HasPrefix(s, "alpha beta") && strings.HasSuffix(s, "…") }},
		{"", []string{"x"}, func(s string) bool { return s == "" }},
	}
	for _, tt := range tests {
		if got := snippet(tt.text, tt.words); !tt.want(got) {
			t.Errorf("snippet(%.30q…, %v) = %q", tt.text, tt.words, got)
		}
	}
}
