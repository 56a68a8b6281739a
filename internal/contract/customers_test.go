package contract_test

import (
	"testing"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/zohodesk"
)

// customerCalls drive the contacts, accounts and knowledge-base endpoints
// of the client; contactID is a contact the caller created.
func customerCalls(t *testing.T, h *harness, contactID string) {
	ctx := t.Context()
	c := h.client
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	acct, _, err := c.Accounts.Create(ctx, org, &zohodesk.AccountCreateRequest{AccountName: "Contract Co", Website: "https://contract.example", Industry: "Testing"})
	must("accounts create", err)
	_, _, err = c.Accounts.Get(ctx, org, acct.ID)
	must("accounts get", err)
	_, _, err = c.Accounts.Update(ctx, org, acct.ID, &zohodesk.AccountUpdateRequest{Phone: zohodesk.Set("+1 555 0123"), Fax: zohodesk.Set("+1 555 0124")})
	must("accounts update", err)
	_, _, err = c.Accounts.List(ctx, org, &zohodesk.AccountListOptions{ListOptions: zohodesk.ListOptions{From: 1, Limit: 10}, SortBy: "accountName"})
	must("accounts list", err)
	_, _, err = c.Accounts.Search(ctx, org, &zohodesk.AccountSearchOptions{AccountName: "Contract*"})
	must("accounts search", err)
	_, _, err = c.Accounts.Search(ctx, org, &zohodesk.AccountSearchOptions{AccountName: "Nobody at all*"})
	must("accounts search (204)", err)
	_, _, err = c.Accounts.ListContacts(ctx, org, acct.ID, nil)
	must("account contacts (204)", err)

	_, _, err = c.Contacts.Update(ctx, org, contactID, &zohodesk.ContactUpdateRequest{AccountID: zohodesk.Set(acct.ID), Title: zohodesk.Set("Buyer")})
	must("contacts update", err)
	_, _, err = c.Accounts.ListContacts(ctx, org, acct.ID, &zohodesk.AccountContactsOptions{ListOptions: zohodesk.ListOptions{Limit: 10}, SortBy: "lastName"})
	must("account contacts", err)
	_, _, err = c.Contacts.ListTickets(ctx, org, emulator.DemoContactID, &zohodesk.ContactTicketsOptions{ListOptions: zohodesk.ListOptions{Limit: 10}, SortBy: "createdTime"})
	must("contact tickets", err)
	_, _, err = c.Contacts.ListTickets(ctx, org, contactID, nil)
	must("contact tickets (204)", err)
	spare, _, err := c.Contacts.Create(ctx, org, &zohodesk.ContactCreateRequest{LastName: "Spare", Email: "spare.contract@example.com", AccountID: acct.ID})
	must("contacts create with account", err)
	_, err = c.Contacts.MoveToTrash(ctx, org, []string{spare.ID})
	must("contacts moveToTrash", err)

	_, _, err = c.Articles.Search(ctx, org, &zohodesk.ArticleSearchOptions{All: "printer", CategoryID: emulator.DemoRootCategoryID, ListOptions: zohodesk.ListOptions{Limit: 5}})
	must("articles search", err)
	_, _, err = c.Articles.Search(ctx, org, &zohodesk.ArticleSearchOptions{Title: "no such article*", SortBy: "relevance"})
	must("articles search (204)", err)
	_, _, err = c.Articles.Get(ctx, org, emulator.DemoArticleID)
	must("articles get", err)
	_, _, err = c.Articles.List(ctx, org, &zohodesk.ArticleListOptions{ListOptions: zohodesk.ListOptions{From: 1, Limit: 50}, Status: "Published"})
	must("articles list", err)
	_, _, err = c.KB.ListRootCategories(ctx, org, nil)
	must("kb root categories", err)
	_, _, err = c.KB.CategoryTree(ctx, org, emulator.DemoRootCategoryID)
	must("kb category tree", err)
}
