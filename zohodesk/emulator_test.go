package zohodesk_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/zohodesk"
)

// These tests run the client against the emulator, for answers whose shape
// the emulator takes from recordings of the live Zoho.

// TestRefreshThrottledByEmulator: Zoho's token throttle is HTTP 400 with
// error "Access Denied" (not a grant error); the client reports it as
// ErrTokenThrottled, never as an invalid grant (which would make the user
// reconnect for nothing).
func TestRefreshThrottledByEmulator(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	refresh, _, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.tickets.ALL"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &zohodesk.OAuthConfig{ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret, RedirectURL: emulator.DemoRedirectURI}
	for i := range 10 { // Zoho allows 10 per 10 minutes per refresh token
		if _, err := cfg.Refresh(t.Context(), srv.URL, refresh); err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
	}
	_, err = cfg.Refresh(t.Context(), srv.URL, refresh)
	var oe *zohodesk.OAuthError
	if !errors.As(err, &oe) || oe.StatusCode != 400 || oe.Code != "Access Denied" {
		t.Fatalf("11th refresh: %v, want a 400 Access Denied OAuthError", err)
	}
	if !errors.Is(err, zohodesk.ErrTokenThrottled) || errors.Is(err, zohodesk.ErrInvalidGrant) {
		t.Fatalf("11th refresh: %v, want ErrTokenThrottled only", err)
	}
}

// countingTokens is a token source that counts refreshes.
type countingTokens struct {
	token     string
	refreshes atomic.Int32
}

func (c *countingTokens) Token(context.Context) (string, error) { return c.token, nil }
func (c *countingTokens) Refresh(context.Context, string) (string, error) {
	c.refreshes.Add(1)
	return c.token, nil
}

// TestHTML401FromEmulator: Zoho answers a token of another data centre or
// organisation with 401 and an HTML page. The client neither refreshes
// (which cannot help) nor resends, and its error says what is wrong and
// that the connection must be reconnected.
func TestHTML401FromEmulator(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{Faults: []emulator.Fault{{Kind: emulator.FaultHTML401, PathPrefix: "/api/v1/tickets"}}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.tickets.ALL"})
	if err != nil {
		t.Fatal(err)
	}
	tokens := &countingTokens{token: access}
	client, err := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = client.Tickets.Get(t.Context(), emulator.DemoOrgID, "1892000000042032", nil)
	var ae *zohodesk.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Code != "" || !errors.Is(err, zohodesk.ErrUnauthorized) {
		t.Fatalf("err = %v, want a 401 APIError without a Zoho code (ErrUnauthorized)", err)
	}
	for _, want := range []string{"HTML page", "another data centre or organisation", "reconnect"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := tokens.refreshes.Load(); n != 0 {
		t.Errorf("the client refreshed the token %d times on an HTML 401", n)
	}
	if n := emu.Counters().Requests["GET /api/v1/tickets/1892000000042032"]; n != 1 {
		t.Errorf("the emulator saw %d requests, want 1 (no resend)", n)
	}
}
