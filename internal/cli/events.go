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
	return mountEventsWith(s, m, st, false)
}

// mountDemoEvents is mountEvents for serve --demo: Zoho is the local
// emulator, so webhooks may point at plain-http loopback, and so may
// subscribers.
func mountDemoEvents(s *restapi.Server, m *connection.Manager, st store.Store) error {
	return mountEventsWith(s, m, st, true)
}

func mountEventsWith(s *restapi.Server, m *connection.Manager, st store.Store, demo bool) error {
	log := slog.Default()
	p := events.New(events.Options{
		Store: st, Keyring: m.Keyring(), Client: m.Client, Fetcher: subscriberFetcher(log, demo),
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
