package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/spf13/cobra"
)

// newEmulatorCmd serves the Zoho Accounts + Desk emulator until interrupted.
func newEmulatorCmd(env *Env) *cobra.Command {
	var (
		addr, clientID, secret, name string
		redirects                    []string
		autoConsent                  bool
		latency                      time.Duration
		tickets                      int
	)
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve a local Zoho Accounts + Zoho Desk emulator with demo data",
		Long: "Serves Zoho Accounts (/oauth/...) and Zoho Desk (/api/v1/...) on one address, seeded with the demo org 2389290 " +
			"(user admin@zylker.com). Test controls live under /__emulator/.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(redirects) == 0 {
				redirects = []string{emulator.DemoRedirectURI}
			}
			opts := emulator.Options{
				Clients:      []emulator.OAuthClient{{ID: clientID, Secret: secret, RedirectURIs: redirects, Name: name}},
				AutoConsent:  autoConsent,
				ExtraTickets: tickets,
			}
			if latency > 0 {
				opts.Faults = []emulator.Fault{{Kind: emulator.FaultLatency, Latency: latency}}
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			base := "http://" + ln.Addr().String()
			opts.BaseURL = base
			srv := &http.Server{Handler: emulator.New(opts), ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(env.Stdout, "Zoho emulator listening on %s\n  Accounts: %s/oauth/v2/auth\n  Desk:     %s/api/v1 (orgId %s, user %s)\n  Client:   id %s, secret %s\n",
				base, base, base, emulator.DemoOrgID, emulator.DemoUser, clientID, secret)
			for _, r := range redirects {
				fmt.Fprintf(env.Stdout, "  Redirect: %s\n", r)
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
	f.StringVar(&clientID, "client-id", emulator.DemoClientID, "OAuth client id to register")
	f.StringVar(&secret, "client-secret", emulator.DemoClientSecret, "OAuth client secret to register")
	f.StringVar(&name, "client-name", "Demo Connector", "app name shown on the consent page")
	f.StringArrayVar(&redirects, "redirect-uri", nil, "registered redirect URI (repeatable; default "+emulator.DemoRedirectURI+")")
	f.BoolVar(&autoConsent, "auto-consent", false, "approve /oauth/v2/auth at once (headless use)")
	f.DurationVar(&latency, "latency", 0, "added latency on every request")
	f.IntVar(&tickets, "tickets", 0, "extra synthetic tickets in the demo org (scale tests)")
	return cmd
}
