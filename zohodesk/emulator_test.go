package zohodesk_test

import (
	"errors"
	"net/http/httptest"
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
