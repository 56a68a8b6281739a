package zohodesk

import (
	"errors"
	"testing"
)

func TestRegionsByLocation(t *testing.T) {
	t.Parallel()
	r := DefaultRegions()
	for loc, desk := range map[string]string{
		"us": "https://desk.zoho.com/api/v1", "eu": "https://desk.zoho.eu/api/v1", "in": "https://desk.zoho.in/api/v1",
		"au": "https://desk.zoho.com.au/api/v1", "jp": "https://desk.zoho.jp/api/v1", "ca": "https://desk.zohocloud.ca/api/v1",
		"sa": "https://desk.zoho.sa/api/v1", "sg": "https://desk.zoho.sg/api/v1", "ae": "https://desk.zoho.ae/api/v1",
		"cn": "https://desk.zoho.com.cn/api/v1", "EU": "https://desk.zoho.eu/api/v1",
	} {
		got, err := r.Desk(loc)
		if err != nil || got != desk {
			t.Errorf("Desk(%q) = %q, %v; want %q", loc, got, err, desk)
		}
	}
	if reg, err := r.ByLocation("uk"); err != nil || reg.AccountsURL != "https://accounts.zoho.uk" || reg.DeskAPIBase != "" {
		t.Errorf("ByLocation(uk) = %+v, %v", reg, err)
	}
	if _, err := r.Desk("uk"); !errors.Is(err, ErrNoDesk) {
		t.Errorf("Desk(uk) error = %v, want ErrNoDesk", err)
	}
	if _, err := r.ByLocation("mars"); !errors.Is(err, ErrUnknownRegion) {
		t.Errorf("ByLocation(mars) error = %v, want ErrUnknownRegion", err)
	}
	if len(r.All()) != 11 {
		t.Errorf("All() has %d regions, want 11", len(r.All()))
	}
}

func TestRegionsByAccountsServer(t *testing.T) {
	t.Parallel()
	r := DefaultRegions()
	for in, loc := range map[string]string{
		"https://accounts.zoho.com":     "us",
		"https://accounts.zoho.com/":    "us",
		"https://ACCOUNTS.Zoho.EU":      "eu",
		"https://accounts.zohocloud.ca": "ca",
		"https://accounts.zoho.com.au/": "au",
		"https://accounts.zoho.com.cn":  "cn",
		"https://accounts.zoho.uk":      "uk",
		"https://accounts.zoho.sa":      "sa",
		"https://accounts.zoho.ae":      "ae",
		"https://accounts.zoho.sg":      "sg",
		"https://accounts.zoho.jp":      "jp",
		"https://accounts.zoho.in":      "in",
	} {
		reg, err := r.ByAccountsServer(in)
		if err != nil || reg.Location != loc {
			t.Errorf("ByAccountsServer(%q) = %+v, %v; want %s", in, reg, err, loc)
		}
	}
	for _, in := range []string{
		"http://accounts.zoho.com",            // scheme differs
		"https://accounts.zoho.com.evil.test", // suffix
		"https://evil.test/https://accounts.zoho.com",
		"https://accounts.zoho.com/oauth", // path
		"https://accounts.zoho.com?x=1",   // query
		"https://user@accounts.zoho.com",  // user info
		"https://accounts.zoho.com:8443",  // port
		"accounts.zoho.com",
		"",
	} {
		if _, err := r.ByAccountsServer(in); !errors.Is(err, ErrUnknownRegion) {
			t.Errorf("ByAccountsServer(%q) error = %v, want ErrUnknownRegion", in, err)
		}
	}
}

func TestNewRegionsCustom(t *testing.T) {
	t.Parallel()
	emu := Region{Location: "us", Name: "emulator", AccountsURL: "http://127.0.0.1:9999", DeskAPIBase: "http://127.0.0.1:9999/api/v1"}
	r := NewRegions(emu, Region{Location: "lab", AccountsURL: "http://127.0.0.1:7000", DeskAPIBase: "http://127.0.0.1:7000/api/v1"})
	if got, err := r.ByLocation("us"); err != nil || got != emu {
		t.Errorf("ByLocation(us) = %+v, %v; want the emulator", got, err)
	}
	if got, err := r.ByAccountsServer("http://127.0.0.1:9999/"); err != nil || got.Location != "us" {
		t.Errorf("ByAccountsServer(emulator) = %+v, %v", got, err)
	}
	if _, err := r.ByAccountsServer("https://accounts.zoho.com"); !errors.Is(err, ErrUnknownRegion) {
		t.Errorf("replaced production us is still allowed: %v", err)
	}
	if got, err := r.Desk("lab"); err != nil || got != "http://127.0.0.1:7000/api/v1" {
		t.Errorf("Desk(lab) = %q, %v", got, err)
	}
	if _, err := DefaultRegions().ByAccountsServer("http://127.0.0.1:9999"); !errors.Is(err, ErrUnknownRegion) {
		t.Errorf("NewRegions changed the defaults")
	}
}
