package emulator_test

import (
	"testing"

	"github.com/deskconn/deskconn/emulator"
)

// TestTrashedTicketModes: GET and PATCH of a trashed ticket answer 404 by
// default and 200 with "isTrashed": true (PATCH applied) with
// TrashedVisible; list and search leave it out in both modes.
func TestTrashedTicketModes(t *testing.T) {
	t.Parallel()
	const id = "1892000000042033"
	for _, mode := range []emulator.TrashedMode{emulator.TrashedNotFound, emulator.TrashedVisible} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, emulator.Options{TrashedTickets: mode})
			wantStatus(t, e.do("POST", "/api/v1/tickets/moveToTrash", map[string]any{"ticketIds": []string{id}}), 204, "")
			get := e.do("GET", "/api/v1/tickets/"+id, nil)
			patch := e.do("PATCH", "/api/v1/tickets/"+id, map[string]any{"subject": "edited in the trash"})
			info, _ := e.emu.GetTicket(emulator.DemoOrgID, id)
			if mode == emulator.TrashedNotFound {
				wantStatus(t, get, 404, "URL_NOT_FOUND")
				wantStatus(t, patch, 404, "URL_NOT_FOUND")
				if info.Subject == "edited in the trash" {
					t.Fatal("a refused PATCH changed the trashed ticket")
				}
			} else {
				wantStatus(t, get, 200, "")
				if g := get.json(t); g["isTrashed"] != true || g["id"] != id {
					t.Fatalf("GET trashed ticket: isTrashed=%v id=%v", g["isTrashed"], g["id"])
				}
				wantStatus(t, patch, 200, "")
				if p := patch.json(t); p["isTrashed"] != true || p["subject"] != "edited in the trash" {
					t.Fatalf("PATCH trashed ticket: isTrashed=%v subject=%v", p["isTrashed"], p["subject"])
				}
				if !info.Trashed || info.Subject != "edited in the trash" {
					t.Fatalf("after PATCH: trashed=%v subject=%q", info.Trashed, info.Subject)
				}
			}
			if r := e.do("GET", "/api/v1/tickets/search?id="+id, nil); r.status != 204 {
				t.Errorf("search finds the trashed ticket: %d", r.status)
			}
		})
	}
}

func TestTrashedTicketsModeIsChecked(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("New accepted an unknown TrashedTickets mode")
		}
	}()
	emulator.New(emulator.Options{TrashedTickets: "sometimes"})
}
