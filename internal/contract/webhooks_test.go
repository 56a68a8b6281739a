package contract_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/deskconn/deskconn/zohodesk"
)

// TestContractWebhooks drives the webhook endpoints with the zohodesk client
// and raw error cases, and validates every exchange against Webhook.json.
func TestContractWebhooks(t *testing.T) {
	s := loadSpec(t)
	h := newHarness(t, s)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(receiver.Close)
	ctx := t.Context()
	c := h.client
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, _, err := c.Webhooks.List(ctx, org)
	must("webhooks list (204)", err)
	enabled := true
	w, _, err := c.Webhooks.Create(ctx, org, &zohodesk.WebhookRequest{
		URL: receiver.URL, Name: "deskconn", IsEnabled: &enabled,
		Subscriptions: map[string]*zohodesk.WebhookFilter{
			"Ticket_Add": nil, "Ticket_Update": {IncludePrevState: true, Fields: []string{"status"}},
			"Ticket_Thread_Add": {Direction: "in"}, "Contact_Add": nil,
		},
	})
	must("webhooks create", err)
	if w.ID == "" || !w.IsEnabled || w.Type != "CUSTOMER_WEBHOOK" {
		t.Errorf("created webhook = %+v", w)
	}
	_, _, err = c.Webhooks.List(ctx, org)
	must("webhooks list", err)
	_, _, err = c.Webhooks.Get(ctx, org, w.ID)
	must("webhooks get", err)
	disabled := false
	_, _, err = c.Webhooks.Update(ctx, org, w.ID, &zohodesk.WebhookRequest{URL: receiver.URL, IsEnabled: &disabled,
		Subscriptions: map[string]*zohodesk.WebhookFilter{"Ticket_Add": nil}})
	must("webhooks update", err)
	_, err = c.Webhooks.Delete(ctx, org, w.ID)
	must("webhooks delete", err)

	auth := map[string]string{"Authorization": "Zoho-oauthtoken " + h.access, "orgId": org}
	for _, rc := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/v1/webhooks", `{"url":"` + receiver.URL + `","subscriptions":{"Ticket_Explode":null}}`, http.StatusUnprocessableEntity},
		{"PATCH", "/api/v1/webhooks/" + w.ID, `{"url":"` + receiver.URL + `","subscriptions":{"Ticket_Add":null}}`, http.StatusNotFound},
	} {
		if got := h.raw(t, rc.method, rc.path, auth, rc.body); got != rc.want {
			t.Errorf("%s %s = %d, want %d", rc.method, rc.path, got, rc.want)
		}
	}
	w2, _, err := c.Webhooks.Create(ctx, org, &zohodesk.WebhookRequest{URL: receiver.URL, Subscriptions: map[string]*zohodesk.WebhookFilter{"Ticket_Add": nil}})
	must("webhooks create", err)
	if got := h.raw(t, "PATCH", "/api/v1/webhooks/"+w2.ID, auth, `{"url":"`+receiver.URL+`","subscriptions":{"Ticket_Add":{"fields":["x"]}}}`); got != http.StatusUnprocessableEntity {
		t.Errorf("PATCH with a bad filter = %d, want 422", got)
	}

	for _, p := range append(h.clientRec.Problems(), h.rawRec.Problems()...) {
		t.Errorf("contract violation: %v", p)
	}
	clientX, rawX := h.clientRec.Exchanges(), h.rawRec.Exchanges()
	for _, want := range []struct {
		op       string
		statuses []int
	}{
		{"GET /api/v1/webhooks", []int{200, 204}},
		{"POST /api/v1/webhooks", []int{200, 422}},
		{"GET /api/v1/webhooks/{webhookId}", []int{200}},
		{"PATCH /api/v1/webhooks/{webhookId}", []int{200, 422}},
		{"DELETE /api/v1/webhooks/{webhookId}", []int{200}},
	} {
		cx, rx := clientX[want.op], rawX[want.op]
		if cx.Requests == 0 {
			t.Errorf("%s: no client request validated", want.op)
		}
		for _, status := range want.statuses {
			if cx.Responses[status]+rx.Responses[status] == 0 {
				t.Errorf("%s: no %d response validated", want.op, status)
			}
		}
	}
}
