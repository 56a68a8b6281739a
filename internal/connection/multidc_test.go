package connection_test

import (
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/zohodesk"
)

// TestConnectEveryDataCentre runs the flow through the PRODUCTION regions
// table: the emulator serves every Zoho hostname over TLS on loopback and
// its dialer maps those names to it (no other address is ever dialled).
func TestConnectEveryDataCentre(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ loc, accounts, desk string }{
		{"us", "https://accounts.zoho.com", "https://desk.zoho.com/api/v1"},
		{"eu", "https://accounts.zoho.eu", "https://desk.zoho.eu/api/v1"},
		{"in", "https://accounts.zoho.in", "https://desk.zoho.in/api/v1"},
		{"au", "https://accounts.zoho.com.au", "https://desk.zoho.com.au/api/v1"},
		{"jp", "https://accounts.zoho.jp", "https://desk.zoho.jp/api/v1"},
		{"ca", "https://accounts.zohocloud.ca", "https://desk.zohocloud.ca/api/v1"},
		{"uk", "https://accounts.zoho.uk", ""}, // Accounts but no Desk: refused
	} {
		t.Run(tc.loc, func(t *testing.T) {
			t.Parallel()
			emu, err := emulator.StartTLS(emulator.Options{
				AutoConsent: true, DefaultUser: emulator.SingleOrgUser,
				OrgLocations: map[string]string{emulator.DemoOrgID: tc.loc},
				Clients:      []emulator.OAuthClient{{ID: testClientID, Secret: testSecret, RedirectURIs: []string{testBase + "/oauth/callback"}, Name: "Test"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { emu.Close() })
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "d.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			key, _ := seal.GenerateKey()
			kr, _ := seal.NewKeyring(key)
			m, err := connection.New(connection.Options{Store: st, Keyring: kr, Regions: zohodesk.DefaultRegions(), HTTPClient: emu.Client(), BaseURL: testBase, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			tn, _ := connection.EnsureTenant(t.Context(), st, "default")
			if _, err := m.Create(t.Context(), tn.ID, connection.CreateInput{Name: "dc", ClientID: testClientID, ClientSecret: testSecret}); err != nil {
				t.Fatal(err)
			}
			authURL, err := m.AuthorizeURL(t.Context(), tn.ID, "dc", "")
			if err != nil {
				t.Fatal(err)
			}
			q := followToCallback(t, emu.Client(), authURL)
			if q.Get("location") != tc.loc || q.Get("accounts-server") != tc.accounts {
				t.Fatalf("callback location %q accounts-server %q", q.Get("location"), q.Get("accounts-server"))
			}
			res, err := m.Callback(t.Context(), q)
			if tc.desk == "" {
				if !errors.Is(err, connection.ErrUnknownAccountsServer) {
					t.Fatalf("uk: err = %v", err)
				}
				if n := emu.Counters().CodeExchanges; n != 0 {
					t.Fatalf("uk: %d code exchanges, want 0", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := res.Connection
			if c.Status != store.StatusActive || c.Location != tc.loc || c.AccountsServer != tc.accounts || c.DeskBaseURL != tc.desk {
				t.Fatalf("connection: %s %s %s %s", c.Status, c.Location, c.AccountsServer, c.DeskBaseURL)
			}
			client, cc, err := m.Client(t.Context(), tn.ID, "dc")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := client.MyInfo(t.Context(), cc.OrgID, nil); err != nil {
				t.Fatalf("desk call in %s: %v", tc.loc, err)
			}
			// Every call went to this DC's hosts.
			for _, r := range emu.Requests() {
				if r.Host != "accounts.zoho.com" && r.Host != tc.accounts[len("https://"):] && r.Host != tc.desk[len("https://"):len(tc.desk)-len("/api/v1")] {
					t.Errorf("request to %s %s", r.Host, r.Path)
				}
			}
		})
	}
}
