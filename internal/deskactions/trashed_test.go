package deskactions

import (
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
)

// TestTrashedTicketNeverLive: issue 10 item 5. Whether Zoho answers a
// trashed ticket with 404 or with 200 and isTrashed, get_ticket and
// update_ticket report it as trashed, and update_ticket never edits it.
func TestTrashedTicketNeverLive(t *testing.T) {
	t.Parallel()
	const id = "1892000000042033"
	for _, mode := range []emulator.TrashedMode{emulator.TrashedNotFound, emulator.TrashedVisible} {
		t.Run("mode="+string(mode), func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, Deps{}, emulator.Options{TrashedTickets: mode})
			env.mustInvoke(t, "move_tickets_to_trash", `{"orgId":"2389290","payload":{"ticketIds":["`+id+`"]}}`)
			before, _ := env.emu.GetTicket(emulator.DemoOrgID, id)
			wantMsg := "is in the trash"
			if mode == emulator.TrashedNotFound {
				wantMsg = "does not exist or is in the trash"
			}

			_, err := env.invoke(t, "get_ticket", `{"orgId":"2389290","ticketId":"`+id+`"}`)
			de := domainErr(t, err, deskconn.CodeNotFound)
			if !strings.Contains(de.Message, wantMsg) || len(de.Fields) != 1 || de.Fields[0].Pointer != "/ticketId" {
				t.Errorf("get_ticket: %q %v, want a message with %q on /ticketId", de.Message, de.Fields, wantMsg)
			}

			for _, input := range []string{
				`{"orgId":"2389290","ticketId":"` + id + `","payload":{"subject":"edited in the trash"}}`,
				`{"orgId":"2389290","ticketId":"` + id + `","payload":{"subject":"edited in the trash"},"dryRun":true}`,
			} {
				_, err = env.invoke(t, "update_ticket", input)
				de = domainErr(t, err, deskconn.CodeNotFound)
				if !strings.Contains(de.Message, wantMsg) {
					t.Errorf("update_ticket: %q, want %q", de.Message, wantMsg)
				}
			}
			for _, w := range env.writes() {
				if strings.HasPrefix(w, "PATCH") {
					t.Errorf("update_ticket sent %s for a trashed ticket", w)
				}
			}
			if after, _ := env.emu.GetTicket(emulator.DemoOrgID, id); after.Subject != before.Subject || !after.Trashed {
				t.Errorf("trashed ticket changed: subject %q -> %q, trashed %v", before.Subject, after.Subject, after.Trashed)
			}

			// A live ticket is still read and updated, after one GET.
			out := env.mustInvoke(t, "update_ticket", `{"orgId":"2389290","ticketId":"1892000000042034","payload":{"priority":"High"}}`)
			if p := str(out, "ticket", "priority"); p != "High" {
				t.Fatalf("live ticket update: priority %q, want High", p)
			}
		})
	}
}
