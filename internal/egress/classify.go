package egress

import (
	"net/netip"
	"strings"
)

// reasonLoopback is the only verdict that UnsafeAllowLoopback can override.
const reasonLoopback = "loopback"

// rangeRule refuses every address in prefix, for reason.
type rangeRule struct {
	prefix netip.Prefix
	reason string
}

func rule(prefix, reason string) rangeRule {
	return rangeRule{prefix: netip.MustParsePrefix(prefix), reason: reason}
}

// deniedV4 lists the IPv4 ranges that a user-supplied URL may never reach:
// the IANA IPv4 special-purpose registry, plus multicast and reserved space. The first match names
// the reason, so the more specific rules come first.
var deniedV4 = []rangeRule{
	rule("255.255.255.255/32", "broadcast"),
	rule("0.0.0.0/8", "unspecified or this-network"),
	rule("10.0.0.0/8", "private"),
	rule("100.64.0.0/10", "carrier-grade NAT"),
	rule("127.0.0.0/8", reasonLoopback),
	rule("169.254.0.0/16", "link-local or cloud metadata"),
	rule("172.16.0.0/12", "private"),
	rule("192.0.0.0/24", "IETF protocol assignment"),
	rule("192.0.2.0/24", "documentation"),
	rule("192.31.196.0/24", "AS112"),
	rule("192.52.193.0/24", "AMT"),
	rule("192.88.99.0/24", "6to4 relay anycast"),
	rule("192.168.0.0/16", "private"),
	rule("192.175.48.0/24", "AS112"),
	rule("198.18.0.0/15", "benchmarking"),
	rule("198.51.100.0/24", "documentation"),
	rule("203.0.113.0/24", "documentation"),
	rule("224.0.0.0/4", "multicast"),
	rule("240.0.0.0/4", "reserved"),
}

// deniedV6 lists the IPv6 ranges refused outright. IPv4-mapped addresses,
// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) are judged by the IPv4 address
// they embed instead; everything outside 2000::/3 is refused as well.
var deniedV6 = []rangeRule{
	rule("::/128", "unspecified or this-network"),
	rule("::1/128", reasonLoopback),
	rule("::/96", "IPv4-compatible"),
	rule("64:ff9b:1::/48", "local-use NAT64"),
	rule("100::/64", "discard-only"),
	rule("2001::/23", "IETF special-purpose (Teredo, ORCHID, benchmarking)"),
	rule("2001:db8::/32", "documentation"),
	rule("3fff::/20", "documentation"),
	rule("5f00::/16", "SRv6 SID"),
	rule("fc00::/7", "unique local (private)"),
	rule("fe80::/10", "link-local"),
	rule("fec0::/10", "site-local"),
	rule("ff00::/8", "multicast"),
}

var (
	nat64Prefix     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFourPrefix = netip.MustParsePrefix("2002::/16")
	globalUnicastV6 = netip.MustParsePrefix("2000::/3")
)

// classify returns why addr must not be dialled, or "" when it is a public
// unicast address. It never consults the network.
func classify(addr netip.Addr) string {
	if !addr.IsValid() {
		return "invalid"
	}
	if addr.Zone() != "" {
		return "scoped (zoned) IPv6"
	}
	if addr.Is4In6() {
		if r := classify4(addr.Unmap()); r != "" {
			return r + " (IPv4-mapped)"
		}
		return ""
	}
	if addr.Is4() {
		return classify4(addr)
	}
	for _, r := range deniedV6 {
		if r.prefix.Contains(addr) {
			return r.reason
		}
	}
	b := addr.As16()
	if nat64Prefix.Contains(addr) {
		if r := classify4(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
			return r + " (NAT64)"
		}
		return ""
	}
	if sixToFourPrefix.Contains(addr) {
		if r := classify4(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
			return r + " (6to4)"
		}
		return ""
	}
	if !globalUnicastV6.Contains(addr) {
		return "not global unicast"
	}
	return ""
}

func classify4(addr netip.Addr) string {
	for _, r := range deniedV4 {
		if r.prefix.Contains(addr) {
			return r.reason
		}
	}
	return ""
}

// isLoopback reports whether classify refuses addr only because it is a
// loopback address (127/8, ::1 or ::ffff:127.0.0.0/104).
func isLoopback(addr netip.Addr) bool {
	return addr.Zone() == "" && addr.Unmap().IsLoopback()
}

// endsInNumber reports whether host's last label is a number in any base,
// which browsers and inet_aton read as an IPv4 address ("127.1", "0x7f.1",
// "2130706433", "0177.0.0.1"). Such hosts are refused unless they are a
// canonical dotted-quad, so no resolver ever gets to interpret them.
func endsInNumber(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		for _, c := range last[2:] {
			if !isHex(c) {
				return false
			}
		}
		return true
	}
	for _, c := range last {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isHex(c rune) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// isLocalhostName reports whether name (lower case, no trailing dot) is
// reserved for loopback by RFC 6761.
func isLocalhostName(name string) bool {
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}
