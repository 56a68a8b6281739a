package events

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// EventsScope is the OAuth scope that managing Zoho webhooks needs
// (zoho-desk-api-2.md §1.1, §7: Desk.events.ALL is the one every source
// accepts).
const EventsScope = "Desk.events.ALL"

// Sources switches connections' event intake on and off: a Zoho webhook
// pointing at the Receiver when Zoho can reach deskconn and the connection
// may manage webhooks, polling otherwise (and whenever Zoho refuses the
// webhook, e.g. on an edition without webhooks), with the reason kept as the
// source's LastError so that it can be shown.
type Sources struct {
	Store  store.Store
	Client ClientFunc
	// BaseURL is deskconn's public base URL; Zoho is given
	// ReceiverURL(BaseURL, token).
	BaseURL string
	// AllowHTTP accepts a plain-http BaseURL for webhooks (the demo, whose
	// Zoho is the local emulator). Otherwise webhooks need https.
	AllowHTTP bool
	Now       func() time.Time
}

func (s *Sources) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// webhookBlocker says why the connection cannot get a webhook, or "".
func (s *Sources) webhookBlocker(c *store.Connection) string {
	u, err := url.Parse(s.BaseURL)
	switch {
	case err != nil || u.Host == "":
		return "deskconn's base URL is not set, so Zoho cannot reach it: polling instead"
	case u.Scheme != "https" && !s.AllowHTTP:
		return "webhooks need an https base URL that Zoho can reach (set --base-url https://...): polling instead"
	case !slices.Contains(c.Scopes, EventsScope):
		return "the connection lacks the " + EventsScope + " scope that managing Zoho webhooks needs: add it to the connection's scopes and reconnect to receive webhooks; polling instead"
	}
	return ""
}

// Enable turns events on for a tenant's connection and returns its source.
// mode is SourceWebhook, SourcePolling, or "" for the best available. A
// webhook that cannot be had falls back to polling; the source's LastError
// says why. Re-enabling replaces the connection's previous Zoho webhook.
func (s *Sources) Enable(ctx context.Context, tenantID, idOrName string, mode store.EventSourceMode) (*store.EventSource, error) {
	client, conn, err := s.Client(ctx, tenantID, idOrName)
	if err != nil {
		return nil, err
	}
	prev, err := s.Store.GetEventSource(ctx, conn.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if prev != nil && prev.WebhookID != "" {
		if err := deleteWebhook(ctx, client, conn.OrgID, prev.WebhookID); err != nil {
			return nil, err
		}
	}
	// Polling starts from now (no history), and keeps its cursor across
	// re-enables; in webhook mode it is the catch-up point if Zoho's
	// webhook is ever lost.
	if cur, err := s.Store.GetCursor(ctx, conn.ID, cursorTickets); err != nil {
		return nil, err
	} else if cur == "" {
		if err := s.Store.SetCursor(ctx, conn.ID, cursorTickets, s.now().UTC().Format(time.RFC3339Nano)); err != nil {
			return nil, err
		}
	}
	src := &store.EventSource{ConnectionID: conn.ID, TenantID: conn.TenantID, Mode: store.SourcePolling}
	if mode == store.SourcePolling {
		return src, s.Store.PutEventSource(ctx, src)
	}
	if why := s.webhookBlocker(conn); why != "" {
		if mode == store.SourceWebhook {
			return nil, deskconn.Errorf(deskconn.CodeForbidden, "%s", strings.TrimSuffix(why, ": polling instead"))
		}
		src.LastError = why
		return src, s.Store.PutEventSource(ctx, src)
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	// The token is stored before Zoho validates the URL, so the receiver
	// already answers the validation GET.
	hook := &store.EventSource{ConnectionID: conn.ID, TenantID: conn.TenantID, Mode: store.SourceWebhook, TokenHash: TokenHash(token)}
	if err := s.Store.PutEventSource(ctx, hook); err != nil {
		return nil, err
	}
	enabled := true
	subs := map[string]*zohodesk.WebhookFilter{}
	for _, name := range ZohoEventNames() {
		var f *zohodesk.WebhookFilter
		switch name {
		case "Ticket_Update", "Contact_Update", "Account_Update":
			f = &zohodesk.WebhookFilter{IncludePrevState: true}
		}
		subs[name] = f
	}
	w, _, err := client.Webhooks.Create(ctx, conn.OrgID, &zohodesk.WebhookRequest{
		URL: ReceiverURL(s.BaseURL, token), Name: "deskconn " + conn.Name, IsEnabled: &enabled, Subscriptions: subs,
		Description: "deskconn event intake for connection " + conn.Name,
	})
	if err != nil {
		src.LastError = fmt.Sprintf("Zoho refused the webhook (%v): polling instead", err)
		if mode == store.SourceWebhook {
			src.Mode = store.SourceOff
		}
		if perr := s.Store.PutEventSource(ctx, src); perr != nil {
			return nil, perr
		}
		if mode == store.SourceWebhook {
			return nil, &deskconn.Error{Code: deskconn.CodeUnavailable, Message: "Zoho refused the webhook: " + err.Error(), Err: err}
		}
		return src, nil
	}
	hook.WebhookID = w.ID
	if err := s.Store.PutEventSource(ctx, hook); err != nil {
		return nil, err
	}
	return hook, nil
}

// Disable turns events off for a connection and deletes its Zoho webhook.
// The event log and subscriptions stay.
func (s *Sources) Disable(ctx context.Context, tenantID, idOrName string) error {
	client, conn, err := s.Client(ctx, tenantID, idOrName)
	if err != nil {
		return err
	}
	prev, err := s.Store.GetEventSource(ctx, conn.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if prev.WebhookID != "" {
		if err := deleteWebhook(ctx, client, conn.OrgID, prev.WebhookID); err != nil {
			return err
		}
	}
	return s.Store.PutEventSource(ctx, &store.EventSource{ConnectionID: conn.ID, TenantID: conn.TenantID, Mode: store.SourceOff})
}

// deleteWebhook deletes a Zoho webhook; one already gone is fine [D SIM,
// N8NT treat 404 as deleted].
func deleteWebhook(ctx context.Context, client *zohodesk.Client, orgID, id string) error {
	if _, err := client.Webhooks.Delete(ctx, orgID, id); err != nil && !errors.Is(err, zohodesk.ErrNotFound) {
		return fmt.Errorf("delete the Zoho webhook: %w", err)
	}
	return nil
}
