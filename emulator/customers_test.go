package emulator_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/emulator"
)

var customerScopes = []string{"Desk.tickets.ALL", "Desk.contacts.ALL", "Desk.search.READ", "Desk.articles.READ", "Desk.basic.READ"}

// newCustomersEnv is newEnv with a token that also holds the contacts
// and articles scopes.
func newCustomersEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, emulator.Options{})
	_, access, err := e.emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, customerScopes)
	if err != nil {
		t.Fatal(err)
	}
	e.token = access
	return e
}

func ids(t *testing.T, r result) []string {
	t.Helper()
	if r.status == 204 {
		return nil
	}
	var out []string
	for _, row := range r.json(t)["data"].([]any) {
		out = append(out, row.(map[string]any)["id"].(string))
	}
	return out
}

func TestContactsAcceptDuplicateEmails(t *testing.T) {
	t.Parallel()
	e := newCustomersEnv(t)
	var created []string
	for range 2 {
		r := e.do("POST", "/api/v1/contacts", map[string]any{"lastName": "Twin", "email": "twin@example.org"})
		wantStatus(t, r, 200, "")
		created = append(created, r.json(t)["id"].(string))
	}
	if created[0] == created[1] {
		t.Fatalf("two creates gave one id %s", created[0])
	}
	r := e.do("GET", "/api/v1/contacts/search?email=twin@example.org", nil)
	wantStatus(t, r, 200, "")
	if got := fmt.Sprint(r.json(t)["count"]); got != "2" {
		t.Errorf("search count = %v, want 2", got)
	}
	r = e.do("GET", "/api/v1/contacts/search?email="+emulator.DuplicateEmail, nil)
	if got := ids(t, r); len(got) != 2 {
		t.Errorf("seeded duplicate e-mail: ids %v, want 2", got)
	}
}

func TestContactUpdateTrashAndTickets(t *testing.T) {
	t.Parallel()
	e := newCustomersEnv(t)
	path := "/api/v1/contacts/" + emulator.DemoContactID
	r := e.do("PATCH", path, map[string]any{"phone": "+1 555 9999", "accountId": nil})
	wantStatus(t, r, 200, "")
	if m := r.json(t); m["phone"] != "+1 555 9999" || m["accountId"] != nil || m["lastName"] != "Carol" {
		t.Errorf("patched contact = %s", r.body)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"lastName": nil}, "/lastName"},
		{map[string]any{"accountId": "1892000000069999"}, "/accountId"},
		{map[string]any{"email": "not an address"}, "/email"},
		{map[string]any{"nickname": "x"}, "/nickname"},
	} {
		r := e.do("PATCH", path, tc.body)
		wantStatus(t, r, 422, "INVALID_DATA")
		if !strings.Contains(string(r.body), `"fieldName":"`+tc.field+`"`) {
			t.Errorf("PATCH %v: body %s does not name %s", tc.body, r.body, tc.field)
		}
	}
	wantStatus(t, e.do("PATCH", path, map[string]any{"accountId": "1892000000060003"}), 200, "")
	r = e.do("GET", "/api/v1/accounts/1892000000060003/contacts?limit=100", nil)
	if got := ids(t, r); !contains(got, emulator.DemoContactID) {
		t.Errorf("account contacts %v lack the re-linked contact", got)
	}

	r = e.do("GET", path+"/tickets?limit=5", nil)
	wantStatus(t, r, 200, "")
	got := ids(t, r)
	if len(got) == 0 {
		t.Fatal("the demo contact has no tickets")
	}
	r = e.do("GET", path+"/tickets?sortBy=-createdTime&from=0&limit=100", nil)
	if all := ids(t, r); all[0] != got[0] {
		t.Errorf("default order starts at %s, -createdTime at %s", got[0], all[0])
	}
	wantStatus(t, e.do("GET", path+"/tickets?sortBy=subject", nil), 422, "UNPROCESSABLE_ENTITY")

	wantStatus(t, e.do("POST", "/api/v1/contacts/moveToTrash", map[string]any{"contactIds": []string{emulator.DemoContactID, "1"}}), 422, "INVALID_DATA")
	r = e.do("POST", "/api/v1/contacts/moveToTrash", map[string]any{"contactIds": []string{emulator.DemoContactID}})
	if r.status != 204 {
		t.Fatalf("moveToTrash = %d %s", r.status, r.body)
	}
	wantStatus(t, e.do("GET", path, nil), 404, "URL_NOT_FOUND")
	if r := e.do("GET", "/api/v1/contacts/search?email=carol@zylker-customer.com", nil); r.status != 204 {
		t.Errorf("a trashed contact is still found by search: %d %s", r.status, r.body)
	}
	wantStatus(t, e.do("POST", "/api/v1/contacts/moveToTrash", map[string]any{"contactIds": []string{emulator.DemoContactID}}), 422, "INVALID_DATA")
}

