package web

import (
	"strings"
	"testing"
)

// FuzzLinkDetail: an audit detail (text written by actions, holding ids
// from Zoho) is split into text and links without losing or adding text,
// and every link points at the Zoho Desk web app for a numeric id.
func FuzzLinkDetail(f *testing.F) {
	for _, s := range []string{"", "ticket 1892000000042034 created", "contacts 123456 and 654321 moved", "agent 1 found", "ticket <b>12345</b>\"", "ticket 99999999999999999999999 x"} {
		f.Add(s)
	}
	const web = "https://desk.zoho.com"
	f.Fuzz(func(t *testing.T, detail string) {
		var b strings.Builder
		for _, p := range linkDetail(detail, web) {
			b.WriteString(p.Text)
			if p.Href != "" {
				if !strings.HasPrefix(p.Href, web+"/support/ShowHomePage.do#") || !strings.HasSuffix(p.Href, "/dv/"+p.Text) || strings.Trim(p.Text, "0123456789") != "" {
					t.Fatalf("link %q for %q", p.Href, p.Text)
				}
			}
		}
		if b.String() != detail {
			t.Fatalf("parts of %q join to %q", detail, b.String())
		}
	})
}

// FuzzParseExpiry: the key form's "Expires after" gives a positive
// duration or an error, never a panic.
func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"30d", "12h", "0d", "-1h", "d", "36500d", "36501d", "1.5h", " 7d "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseExpiry(s); err == nil && d <= 0 {
			t.Fatalf("parseExpiry(%q) = %s", s, d)
		}
	})
}
