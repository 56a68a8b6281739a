package zohodesk

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Region is a Zoho data centre: its location code (as in the OAuth
// callback's "location"), Accounts server and Desk API base. DeskAPIBase is
// "" where Zoho runs Accounts but no Desk (uk).
type Region struct {
	Location    string
	Name        string
	AccountsURL string
	DeskAPIBase string
}

// ErrUnknownRegion is returned for a location or accounts server that is not
// in the allow-list.
var ErrUnknownRegion = errors.New("zohodesk: unknown region")

// ErrNoDesk is returned by Regions.Desk for a region without a Desk host.
var ErrNoDesk = errors.New("zohodesk: region has no Zoho Desk")

// productionRegions is the table of the Desk and Accounts documentation.
var productionRegions = []Region{
	{Location: "us", Name: "United States", AccountsURL: "https://accounts.zoho.com", DeskAPIBase: "https://desk.zoho.com/api/v1"},
	{Location: "eu", Name: "Europe", AccountsURL: "https://accounts.zoho.eu", DeskAPIBase: "https://desk.zoho.eu/api/v1"},
	{Location: "in", Name: "India", AccountsURL: "https://accounts.zoho.in", DeskAPIBase: "https://desk.zoho.in/api/v1"},
	{Location: "au", Name: "Australia", AccountsURL: "https://accounts.zoho.com.au", DeskAPIBase: "https://desk.zoho.com.au/api/v1"},
	{Location: "jp", Name: "Japan", AccountsURL: "https://accounts.zoho.jp", DeskAPIBase: "https://desk.zoho.jp/api/v1"},
	{Location: "ca", Name: "Canada", AccountsURL: "https://accounts.zohocloud.ca", DeskAPIBase: "https://desk.zohocloud.ca/api/v1"},
	{Location: "sa", Name: "Saudi Arabia", AccountsURL: "https://accounts.zoho.sa", DeskAPIBase: "https://desk.zoho.sa/api/v1"},
	{Location: "sg", Name: "Singapore", AccountsURL: "https://accounts.zoho.sg", DeskAPIBase: "https://desk.zoho.sg/api/v1"},
	{Location: "ae", Name: "United Arab Emirates", AccountsURL: "https://accounts.zoho.ae", DeskAPIBase: "https://desk.zoho.ae/api/v1"},
	{Location: "uk", Name: "United Kingdom", AccountsURL: "https://accounts.zoho.uk"}, // Zoho documents no Desk host for uk
	{Location: "cn", Name: "China", AccountsURL: "https://accounts.zoho.com.cn", DeskAPIBase: "https://desk.zoho.com.cn/api/v1"},
}

// Regions is an allow-list of data centres. Only accounts servers in it may
// receive client secrets and codes, and only its Desk bases are called.
// The zero value is empty; use DefaultRegions or NewRegions.
type Regions struct {
	list []Region
}

// DefaultRegions returns Zoho's production data centres.
func DefaultRegions() *Regions {
	return &Regions{list: append([]Region(nil), productionRegions...)}
}

// NewRegions returns the production data centres plus extra. An extra
// region replaces a production one with the same Location (for example
// "us" mapped to an emulator at http://127.0.0.1:PORT in tests).
func NewRegions(extra ...Region) *Regions {
	r := DefaultRegions()
	for _, x := range extra {
		replaced := false
		for i := range r.list {
			if strings.EqualFold(r.list[i].Location, x.Location) {
				r.list[i], replaced = x, true
			}
		}
		if !replaced {
			r.list = append(r.list, x)
		}
	}
	return r
}

// All returns a copy of the regions in the list.
func (r *Regions) All() []Region { return append([]Region(nil), r.list...) }

// ByLocation returns the region with this location code (case-insensitive),
// or ErrUnknownRegion.
func (r *Regions) ByLocation(code string) (Region, error) {
	for _, x := range r.list {
		if strings.EqualFold(x.Location, strings.TrimSpace(code)) {
			return x, nil
		}
	}
	return Region{}, fmt.Errorf("look up location %q: %w", code, ErrUnknownRegion)
}

// ByAccountsServer returns the region whose AccountsURL has exactly the
// scheme and host of accountsURL (host case-insensitive, one trailing slash
// allowed, no path, query, fragment or user info). Anything else is
// ErrUnknownRegion, so an attacker-chosen "accounts-server" never receives
// a client secret.
func (r *Regions) ByAccountsServer(accountsURL string) (Region, error) {
	want, ok := origin(accountsURL)
	if ok {
		for _, x := range r.list {
			if have, ok := origin(x.AccountsURL); ok && have == want {
				return x, nil
			}
		}
	}
	return Region{}, fmt.Errorf("look up accounts server %q: %w", accountsURL, ErrUnknownRegion)
}

// Desk returns the Desk API base of the region with this location code:
// ErrUnknownRegion if there is none, ErrNoDesk if it has no Desk.
func (r *Regions) Desk(location string) (string, error) {
	x, err := r.ByLocation(location)
	if err != nil {
		return "", err
	}
	if x.DeskAPIBase == "" {
		return "", fmt.Errorf("desk base for location %q: %w", location, ErrNoDesk)
	}
	return x.DeskAPIBase, nil
}

// origin normalises "scheme://host[:port][/]" to lower-case
// "scheme://host[:port]"; anything with more is refused.
func origin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", false
	}
	if u.Path != "" && u.Path != "/" {
		return "", false
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), true
}
