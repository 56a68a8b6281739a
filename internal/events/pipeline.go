package events

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
)

// Options configure a Pipeline.
type Options struct {
	Store   store.Store
	Keyring *seal.Keyring
	Client  ClientFunc // Desk clients for the poller and for managing webhooks
	// Fetcher vets subscriber URLs and sends deliveries: the SSRF-guarded
	// egress fetcher (*egress.Fetcher).
	Fetcher interface {
		URLChecker
		Poster
	}
	BaseURL   string // deskconn's public base URL (webhook receiving URLs)
	AllowHTTP bool   // accept a plain-http BaseURL for webhooks (demo only)
	// JWKSClient fetches Zoho's JWKS; nil means a client with FetchTimeout.
	JWKSClient *http.Client
	// Owner names this process in leases and delivery claims; "" picks a
	// random one.
	Owner     string
	Retention time.Duration // event log retention; 0: DefaultRetention
	// PollInterval is how often polling connections are read; 0: 30 s.
	PollInterval time.Duration
	// PollCreditsPerDay is polling's daily Zoho credit budget per
	// connection; 0: DefaultPollCredits.
	PollCreditsPerDay int
	// DeliveryLease is how long a delivery claim lasts (Worker.Lease): the
	// deliveries a crashed process had claimed wait this long before
	// another process (or its restart) sends them; 0: DefaultLease.
	DeliveryLease time.Duration
	Logger        *slog.Logger
}

// Pipeline is one process's share of the event pipeline: the log, the
// webhook receiver, the sources, the delivery worker and the poller. Run
// starts its background work.
type Pipeline struct {
	Log      *Log
	Receiver *Receiver
	Sources  *Sources
	Worker   *Worker
	Poller   *Poller
	Store    store.Store
	Keyring  *seal.Keyring
	URLs     URLChecker

	retention time.Duration
	logger    *slog.Logger
}

// New builds a Pipeline.
func New(o Options) *Pipeline {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Owner == "" {
		o.Owner = store.NewID("proc")
	}
	l := &Log{Store: o.Store}
	return &Pipeline{
		Log:      l,
		Receiver: &Receiver{Store: o.Store, Log: l, Verifier: &Verifier{Client: o.JWKSClient}, Logger: o.Logger},
		Sources:  &Sources{Store: o.Store, Client: o.Client, BaseURL: o.BaseURL, AllowHTTP: o.AllowHTTP},
		Worker:   &Worker{Store: o.Store, Keyring: o.Keyring, Poster: o.Fetcher, Log: l, Owner: o.Owner, Logger: o.Logger, Lease: o.DeliveryLease},
		Poller:   &Poller{Store: o.Store, Log: l, Client: o.Client, Owner: o.Owner, Logger: o.Logger, Interval: o.PollInterval, CreditsPerDay: o.PollCreditsPerDay},
		Store:    o.Store,
		Keyring:  o.Keyring,
		URLs:     o.Fetcher,

		retention: o.Retention,
		logger:    o.Logger,
	}
}

// Run delivers, polls and purges until ctx ends, then returns once all of
// it has stopped.
func (p *Pipeline) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { _ = p.Worker.Run(ctx) })
	wg.Go(func() { _ = p.Poller.Run(ctx) })
	wg.Go(func() {
		ticker := time.NewTicker(time.Hour)
		defer ticker.Stop()
		for {
			if n, err := p.Log.Purge(ctx, p.retention); err != nil && ctx.Err() == nil {
				p.logger.Error("events: purge the event log", "err", err)
			} else if n > 0 {
				p.logger.Info("events: purged old events", "count", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	})
	wg.Wait()
}
