package zohodesk

import (
	"context"
	"encoding/json"
	"net/http"
)

// WebhooksService manages webhooks: Zoho POSTs events of the subscribed
// types to the webhook's URL (zoho-desk-api-2.md §1). Scopes: Desk.events.*
// (Desk.events.ALL covers every method) or Desk.settings.*.
type WebhooksService service

// WebhookFilter narrows one event subscription. Which keys an event takes
// is in the catalogue (§1.3); a nil *WebhookFilter subscribes with no filter
// and is sent as JSON null.
type WebhookFilter struct {
	DepartmentIDs    []string `json:"departmentIds,omitempty"`
	Fields           []string `json:"fields,omitempty"` // Ticket_Update: at most 5 field API names
	IncludePrevState bool     `json:"includePrevState,omitempty"`
	Direction        string   `json:"direction,omitempty"` // Ticket_Thread_Add: "in" or "out"
}

// WebhookRequest is the body of Webhooks.Create and Webhooks.Update. URL and
// Subscriptions are required by both (the OAS requires subscriptions on
// PATCH too).
type WebhookRequest struct {
	URL           string                    `json:"url"`
	Subscriptions map[string]*WebhookFilter `json:"subscriptions"`
	Name          string                    `json:"name,omitempty"`
	Description   string                    `json:"description,omitempty"`
	// IsEnabled defaults to true at Zoho when omitted [GAP]; set it to be sure.
	IsEnabled *bool `json:"isEnabled,omitempty"`
	// IgnoreSourceID: events caused by API calls made with this source id are
	// not delivered (a loop guard; how a call declares its source is [GAP]).
	IgnoreSourceID    string   `json:"ignoreSourceId,omitempty"`
	IncludeEventsFrom []string `json:"includeEventsFrom,omitempty"` // only "AUTOMATION"
}

func (r *WebhookRequest) validate() error {
	if r == nil {
		return invalidf("webhook request is nil")
	}
	if r.URL == "" {
		return invalidf("webhook url is required")
	}
	if len(r.Subscriptions) == 0 {
		return invalidf("webhook subscriptions must name at least one event")
	}
	return nil
}

// Webhook is a webhook as Zoho returns it; Raw keeps the whole object.
type Webhook struct {
	ID                string                     `json:"id"`
	Name              string                     `json:"name,omitempty"`
	Description       string                     `json:"description,omitempty"`
	URL               string                     `json:"url"`
	Subscriptions     map[string]json.RawMessage `json:"subscriptions,omitempty"`
	IsEnabled         bool                       `json:"isEnabled"`
	IgnoreSourceID    string                     `json:"ignoreSourceId,omitempty"`
	IncludeEventsFrom []string                   `json:"includeEventsFrom,omitempty"`
	CreatedBy         string                     `json:"createdBy,omitempty"`
	CreatedTime       string                     `json:"createdTime,omitempty"`
	ModifiedTime      string                     `json:"modifiedTime,omitempty"`
	Type              string                     `json:"type,omitempty"` // CUSTOMER_WEBHOOK or EXTENSION_WEBHOOK

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes w and keeps the whole object in Raw.
func (w *Webhook) UnmarshalJSON(b []byte) error {
	type plain Webhook
	if err := decodeLenient(b, (*plain)(w)); err != nil {
		return err
	}
	w.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// List returns the portal's webhooks (empty on 204).
//
//desk:operation GET /api/v1/webhooks
func (s *WebhooksService) List(ctx context.Context, orgID string) ([]*Webhook, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	var body struct {
		Data []*Webhook `json:"data"`
	}
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "webhooks", path: "webhooks", orgID: orgID, withOrg: true}, &body)
	if err != nil {
		return nil, resp, err
	}
	return body.Data, resp, nil
}

// Create creates a webhook. Zoho first sends a validation GET (then, if that
// fails, a POST) to the URL, which must answer 200; otherwise creation
// fails. It answers 200, not 201.
//
//desk:operation POST /api/v1/webhooks
func (s *WebhooksService) Create(ctx context.Context, orgID string, req *WebhookRequest) (*Webhook, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	if err := req.validate(); err != nil {
		return nil, nil, err
	}
	w := new(Webhook)
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "webhooks", path: "webhooks", orgID: orgID, withOrg: true, jsonBody: req}, w)
	if err != nil {
		return nil, resp, err
	}
	return w, resp, nil
}

// Get returns one webhook.
//
//desk:operation GET /api/v1/webhooks/{webhookId}
func (s *WebhooksService) Get(ctx context.Context, orgID, webhookID string) (*Webhook, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("webhookID", webhookID)
	if err != nil {
		return nil, nil, err
	}
	w := new(Webhook)
	resp, err := s.client.do(ctx, &request{method: http.MethodGet, tmpl: "webhooks/{webhookId}", path: "webhooks/" + id, orgID: orgID, withOrg: true}, w)
	if err != nil {
		return nil, resp, err
	}
	return w, resp, nil
}

// Update changes a webhook; a changed URL is validated like at creation.
//
//desk:operation PATCH /api/v1/webhooks/{webhookId}
func (s *WebhooksService) Update(ctx context.Context, orgID, webhookID string, req *WebhookRequest) (*Webhook, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	id, err := segment("webhookID", webhookID)
	if err != nil {
		return nil, nil, err
	}
	if err := req.validate(); err != nil {
		return nil, nil, err
	}
	w := new(Webhook)
	resp, err := s.client.do(ctx, &request{method: http.MethodPatch, tmpl: "webhooks/{webhookId}", path: "webhooks/" + id, orgID: orgID, withOrg: true, jsonBody: req}, w)
	if err != nil {
		return nil, resp, err
	}
	return w, resp, nil
}

// Delete deletes a webhook (Zoho answers 200 with an empty body). Peers
// treat 404 as already deleted [D SIM, N8NT]; so may the caller, with
// errors.Is(err, ErrNotFound).
//
//desk:operation DELETE /api/v1/webhooks/{webhookId}
func (s *WebhooksService) Delete(ctx context.Context, orgID, webhookID string) (*Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, err
	}
	id, err := segment("webhookID", webhookID)
	if err != nil {
		return nil, err
	}
	return s.client.do(ctx, &request{method: http.MethodDelete, tmpl: "webhooks/{webhookId}", path: "webhooks/" + id, orgID: orgID, withOrg: true}, nil)
}
