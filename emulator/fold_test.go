package emulator

import (
	"strings"
	"testing"
)

// FuzzFold checks the allocation-free case-insensitive helpers against the
// strings.ToLower definition they replace.
func FuzzFold(f *testing.F) {
	for _, s := range [][2]string{{"Refund request", "REFUND"}, {"Straße", "STRASSE"}, {"\u212a", "k"}, {"İstanbul", "i"},
		{"abc", ""}, {"", "a"}, {"a\xffb", "\xff"}, {"x\ufffdy", "\xfe"}, {"\u212aelvin", "kel"}, {"\u0130stanbul", "ist"}, {"abcABC", "Cab"}, {"12-34", "-3"}, {"Σίσυφος", "ΣΊΣ"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, sub string) {
		ls, lsub := strings.ToLower(s), strings.ToLower(sub)
		if got, want := hasPrefixFold(s, sub), strings.HasPrefix(ls, lsub); got != want {
			t.Errorf("hasPrefixFold(%q, %q) = %v, want %v", s, sub, got, want)
		}
		if got, want := containsFoldStr(s, sub), strings.Contains(ls, lsub); got != want {
			t.Errorf("containsFoldStr(%q, %q) = %v, want %v", s, sub, got, want)
		}
	})
}

func TestFoldAllocatesNothing(t *testing.T) {
	s, sub := "Ticket about a Refund for ORDER 12345", "refund for order"
	if n := testing.AllocsPerRun(100, func() {
		if !containsFoldStr(s, sub) || !hasPrefixFold(s, "TICKET") || !searchValue("x,ticket*", s) || !statusMatch("Closed,${OPEN}", "New", "Open") ||
			!searchMatch("subject", "zzz,*REFUND*", s) || !containsFold("12345*", "", s) {
			t.Fatal("helpers disagree with the expected matches")
		}
	}); n != 0 {
		t.Fatalf("%v allocations per call, want 0", n)
	}
}
