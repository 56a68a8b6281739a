package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/emulator"
)

func TestMultiDC(t *testing.T) {
	t.Parallel()
	s, err := emulator.StartTLS(emulator.Options{AutoConsent: true, OrgLocations: map[string]string{emulator.SecondOrgID: "eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := s.Client()
	get := func(u string, hdr ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header[hdr[i]] = []string{hdr[i+1]}
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	// Authorize at the US entry point; the EU org sends us to accounts.zoho.eu.
	q := url.Values{"client_id": {emulator.DemoClientID}, "response_type": {"code"}, "redirect_uri": {emulator.DemoRedirectURI}, "scope": {"Desk.basic.READ"}, "access_type": {"offline"}}
	resp := get("https://accounts.zoho.com/oauth/v2/auth?" + q.Encode())
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("auth: %d", resp.StatusCode)
	}
	// AutoConsent binds the user's first org (US). Mint an EU token directly.
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("location") != "us" || loc.Query().Get("accounts-server") != "https://accounts.zoho.com" {
		t.Fatalf("callback %v", loc.Query())
	}
	_, euAccess, err := s.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.SecondOrgID, []string{"Desk.basic.READ"})
	if err != nil {
		t.Fatal(err)
	}
	if r := get("https://desk.zoho.eu/api/v1/myinfo", "Authorization", "Zoho-oauthtoken "+euAccess, "orgId", emulator.SecondOrgID); r.StatusCode != 200 {
		t.Fatalf("EU desk: %d", r.StatusCode)
	}
	r := get("https://desk.zoho.com/api/v1/myinfo", "Authorization", "Zoho-oauthtoken "+euAccess, "orgId", emulator.SecondOrgID)
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != 401 || !strings.Contains(string(body), "INVALID_OAUTH") {
		t.Fatalf("EU token on US host: %d %s", r.StatusCode, body)
	}
	// Accounts hosts do not serve Desk paths.
	if r := get("https://accounts.zoho.eu/api/v1/myinfo", "Authorization", "Zoho-oauthtoken "+euAccess, "orgId", emulator.SecondOrgID); r.StatusCode != 404 {
		t.Fatalf("desk path on accounts host: %d", r.StatusCode)
	}
	var info struct{ Locations map[string]string }
	if err := json.NewDecoder(get("https://accounts.zoho.com/oauth/serverinfo").Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if info.Locations["eu"] != "https://accounts.zoho.eu" {
		t.Fatalf("serverinfo %v", info.Locations)
	}
	// The dialer refuses hosts that are not Zoho's.
	if _, err := s.DialContext(t.Context(), "tcp", "example.com:443"); err == nil {
		t.Fatal("dialer accepted a foreign host")
	}
}
