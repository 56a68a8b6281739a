package zohodesk

import (
	"encoding/json"
	"testing"
)

func TestOptional(t *testing.T) {
	t.Parallel()
	type body struct {
		A Optional[string] `json:"a,omitzero"`
		B Optional[string] `json:"b,omitzero"`
		C Optional[int]    `json:"c,omitzero"`
	}
	b, err := json.Marshal(body{A: Set("x"), B: Null[string]()})
	if err != nil || string(b) != `{"a":"x","b":null}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back body
	if err := json.Unmarshal([]byte(`{"a":"x","b":null}`), &back); err != nil {
		t.Fatal(err)
	}
	if v, ok := back.A.Value(); !ok || v != "x" || back.A.IsNull() {
		t.Errorf("A = %+v", back.A)
	}
	if _, ok := back.B.Value(); ok || !back.B.IsNull() || back.B.IsZero() {
		t.Errorf("B = %+v, want null", back.B)
	}
	if !back.C.IsZero() || back.C.IsNull() {
		t.Errorf("C = %+v, want unset", back.C)
	}
	if err := json.Unmarshal([]byte(`{"c":"not a number"}`), &back); err == nil {
		t.Errorf("Unmarshal of a wrong type succeeded")
	}
}

func TestEveryMethodRefusesEmptyOrg(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t) // the catch-all fails the test if a request is sent
	ctx := t.Context()
	errs := map[string]error{}
	_, _, errs["Departments.List"] = c.Departments.List(ctx, "", nil)
	_, _, errs["Teams.List"] = c.Teams.List(ctx, " ", nil)
	_, _, errs["Products.List"] = c.Products.List(ctx, "", nil)
	_, _, errs["Roles.List"] = c.Roles.List(ctx, "", nil)
	_, _, errs["Profiles.List"] = c.Profiles.List(ctx, "", nil)
	_, _, errs["Contacts.List"] = c.Contacts.List(ctx, "", nil)
	_, _, errs["Contacts.Search"] = c.Contacts.Search(ctx, "", nil)
	_, _, errs["Contacts.Create"] = c.Contacts.Create(ctx, "", &ContactCreateRequest{LastName: "x"})
	_, _, errs["Contacts.Get"] = c.Contacts.Get(ctx, "", "1", nil)
	_, _, errs["Agents.List"] = c.Agents.List(ctx, "", nil)
	_, _, errs["Agents.Get"] = c.Agents.Get(ctx, "", "1", nil)
	_, _, errs["Agents.GetByEmail"] = c.Agents.GetByEmail(ctx, "", "a@b")
	_, errs["Agents.Deactivate"] = c.Agents.Deactivate(ctx, "", "1")
	_, errs["Agents.Activate"] = c.Agents.Activate(ctx, "", []string{"1"})
	_, _, errs["MyInfo"] = c.MyInfo(ctx, "", nil)
	_, _, errs["Tickets.List"] = c.Tickets.List(ctx, "", nil)
	_, _, errs["Tickets.Get"] = c.Tickets.Get(ctx, "", "1", nil)
	_, _, errs["Tickets.Update"] = c.Tickets.Update(ctx, "", "1", &TicketUpdateRequest{Status: Set("Open")}, nil)
	_, errs["Tickets.MoveToTrash"] = c.Tickets.MoveToTrash(ctx, "", []string{"1"})
	_, _, errs["Tickets.Search"] = c.Tickets.Search(ctx, "", nil)
	_, _, errs["Uploads.Create"] = c.Uploads.Create(ctx, "", "a", nil)
	_, _, errs["TicketAttachments.List"] = c.TicketAttachments.List(ctx, "", "1", nil)
	_, _, errs["TicketAttachments.Download"] = c.TicketAttachments.Download(ctx, "", "tickets/1/attachments/2/content")
	for name, err := range errs {
		if err == nil || err.Error() != "zohodesk: orgID must not be empty" {
			t.Errorf("%s with empty orgID: %v", name, err)
		}
	}
}
