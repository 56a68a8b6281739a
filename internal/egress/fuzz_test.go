package egress

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzCheckURL: CheckURL never panics, and whatever it accepts is an
// http(s) URL without credentials whose host is not a refused literal
// address, not a numeric spelling and not localhost.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0177.0.0.1/",
		"http://0x7f.1/", "http://[::ffff:127.0.0.1]/", "http://localhost/", "http://[fe80::1%25eth0]/",
		"https://example.com/files/a.png", "http://user@example.com/", "ftp://example.com/",
		"http://[64:ff9b::7f00:1]/", "http://169.254.169.254/", "HTTP://EXAMPLE.COM.:8080/x?y#z",
	} {
		f.Add(s)
	}
	fetcher := New(Config{})
	f.Fuzz(func(t *testing.T, raw string) {
		if err := fetcher.CheckURL(raw); err != nil {
			return
		}
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			t.Fatalf("CheckURL accepted %q, which does not parse: %v", raw, err)
		}
		if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
			t.Fatalf("CheckURL accepted scheme %q", u.Scheme)
		}
		if u.User != nil {
			t.Fatalf("CheckURL accepted credentials in %q", raw)
		}
		host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		if host == "" {
			t.Fatalf("CheckURL accepted an empty host in %q", raw)
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			if r := classify(ip); r != "" {
				t.Fatalf("CheckURL accepted %s address %s", r, ip)
			}
			return
		}
		if endsInNumber(host) || isLocalhostName(host) {
			t.Fatalf("CheckURL accepted host %q", host)
		}
	})
}

// FuzzClassify: an IPv4 address and its IPv4-mapped, NAT64 and 6to4 forms
// get the same verdict, and every loopback address is refused.
func FuzzClassify(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1})
	f.Add([]byte{10, 0, 0, 1})
	f.Add([]byte{8, 8, 8, 8})
	f.Add([]byte{169, 254, 169, 254})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 16 {
			a := netip.AddrFrom16([16]byte(b))
			if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() {
				if classify(a) == "" {
					t.Fatalf("classify(%s) allowed a non-public address", a)
				}
			}
			return
		}
		if len(b) != 4 {
			return
		}
		v4 := netip.AddrFrom4([4]byte(b))
		refused := classify(v4) != ""
		if !v4.IsGlobalUnicast() || v4.IsPrivate() {
			if !refused {
				t.Fatalf("classify(%s) allowed a non-public address", v4)
			}
		}
		mapped := netip.AddrFrom16(v4.As16())
		var nat64, sixToFour [16]byte
		copy(nat64[:], netip.MustParseAddr("64:ff9b::").AsSlice())
		copy(nat64[12:], b)
		sixToFour[0], sixToFour[1] = 0x20, 0x02
		copy(sixToFour[2:6], b)
		sixToFour[15] = 1
		for _, a := range []netip.Addr{mapped, netip.AddrFrom16(nat64), netip.AddrFrom16(sixToFour)} {
			if (classify(a) != "") != refused {
				t.Fatalf("classify(%s) = %q but classify(%s) = %q", a, classify(a), v4, classify(v4))
			}
		}
	})
}
