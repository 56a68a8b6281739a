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
	cfg := egress.Config{Logger: log, Timeout: 30 * time.Second, MaxBytes: 1 << 20, MaxRedirects: -1, UserAgent: "deskconn-webhooks/1",
		KeepAlive: true} // deliveries go to the same few subscribers again and again
	if allowLoopback {
		cfg.UnsafeAllowLoopback = []string{"127.0.0.1", "localhost", "::1"}
	}
	return egress.New(cfg)
}

// eventsConfig is how serve mounts the event pipeline.
type eventsConfig struct {
	demo                bool          // Zoho is the local emulator: plain-http loopback webhooks
	loopbackSubscribers bool          // subscribers on this machine allowed (--demo, --allow-private-subscribers)
	lease               time.Duration // delivery claim lease (--event-delivery-lease); 0: the default
}

// mountEvents adds the event pipeline to serve: the REST doors, Zoho's
// webhook receiver, and the delivery worker, poller and purge running
// while the server serves.
func mountEvents(s *restapi.Server, m *connection.Manager, st store.Store) error {
	return eventsConfig{}.mount(s, m, st)
}

// mountDemoEvents is mountEvents for serve --demo: Zoho is the local
// emulator, so webhooks may point at plain-http loopback, and so may
// subscribers.
func mountDemoEvents(s *restapi.Server, m *connection.Manager, st store.Store) error {
	return eventsConfig{demo: true, loopbackSubscribers: true}.mount(s, m, st)
}

// routesWithEvents is mountRoutes with the event pipeline mounted as c says.
func routesWithEvents(c eventsConfig) func(*restapi.Server, *connection.Manager, store.Store) error {
	return func(s *restapi.Server, m *connection.Manager, st store.Store) error {
		for _, mount := range []func(*restapi.Server, *connection.Manager, store.Store) error{mountActions, mountMCP, c.mount, recordBaseURL} {
			if err := mount(s, m, st); err != nil {
				return err
			}
		}
		return nil
	}
}

// privateSubscribersWarning is printed (and logged) when serve starts with
// --allow-private-subscribers.
const privateSubscribersWarning = "WARNING: --allow-private-subscribers: event subscriptions may point at this machine " +
	"(127.0.0.1, localhost, ::1), so anyone with an API key can make deskconn POST to services on it. " +
	"Use it for tests and single-machine setups only, never on a shared or public server."

func (c eventsConfig) mount(s *restapi.Server, m *connection.Manager, st store.Store) error {
	log := slog.Default()
	p := events.New(events.Options{
		Store: st, Keyring: m.Keyring(), Client: m.Client, Fetcher: subscriberFetcher(log, c.loopbackSubscribers),
		BaseURL: s.BaseURL(), AllowHTTP: c.demo, Logger: log, DeliveryLease: c.lease,
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
