package connection

import (
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
)

func TestScopeTypoRefusedWithClosestName(t *testing.T) {
	in := CreateInput{Name: "support", ClientID: "1000.X", ClientSecret: "s", Scopes: []string{"Desk.tickets.ALL", "Desk.tikets.READ", "desk.contacts.read"}}
	err := in.Validate()
	de := deskconn.AsError(err)
	if de.Code != deskconn.CodeInvalid || len(de.Fields) != 1 || de.Fields[0].Pointer != "/scopes/1" ||
		!strings.Contains(de.Fields[0].Message, "did you mean Desk.tickets.READ?") {
		t.Fatalf("Validate = %v %+v, want one problem naming Desk.tickets.READ", err, de.Fields)
	}
	for _, s := range DefaultScopes {
		if !KnownScope(s) {
			t.Errorf("default scope %s is not known", s)
		}
	}
	for in, want := range map[string]string{"Desk.tikets.READ": "Desk.tickets.READ", "Desk.contact.CREATE": "Desk.contacts.CREATE", "Desk.serch.READ": "Desk.search.READ"} {
		if got := ClosestScope(in); got != want {
			t.Errorf("ClosestScope(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzClosestScope(f *testing.F) {
	for _, s := range []string{"", "Desk.tikets.READ", "Desk.tickets.ALL", strings.Repeat("x", 300), "Désk.ticket.ÄLL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ClosestScope(s)
		if !KnownScope(got) {
			t.Fatalf("ClosestScope(%q) = %q, not a known scope", s, got)
		}
		if KnownScope(s) && !strings.EqualFold(got, s) {
			t.Fatalf("ClosestScope(%q) = %q for a known scope", s, got)
		}
	})
}
