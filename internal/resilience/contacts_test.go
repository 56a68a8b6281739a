package resilience

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
)

// TestFaultedContactCreatesNeverDuplicate creates a contact under each
// fault that can hit the create (its answer lost after Zoho acted, lost
// before, 5xx, 429, a truncated answer) and lets the caller retry up to
// three times, with and without an idempotency key. Zoho itself accepts a
// second contact with one e-mail, so only deskconn's check stands between
// a retry and a duplicate: the emulator must end with at most one contact
// with the e-mail, and exactly one when any attempt reported success or a
// conflict naming it.
func TestFaultedContactCreatesNeverDuplicate(t *testing.T) {
	t.Parallel()
	const contacts = "/api/v1/contacts"
	faults := []struct {
		name  string
		fault emulator.Fault
		keyed bool // only with an idempotency key (a late answer races a keyless retry)
	}{
		{"reset_after_body", emulator.Fault{Kind: emulator.FaultResetAfterBody, PathPrefix: contacts, Method: "POST", Times: 1}, false},
		{"reset_before_body", emulator.Fault{Kind: emulator.FaultResetBeforeBody, PathPrefix: contacts, Method: "POST", Times: 1}, false},
		{"500", emulator.Fault{Kind: emulator.FaultStatus, PathPrefix: contacts, Method: "POST", Status: 500, Times: 1}, false},
		{"429", emulator.Fault{Kind: emulator.FaultStatus, PathPrefix: contacts, Method: "POST", Status: 429, Times: 1}, false},
		{"truncated_json", emulator.Fault{Kind: emulator.FaultTruncatedJSON, PathPrefix: contacts, Method: "POST", Times: 1}, false},
		{"late_answer", emulator.Fault{Kind: emulator.FaultLatency, PathPrefix: contacts, Method: "POST", Latency: 1500 * time.Millisecond, Times: 1}, true},
	}
	for _, f := range faults {
		for _, keyed := range []bool{false, true} {
			if f.keyed && !keyed {
				continue
			}
			t.Run(fmt.Sprintf("%s/key=%v", f.name, keyed), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, envOptions{})
				email := "retry." + f.name + "@example.net"
				input := `{"orgId":"` + org + `","payload":{"lastName":"Retry","email":"` + email + `"}}`
				key := ""
				if keyed {
					key = "contact-" + f.name
				}
				e.emu.AddFault(f.fault)
				var named bool // some attempt succeeded or named the contact
				var codes []deskconn.Code
				for range 3 {
					ctx, cancel := context.WithTimeout(t.Context(), time.Second)
					_, err := e.invoke(ctx, "create_contact", input, key)
					cancel()
					if err == nil {
						named = true
						continue
					}
					codes = append(codes, deskconn.ErrorCode(err))
					if de := deskconn.AsError(err); de.Code == deskconn.CodeConflict && len(de.Candidates) == 1 {
						named = true
					}
				}
				e.emu.SetFaults()
				// Closing the server waits for every request still inside
				// the emulator (a late answer's create included), so the
				// count below sees every write.
				e.srv.Close()
				n := e.emu.ContactsWithEmail(org, email)
				if n > 1 {
					t.Fatalf("%d contacts with %s after faulted retries (codes %v), want at most 1", n, email, codes)
				}
				if named && n != 1 {
					t.Errorf("an attempt succeeded or named the contact, but the emulator holds %d (codes %v)", n, codes)
				}
				t.Logf("contacts %d, error codes %v", n, codes)
			})
		}
	}
}
