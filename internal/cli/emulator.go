package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/spf13/cobra"
)

// emulatorFlags are the flags of `deskconn emulator` that shape the
// emulator (as opposed to where it listens).
type emulatorFlags struct {
	clientID, secret, name string
	redirects              []string
	autoConsent            bool
	latency                time.Duration
	tickets                int
	faults                 []string // JSON, one fault each (emulator.ParseFault)
	edition                string
	dailyCredits           int
	maxConcurrent          int
	searchDelay            time.Duration
	trashed                string // "404" or "visible"
	requireUploadLength    bool
}

// options validates f and returns the emulator's options. Every error names
// the flag and says what to change.
func (f *emulatorFlags) options() (emulator.Options, error) {
	redirects := f.redirects
	if len(redirects) == 0 {
		redirects = []string{emulator.DemoRedirectURI}
	}
	opts := emulator.Options{
		Clients:       []emulator.OAuthClient{{ID: f.clientID, Secret: f.secret, RedirectURIs: redirects, Name: f.name}},
		AutoConsent:   f.autoConsent,
		ExtraTickets:  f.tickets,
		DailyCredits:  f.dailyCredits,
		MaxConcurrent: f.maxConcurrent,
	}
	opts.SearchDelay, opts.RequireUploadLength = f.searchDelay, f.requireUploadLength
	switch {
	case f.clientID == "":
		return emulator.Options{}, errors.New("invalid --client-id: it is empty; pass the OAuth client id to register or leave the flag out for the demo client")
	case f.latency < 0:
		return emulator.Options{}, fmt.Errorf("invalid --latency %s: use a duration >= 0 such as 250ms", f.latency)
	case f.tickets < 0:
		return emulator.Options{}, fmt.Errorf("invalid --tickets %d: use 0 or a positive number of extra tickets", f.tickets)
	case f.dailyCredits < 0:
		return emulator.Options{}, fmt.Errorf("invalid --daily-credits %d: use 0 (the edition's budget) or a positive number of credits per day", f.dailyCredits)
	case f.maxConcurrent < 0:
		return emulator.Options{}, fmt.Errorf("invalid --max-concurrent %d: use 0 (the edition's limit) or a positive number of calls", f.maxConcurrent)
	case f.searchDelay < 0:
		return emulator.Options{}, fmt.Errorf("invalid --search-delay %s: use a duration >= 0 such as 30s (0: search sees writes at once)", f.searchDelay)
	}
	switch f.trashed {
	case "", "404":
		opts.TrashedTickets = emulator.TrashedNotFound
	case "visible":
		opts.TrashedTickets = emulator.TrashedVisible
	default:
		return emulator.Options{}, fmt.Errorf("invalid --trashed-tickets %q: use 404 (answer a trashed ticket as not found) or visible (answer 200 with isTrashed: true)", f.trashed)
	}
	if f.edition != "" {
		ed, err := emulator.ParseEdition(f.edition)
		if err != nil {
			return emulator.Options{}, fmt.Errorf("invalid --edition: %w", err)
		}
		opts.Edition = ed
	}
	for i, raw := range f.faults {
		flt, err := emulator.ParseFault([]byte(raw))
		if err != nil {
			return emulator.Options{}, fmt.Errorf("invalid --fault #%d %s: %w (example: --fault '{\"kind\":\"status\",\"status\":503,\"times\":2}')", i+1, raw, err)
		}
		if flt.Latency == 0 {
			flt.Latency = f.latency // a request broken by a fault is delayed like every other
		}
		opts.Faults = append(opts.Faults, flt)
	}
	// Last: only the first matching fault applies, and this one matches
	// every request.
	if f.latency > 0 {
		opts.Faults = append(opts.Faults, emulator.Fault{Kind: emulator.FaultLatency, Latency: f.latency})
	}
	return opts, nil
}