func TestAccountsCRUDAndSearch(t *testing.T) {
	t.Parallel()
	e := newCustomersEnv(t)
	r := e.do("POST", "/api/v1/accounts", map[string]any{"website": "https://x.example"})
	wantStatus(t, r, 422, "INVALID_DATA")
	if !strings.Contains(string(r.body), `"fieldName":"/accountName","errorType":"missing"`) {
		t.Errorf("missing accountName: %s", r.body)
	}
	r = e.do("POST", "/api/v1/accounts", map[string]any{"accountName": "Umbrella Labs", "website": "https://umbrella.example", "industry": "Pharma"})
	wantStatus(t, r, 200, "")
	id := r.json(t)["id"].(string)
	// [I] duplicate names are accepted, like contacts' e-mails.
	wantStatus(t, e.do("POST", "/api/v1/accounts", map[string]any{"accountName": "Umbrella Labs"}), 200, "")

	r = e.do("PATCH", "/api/v1/accounts/"+id, map[string]any{"phone": "+1 555 0001", "industry": nil})
	wantStatus(t, r, 200, "")
	if m := r.json(t); m["phone"] != "+1 555 0001" || m["industry"] != nil || m["accountName"] != "Umbrella Labs" {
		t.Errorf("patched account = %s", r.body)
	}
	wantStatus(t, e.do("PATCH", "/api/v1/accounts/"+id, map[string]any{"accountName": ""}), 422, "INVALID_DATA")
	wantStatus(t, e.do("GET", "/api/v1/accounts/1892000000069999", nil), 404, "URL_NOT_FOUND")

	r = e.do("GET", "/api/v1/accounts/search?accountName=umbrella*", nil)
	wantStatus(t, r, 200, "")
	if m := r.json(t); m["count"] != float64(2) {
		t.Errorf("search count = %v, want 2", m["count"])
	}
	if r := e.do("GET", "/api/v1/accounts/search?_all=northwind", nil); len(ids(t, r)) != 1 {
		t.Errorf("_all=northwind: %s", r.body)
	}

	// /accounts is 1-based: from=0 and from=1 both start at the first row.
	first0 := ids(t, e.do("GET", "/api/v1/accounts?from=0&limit=2", nil))
	first1 := ids(t, e.do("GET", "/api/v1/accounts?from=1&limit=2", nil))
	second := ids(t, e.do("GET", "/api/v1/accounts?from=2&limit=2", nil))
	if fmt.Sprint(first0) != fmt.Sprint(first1) || first0[1] != second[0] {
		t.Errorf("paging: from=0 %v, from=1 %v, from=2 %v", first0, first1, second)
	}
	r = e.do("GET", "/api/v1/accounts?sortBy=-accountName&limit=100", nil)
	if got := ids(t, r); got[0] != id && got[1] != id { // "Zylker Customer Inc" sorts before "Umbrella Labs" descending
		t.Errorf("sorted by -accountName: %v", got)
	}
}

func TestContactAccountLink(t *testing.T) {
	t.Parallel()
	e := newCustomersEnv(t)
	wantStatus(t, e.do("POST", "/api/v1/contacts", map[string]any{"lastName": "X", "accountId": "1892000000069999"}), 422, "INVALID_DATA")
	r := e.do("POST", "/api/v1/contacts", map[string]any{"lastName": "Linked", "accountId": "1892000000060005"})
	wantStatus(t, r, 200, "")
	r = e.do("GET", "/api/v1/accounts/1892000000060005/contacts", nil)
	wantStatus(t, r, 200, "")
	row := r.json(t)["data"].([]any)[0].(map[string]any)
	if row["lastName"] != "Linked" || row["mappingInfo"] == nil {
		t.Errorf("account contact row = %v", row)
	}
	r = e.do("GET", "/api/v1/contacts/search?email=carol@zylker-customer.com", nil)
	acct := r.json(t)["data"].([]any)[0].(map[string]any)["account"].(map[string]any)
	if acct["id"] != emulator.DemoAccountID || acct["accountName"] != "Zylker Customer Inc" {
		t.Errorf("search row account = %v", acct)
	}
	r = e.do("GET", "/api/v1/tickets/1892000000042032", nil)
	if r.json(t)["accountId"] != emulator.DemoAccountID {
		t.Errorf("the demo ticket's accountId = %v, want its contact's account", r.json(t)["accountId"])
	}
}

