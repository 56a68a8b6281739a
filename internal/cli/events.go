package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/events"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
)

// subscriberFetcher builds the client that vets subscriber URLs and sends
// deliveries: the SSRF-guarded egress fetcher (DESIGN §7). With
// allowLoopback (serve --demo only) subscribers on this machine are
// allowed, with a warning logged.
var subscriberFetcher = func(log *slog.Logger, allowLoopback bool) *egress.Fetcher {
	cfg := egress.Config{Logger: log, Timeout: 30 * time.Second, MaxBytes: 1 << 20, MaxRedirects: -1, UserAgent: "deskconn-webhooks/1"}
	if allowLoopback {
		cfg.UnsafeAllowLoopback = []string{"127.0.0.1", "localhost", "::1"}
	}
	return egress.New(cfg)
}

// mountEvents adds the event pipeline to serve: the REST doors, Zoho's
// webhook receiver, and the delivery worker, poller and purge running
// while the server serves.
func mountEvents(s *restapi.Server, m *connection.Manager, st store.Store) error {
	return mountEventsWith(s, m, st, false, false)
}

// mountEventsLoopbackSubscribers is mountEvents for serve
// --allow-private-subscribers: subscribers on this machine are allowed
// (Zoho webhooks still need an https base URL).
func mountEventsLoopbackSubscribers(s *restapi.Server, m *connection.Manager, st store.Store) error {
	return mountEventsWith(s, m, st, false, true)
}

// mountRoutesLoopbackSubscribers is mountRoutes with
// mountEventsLoopbackSubscribers.
func mountRoutesLoopbackSubscribers(s *restapi.Server, m *connection.Manager, st store.Store) error {
	for _, mount := range []func(*restapi.Server, *connection.Manager, store.Store) error{mountActions, mountMCP, mountEventsLoopbackSubscribers, recordBaseURL} {
		if err := mount(s, m, st); err != nil {
			return err
		}
	}
	return nil
}

// privateSubscribersWarning is printed (and logged) when serve starts with
// --allow-private-subscribers.
const privateSubscribersWarning = "WARNING: --allow-private-subscribers: event subscriptions may point at this machine " +
	"(127.0.0.1, localhost, ::1), so anyone with an API key can make deskconn POST to services on it. " +
	"Use it for tests and single-machine setups only, never on a shared or public server."

// mountDemoEvents is mountEvents for serve --demo: Zoho is the local
// emulator, so webhooks may point at plain-http loopback, and so may
// subscribers.
func mountDemoEvents(s *restapi.Server, m *connection.Manager, st store.Store) error {
	return mountEventsWith(s, m, st, true, true)
}

func mountEventsWith(s *restapi.Server, m *connection.Manager, st store.Store, demo, loopbackSubscribers bool) error {
	log := slog.Default()
	p := events.New(events.Options{
		Store: st, Keyring: m.Keyring(), Client: m.Client, Fetcher: subscriberFetcher(log, loopbackSubscribers),
		BaseURL: s.BaseURL(), AllowHTTP: demo, Logger: log,
	})
	if err := s.MountEvents(p); err != nil {
		return err
	}
	s.RunInBackground(p.Run)
	// Connecting switches events on: a Zoho webhook, or polling with the
	// reason recorded on the connection's event source.
	m.OnActive(func(ctx context.Context, c *store.Connection) {
		src, err := p.Sources.Enable(ctx, c.TenantID, c.ID, "")
		switch {
		case err != nil:
			log.Warn("events not enabled for the connection", "connection", c.ID, "err", err)
		case src.LastError != "":
			log.Info("events by polling", "connection", c.ID, "reason", src.LastError)
		}
	})
	return nil
}
