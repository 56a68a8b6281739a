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
	for i := range s { // rune starts only, as a byte search in valid UTF-8 would find
		if hasPrefixFold(s[i:], sub) {
			return true
		}
	}
	return false
}
