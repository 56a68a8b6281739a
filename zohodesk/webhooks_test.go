package zohodesk

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestWebhookRequestValidate(t *testing.T) {
	t.Parallel()
	subs := map[string]*WebhookFilter{"Ticket_Add": nil}
	tests := []struct {
		name string
		req  *WebhookRequest
		ok   bool
	}{
		{"nil", nil, false},
		{"no url", &WebhookRequest{Subscriptions: subs}, false},
		{"no subscriptions", &WebhookRequest{URL: "https://h.example.com/"}, false},
		{"valid", &WebhookRequest{URL: "https://h.example.com/", Subscriptions: subs}, true},
	}
	for _, tt := range tests {
		err := tt.req.validate()
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: validate = %v, want ok=%v (ErrInvalid otherwise)", tt.name, err, tt.ok)
		}
	}
}

// A nil filter subscribes without filters and goes out as JSON null, the
// form peers use successfully (zoho-desk-api-2.md §1.2).
func TestWebhookRequestJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(&WebhookRequest{URL: "https://h.example.com/", Subscriptions: map[string]*WebhookFilter{
		"Ticket_Add": nil, "Ticket_Update": {IncludePrevState: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"url":"https://h.example.com/","subscriptions":{"Ticket_Add":null,"Ticket_Update":{"includePrevState":true}}}`
	if string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}