// newEmulatorCmd serves the Zoho Accounts + Desk emulator until interrupted.
func newEmulatorCmd(env *Env) *cobra.Command {
	var (
		addr string
		ef   emulatorFlags
	)
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve a local Zoho Accounts + Zoho Desk emulator with demo data",
		Long: "Serves Zoho Accounts (/oauth/...) and Zoho Desk (/api/v1/...) on one address, seeded with the demo org 2389290 " +
			"(user admin@zylker.com). Test controls live under /__emulator/.\n\n" +
			"Faults take the JSON of POST /__emulator/faults, e.g.\n" +
			"  --fault '{\"kind\":\"status\",\"status\":503,\"pathPrefix\":\"/api/v1/tickets\",\"times\":2}'\n" +
			"  --fault '{\"kind\":\"latency\",\"latency\":\"250ms\"}'\n" +
			"  --fault '{\"kind\":\"status\",\"status\":429,\"retryAfter\":5}'\n" +
			"Kinds: " + faultKindList() + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := ef.options()
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			base := "http://" + ln.Addr().String()
			opts.BaseURL = base
			emu := emulator.New(opts)
			srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
			// One write for the whole banner: whoever watches stdout for
			// "listening on" sees every line of it at once.
			var banner strings.Builder
			fmt.Fprintf(&banner, "Zoho emulator listening on %s\n  Accounts: %s/oauth/v2/auth\n  Desk:     %s/api/v1 (orgId %s, user %s)\n  Client:   id %s, secret %s\n",
				base, base, base, emulator.DemoOrgID, emulator.DemoUser, ef.clientID, ef.secret)
			for _, r := range opts.Clients[0].RedirectURIs {
				fmt.Fprintf(&banner, "  Redirect: %s\n", r)
			}
			if lim, ok := emu.Limits(emulator.DemoOrgID); ok {
				fmt.Fprintf(&banner, "  Limits:   %s edition, %d credits/day, %d concurrent calls\n", lim.Edition, lim.DailyCredits, lim.MaxConcurrent)
			}
			for _, f := range opts.Faults {
				js, err := json.Marshal(f)
				if err != nil {
					return fmt.Errorf("print fault: %w", err)
				}
				fmt.Fprintf(&banner, "  Fault:    %s\n", js)
			}
			if _, err := io.WriteString(env.Stdout, banner.String()); err != nil {
				return fmt.Errorf("print banner: %w", err)
			}
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return fmt.Errorf("serve emulator: %w", err)
			case <-cmd.Context().Done():
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("shut down emulator: %w", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8443", "listen address (keep it on loopback: admin endpoints are unauthenticated)")
	f.StringVar(&ef.clientID, "client-id", emulator.DemoClientID, "OAuth client id to register")
	f.StringVar(&ef.secret, "client-secret", emulator.DemoClientSecret, "OAuth client secret to register")
	f.StringVar(&ef.name, "client-name", "Demo Connector", "app name shown on the consent page")
	f.StringArrayVar(&ef.redirects, "redirect-uri", nil, "registered redirect URI (repeatable; default "+emulator.DemoRedirectURI+")")
	f.BoolVar(&ef.autoConsent, "auto-consent", false, "approve /oauth/v2/auth at once (headless use)")
	f.DurationVar(&ef.latency, "latency", 0, "added latency on every request")
	f.IntVar(&ef.tickets, "tickets", 0, "extra synthetic tickets in the demo org (scale tests)")
	f.StringArrayVar(&ef.faults, "fault", nil, "inject a fault: the JSON of POST /__emulator/faults (repeatable; the first matching fault applies)")
	f.StringVar(&ef.edition, "edition", "", "Zoho Desk edition of every org, setting its credits and concurrency: FREE, EXPRESS, STANDARD, PROFESSIONAL, ENTERPRISE, ZOHOONE (default: the seed's, ENTERPRISE for the demo org)")
	f.IntVar(&ef.dailyCredits, "daily-credits", 0, "API credits per org per day (0 = by edition)")
	f.IntVar(&ef.maxConcurrent, "max-concurrent", 0, "concurrent Desk calls per org before 429 TOO_MANY_REQUESTS (0 = by edition)")
	f.DurationVar(&ef.searchDelay, "search-delay", 0, "how long after a create or update the search endpoints see it, like Zoho's search index (e.g. 30s; 0 = at once)")
	f.BoolVar(&ef.requireUploadLength, "require-upload-length", false, "refuse multipart uploads without a Content-Length with 411, as some upload gateways do")
	f.StringVar(&ef.trashed, "trashed-tickets", "404", "how GET/PATCH of a trashed ticket answer: 404, or visible (200 with isTrashed: true); Zoho's behaviour is unknown")
	return cmd
}

// faultKindList is the emulator's fault kinds for the help text.
func faultKindList() string {
	kinds := emulator.FaultKinds()
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
