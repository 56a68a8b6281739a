package zohodesk

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Duration
		ok   bool
	}{
		{"seconds", "120", 2 * time.Minute, true},
		{"zero", "0", 0, true},
		{"spaces", " 7 ", 7 * time.Second, true},
		{"date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"past date", now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"empty", "", 0, false},
		{"negative", "-5", 0, false},
		{"fraction", "1.5", 0, false},
		{"garbage", "soon", 0, false},
		{"huge", "99999999999999999", 365 * 24 * time.Hour, true},
		{"overflow", "999999999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.name, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set(HeaderRequestWeight, "3")
	h.Set(HeaderRemaining, "49997")
	if got, want := ParseRateLimit(h), (RateLimit{Weight: 3, HasWeight: true, Remaining: 49997, HasRemaining: true}); got != want {
		t.Errorf("ParseRateLimit = %+v, want %+v", got, want)
	}
	h.Set(HeaderRemaining, "-1")
	h.Del(HeaderRequestWeight)
	if got := ParseRateLimit(h); got.HasRemaining || got.HasWeight {
		t.Errorf("ParseRateLimit(bad) = %+v, want nothing", got)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "1e9", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}

func FuzzParseRateLimit(f *testing.F) {
	f.Add("3", "49997")
	f.Add("", "x")
	f.Add("-1", "18446744073709551616")
	f.Fuzz(func(t *testing.T, weight, remaining string) {
		h := http.Header{}
		h.Set(HeaderRequestWeight, weight)
		h.Set(HeaderRemaining, remaining)
		rl := ParseRateLimit(h)
		if rl.Weight < 0 || rl.Remaining < 0 || (!rl.HasWeight && rl.Weight != 0) || (!rl.HasRemaining && rl.Remaining != 0) {
			t.Fatalf("ParseRateLimit(%q, %q) = %+v", weight, remaining, rl)
		}
	})
}