func TestArticleSearchSemantics(t *testing.T) {
	t.Parallel()
	e := newCustomersEnv(t)
	titles := func(r result) []string {
		t.Helper()
		if r.status == 204 {
			return nil
		}
		var out []string
		for _, row := range r.json(t)["data"].([]any) {
			out = append(out, row.(map[string]any)["title"].(string))
		}
		return out
	}
	tests := []struct {
		query string
		want  []string
	}{
		// Every word must match; title matches rank first, then the
		// newest. Drafts and agents-only articles are searched too.
		{"_all=e-42", []string{"Handling repeated E-42 errors", "Printer F3 error E-42: paper jam sensor"}},
		{"_all=sensor%20rear%20door", []string{"Printer F3 error E-42: paper jam sensor"}},
		{"_all=refund", []string{"Refund approval limits for agents", "Request a refund"}},
		{"_all=refund&categoryId=1892000000070005", []string{"Request a refund"}},
		// categoryId includes nested categories.
		{"_all=printer&categoryId=1892000000070003&sortBy=createdTime", []string{"Set up your Zylker Printer F3", "Connect the Printer F3 to Wi-Fi", "Printer F3 error E-42: paper jam sensor", "Printer F3 prints blank pages"}[1:]},
		{"title=printer%20f3*&sortBy=-createdTime", []string{"Printer F3 prints blank pages", "Printer F3 error E-42: paper jam sensor"}},
		{"_all=no%20such%20words", nil},
	}
	for _, tt := range tests {
		r := e.do("GET", "/api/v1/articles/search?"+tt.query, nil)
		if got := titles(r); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("search %s = %q, want %q", tt.query, got, tt.want)
		}
	}
	r := e.do("GET", "/api/v1/articles/search?_all=printer&limit=2&from=1", nil)
	wantStatus(t, r, 200, "")
	if m := r.json(t); m["count"] != float64(4) || len(m["data"].([]any)) != 2 {
		t.Errorf("paged search: count %v, %d rows; want the number 4 and 2", m["count"], len(m["data"].([]any)))
	}
	wantStatus(t, e.do("GET", "/api/v1/articles/search?_all=ab", nil), 422, "UNPROCESSABLE_ENTITY")
	wantStatus(t, e.do("GET", "/api/v1/articles/search?_all=printer&from=1000", nil), 422, "UNPROCESSABLE_ENTITY")
}

func TestArticleGetListAndCategories(t *testing.T) {
	t.Parallel()
	e := newCustomersEnv(t)
	r := e.do("GET", "/api/v1/articles/"+emulator.DemoArticleID, nil)
	wantStatus(t, r, 200, "")
	m := r.json(t)
	if !strings.Contains(m["answer"].(string), "<b>E-42</b>") || m["category"].(map[string]any)["name"] != "Troubleshooting" || m["modifiedTime"] == nil {
		t.Errorf("article = %s", r.body)
	}
	if !strings.HasSuffix(m["portalUrl"].(string), "/kb/articles/printer-f3-error-e-42-paper-jam-sensor") {
		t.Errorf("portalUrl = %v", m["portalUrl"])
	}
	wantStatus(t, e.do("GET", "/api/v1/articles/1", nil), 404, "URL_NOT_FOUND")

	r = e.do("GET", "/api/v1/articles?status=Draft", nil)
	if got := ids(t, r); len(got) != 2 {
		t.Errorf("drafts = %v, want 2", got)
	}
	r = e.do("GET", "/api/v1/articles?from=1&limit=50", nil)
	if rows := r.json(t)["data"].([]any); len(rows) != 13 || rows[0].(map[string]any)["answer"] != nil {
		t.Errorf("article list: %d rows (want 13, without answers)", len(rows))
	}

	r = e.do("GET", "/api/v1/kbRootCategories", nil)
	wantStatus(t, r, 200, "")
	if got := ids(t, r); fmt.Sprint(got) != fmt.Sprint([]string{emulator.DemoRootCategoryID, emulator.AgentsRootCategoryID}) {
		t.Errorf("root categories = %v", got)
	}
	r = e.do("GET", "/api/v1/kbRootCategories/"+emulator.DemoRootCategoryID+"/categoryTree", nil)
	wantStatus(t, r, 200, "")
	tree := r.json(t)
	printers := tree["children"].([]any)[1].(map[string]any)
	if printers["name"] != "Printers" || printers["children"].([]any)[0].(map[string]any)["name"] != "Troubleshooting" {
		t.Errorf("tree = %s", r.body)
	}
	wantStatus(t, e.do("GET", "/api/v1/kbRootCategories/1892000000070002/categoryTree", nil), 404, "URL_NOT_FOUND")
}

func TestKBNeedsArticlesScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{}) // no Desk.articles.* scope
	r := e.do("GET", "/api/v1/articles/search?_all=printer", nil)
	if r.status != 403 || r.errorCode(t) != "SCOPE_MISMATCH" {
		t.Errorf("search without Desk.articles.READ = %d %s", r.status, r.body)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
