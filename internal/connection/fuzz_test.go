package connection_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/connection"
)

// FuzzCallback feeds arbitrary callback queries to the Manager: it never
// panics, and without a valid state nothing reaches the token endpoint.
func FuzzCallback(f *testing.F) {
	f.Add("state=abc&code=1000.x.y&location=us&accounts-server=https%3A%2F%2Faccounts.zoho.com&")
	f.Add("error=access_denied&state=")
	f.Add("state=%00%ff&accounts-server=javascript:alert(1)")
	f.Add("")
	e := newEnv(f, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		_, err = e.m.Callback(t.Context(), q)
		if err == nil {
			t.Fatal("a callback without a stored state succeeded")
		}
		if !errors.Is(err, connection.ErrStateInvalid) {
			t.Fatalf("err = %v, want ErrStateInvalid", err)
		}
		if n := e.emu.Counters().CodeExchanges; n != 0 {
			t.Fatalf("%d code exchanges", n)
		}
	})
}
