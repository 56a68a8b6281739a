package storetest

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// recorder captures failures instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestAssertNoPlaintext(t *testing.T) {
	t.Parallel()
	const secret = "1000.refresh.CANARY.token"
	tests := []struct {
		name     string
		dump     string
		secrets  []string
		wantFail bool
	}{
		{"clean", "sealed bytes only \x01\x02", []string{secret}, false},
		{"raw", "row|" + secret + "|", []string{secret}, true},
		{"hex upper", `\x` + strings.ToUpper(hex.EncodeToString([]byte(secret))), []string{secret}, true},
		{"base64", "x" + base64.StdEncoding.EncodeToString([]byte(secret)), []string{secret}, true},
		{"base64url", base64.RawURLEncoding.EncodeToString([]byte(secret)), []string{secret}, true},
		{"second secret", "a " + "client-secret-CANARY", []string{secret, "client-secret-CANARY"}, true},
		{"empty dump", "", []string{secret}, true},
		{"short canary", "abc", []string{"abc"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{TB: t}
			AssertNoPlaintext(r, []byte(tt.dump), tt.secrets...)
			if failed := len(r.errs) > 0; failed != tt.wantFail {
				t.Fatalf("AssertNoPlaintext failed = %v (%q), want %v", failed, r.errs, tt.wantFail)
			}
			for _, e := range r.errs {
				for _, s := range tt.secrets {
					if len(s) >= 8 && strings.Contains(e, s) {
						t.Errorf("failure message %q reveals the secret", e)
					}
				}
			}
		})
	}
}
