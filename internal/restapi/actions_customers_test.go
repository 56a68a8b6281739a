package restapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/demo/demotest"
)

// postAction posts input to an action of the demo connection.
func postAction(t *testing.T, d *demo.Demo, name, input string) actResp {
	t.Helper()
	resp, b := demotest.Send(t, http.MethodPost, d.URL+"/v1/connections/"+d.Connection+"/actions/"+name, d.APIKey.Reveal(), input)
	return actResp{status: resp.StatusCode, header: resp.Header, body: b}
}

// TestCustomerActionsOverREST runs the contact and knowledge-base actions
// through the REST API of a demo server (default scopes, default
// policies): a duplicate contact is a 409 naming the first, trashing
// contacts needs confirm, and article search answers.
func TestCustomerActionsOverREST(t *testing.T) {
	t.Parallel()
	d := startSpecDemo(t)
	in := `{"payload":{"lastName":"Kent","firstName":"Clark","email":"clark@dailyplanet.example","accountName":"Globex Corporation"}}`
	r := postAction(t, d, "create_contact", in)
	if r.status != http.StatusOK {
		t.Fatalf("create_contact: %d %s", r.status, r.body)
	}
	id, _ := r.json(t)["id"].(string)
	r = postAction(t, d, "create_contact", in)
	p := r.problem(t)
	if r.status != http.StatusConflict || p.Code != deskconn.CodeConflict || len(p.Candidates) != 1 || p.Candidates[0].ID != id {
		t.Fatalf("second create_contact: %d %s", r.status, r.body)
	}

	r = postAction(t, d, "move_contacts_to_trash", `{"payload":{"contactIds":["`+id+`"]}}`)
	if p := r.problem(t); r.status != http.StatusForbidden || len(p.Errors) != 1 || p.Errors[0].Pointer != "/confirm" {
		t.Fatalf("unconfirmed trash: %d %s", r.status, r.body)
	}
	r = postAction(t, d, "move_contacts_to_trash", `{"confirm":true,"payload":{"contactIds":["`+id+`"]}}`)
	if r.status != http.StatusOK || r.json(t)["success"] != true {
		t.Fatalf("confirmed trash: %d %s", r.status, r.body)
	}

	r = postAction(t, d, "search_articles", `{"text":"wi-fi"}`)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "Connect the Printer F3 to Wi-Fi") {
		t.Fatalf("search_articles: %d %s", r.status, r.body)
	}
	r = postAction(t, d, "get_article", `{"articleId":"`+emulator.DemoArticleID+`"}`)
	if r.status != http.StatusOK || !strings.Contains(r.json(t)["text"].(string), "E-42") {
		t.Fatalf("get_article: %d %s", r.status, r.body)
	}
}
