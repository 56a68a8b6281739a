package zohodesk

import (
	"errors"
	"net/http"
	"testing"
)

func TestContactsList(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/contacts", wantReq{
		method: "GET", path: "/api/v1/contacts", org: true, query: q("limit", "100", "sortBy", "-createdTime", "include", "accounts"),
	}, http.StatusOK, fixture(t, "contacts.json"))
	got, _, err := c.Contacts.List(t.Context(), testOrg, &ContactListOptions{ListOptions: ListOptions{Limit: 100}, SortBy: "-createdTime", Include: "accounts"})
	if err != nil {
		t.Fatalf("Contacts.List: %v", err)
	}
	if len(got) != 1 || got[0].Email != "carol@zylker.com" || got[0].CF["cf_tier"] != "gold" || !hasKey(got[0].Raw, "customerHappiness") {
		t.Errorf("Contacts.List = %+v", got)
	}
}

func TestContactsSearch(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/contacts/search", wantReq{
		method: "GET", path: "/api/v1/contacts/search", org: true, query: q("_all", "carol", "sortBy", "relevance", "email", "carol*"),
	}, http.StatusOK, fixture(t, "contacts_search.json"))
	res, _, err := c.Contacts.Search(t.Context(), testOrg, &ContactSearchOptions{All: "carol", SortBy: "relevance", Email: "carol*"})
	if err != nil {
		t.Fatalf("Contacts.Search: %v", err)
	}
	if res.Count != "1" || len(res.Contacts) != 1 || res.Contacts[0].ID != "1892000000042032" {
		t.Errorf("Contacts.Search = %+v", res)
	}
}

func TestContactsSearchNumericCountAnd204(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	calls := 0
	mux.HandleFunc("/api/v1/contacts/search", func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Write([]byte(`{"data":[{"id":1892000000042032}],"count":1}`)) // numbers where strings are usual
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	res, _, err := c.Contacts.Search(t.Context(), testOrg, nil)
	if err != nil || res.Count != "1" || res.Contacts[0].ID != "1892000000042032" {
		t.Fatalf("Contacts.Search = %+v, %v", res, err)
	}
	res, _, err = c.Contacts.Search(t.Context(), testOrg, nil)
	if err != nil || len(res.Contacts) != 0 || res.Count != "" {
		t.Errorf("Contacts.Search on 204 = %+v, %v", res, err)
	}
}

func TestContactsCreate(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/contacts", wantReq{
		method: "POST", path: "/api/v1/contacts", org: true,
		body: `{"lastName":"Carol","firstName":"Lucas","email":"carol@zylker.com","cf":{"cf_tier":"gold"}}`,
	}, http.StatusOK, fixture(t, "contact.json"))
	ct, _, err := c.Contacts.Create(t.Context(), testOrg, &ContactCreateRequest{LastName: "Carol", FirstName: "Lucas", Email: "carol@zylker.com", CF: map[string]any{"cf_tier": "gold"}})
	if err != nil || ct.ID != "1892000000042032" {
		t.Fatalf("Contacts.Create = %+v, %v", ct, err)
	}
	if _, _, err := c.Contacts.Create(t.Context(), testOrg, &ContactCreateRequest{Email: "x@y"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no lastName: error = %v, want ErrInvalid", err)
	}
}

func TestContactsCreateDuplicate(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/contacts", wantReq{method: "POST", path: "/api/v1/contacts", org: true, body: `{"lastName":"C","email":"c@z"}`},
		http.StatusUnprocessableEntity, `{"errorCode":"INVALID_DATA","message":"bad","errors":[{"fieldName":"/email","errorType":"duplicate"}]}`)
	_, _, err := c.Contacts.Create(t.Context(), testOrg, &ContactCreateRequest{LastName: "C", Email: "c@z"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || len(apiErr.Fields) != 1 || apiErr.Fields[0] != (FieldError{Pointer: "/email", Type: "duplicate"}) {
		t.Errorf("Contacts.Create error = %#v", err)
	}
}

func TestContactsGet(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "/api/v1/contacts/1892000000042032", wantReq{
		method: "GET", path: "/api/v1/contacts/1892000000042032", org: true, query: q("include", "accounts,owner"),
	}, http.StatusOK, fixture(t, "contact.json"))
	ct, _, err := c.Contacts.Get(t.Context(), testOrg, "1892000000042032", &ContactGetOptions{Include: "accounts,owner"})
	if err != nil || ct.LastName != "Carol" {
		t.Fatalf("Contacts.Get = %+v, %v", ct, err)
	}
}
