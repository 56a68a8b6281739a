package emulator

import (
	"unicode"
	"unicode/utf8"
)

// The helpers below compare strings as strings.ToLower would (rune by rune
// through unicode.ToLower, invalid bytes as U+FFFD) without allocating:
// search calls them once per ticket, and a search over 100k tickets must
// not make garbage per ticket.

// hasPrefixFold reports whether strings.ToLower(s) starts with
// strings.ToLower(prefix).
func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		r1, n1 := utf8.DecodeRuneInString(s)
		r2, n2 := utf8.DecodeRuneInString(prefix)
		if r1 != r2 && unicode.ToLower(r1) != unicode.ToLower(r2) {
			return false
		}
		s, prefix = s[n1:], prefix[n2:]
	}
	return true
}

// containsFoldStr reports whether strings.ToLower(s) contains
// strings.ToLower(sub).
func containsFoldStr(s, sub string) bool {
	if sub == "" {
		return true
	}
	// Fast path: when sub starts with an ASCII byte whose only case
	// partners are ASCII, a match can start only where s has that byte in
	// either case, so skip to those positions. 'i' and 'k' also fold from
	// U+0130 and U+212A; they take the rune-by-rune path.
	if c := sub[0]; c < utf8.RuneSelf {
		lo, up := c, c
		if 'A' <= c && c <= 'Z' {
			lo = c + 'a' - 'A'
		} else if 'a' <= c && c <= 'z' {
			up = c - ('a' - 'A')
		}
		if lo != 'i' && lo != 'k' {
			for i := 0; i < len(s); i++ {
				if (s[i] == lo || s[i] == up) && hasPrefixFold(s[i:], sub) {
					return true
				}
			}
			return false
		}
	}
	for i := range s { // rune starts only, as a byte search in valid UTF-8 would find
		if hasPrefixFold(s[i:], sub) {
			return true
		}
	}
	return false
}
