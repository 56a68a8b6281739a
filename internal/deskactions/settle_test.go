package deskactions

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/zohodesk"
)

// TestSettlers loses Zoho's answer to a create sent under an idempotency
// key — after the emulator made the object (reset_after), or before it saw
// the request (reset_before) — and retries the key once the outcome may be
// settled: the retry answers with the object that was made, or makes it
// now, and either way exactly one object exists.
func TestSettlers(t *testing.T) {
	t.Parallel()
	const ticket = "1892000000042033"
	tests := []struct {
		name, action, input, pathPrefix string
		// count returns how many objects of this input exist.
		count func(e *emulator.Emulator) int
	}{
		{name: "ticket by contact id", action: "create_ticket", pathPrefix: "/api/v1/tickets",
			input: `{"orgId":"2389290","payload":{"subject":"settle by contact id","departmentId":"1892000000006907","contactId":"1892000000042032"}}`,
			count: liveTickets},
		{name: "ticket by contact email", action: "create_ticket", pathPrefix: "/api/v1/tickets",
			input: `{"orgId":"2389290","payload":{"subject":"settle by contact email","departmentId":"1892000000006907","contact":{"lastName":"Settle","email":"settle@example.com"}}}`,
			count: liveTickets},
		{name: "attachment", action: "create_ticket_attachment", pathPrefix: "/api/v1/tickets/" + ticket + "/attachments",
			input: `{"orgId":"2389290","ticketId":"` + ticket + `","fileName":"settle.txt","fileData":"aGVsbG8="}`,
			count: func(e *emulator.Emulator) int {
				ti, _ := e.GetTicket(emulator.DemoOrgID, ticket)
				return ti.Attachments
			}},
		{name: "agent", action: "add_agent", pathPrefix: "/api/v1/agents",
			input: `{"orgId":"2389290","payload":{"emailId":"settle.agent@example.com","lastName":"Settle","associatedDepartmentIds":["1892000000006907"],"rolePermissionType":"AgentPublic"}}`,
			count: func(e *emulator.Emulator) int {
				if _, ok := e.AgentByEmail(emulator.DemoOrgID, "settle.agent@example.com"); ok {
					return 1
				}
				return 0
			}},
	}
	for _, tt := range tests {
		for _, fault := range []emulator.FaultKind{emulator.FaultResetAfterBody, emulator.FaultResetBeforeBody} {
			t.Run(tt.name+"/"+string(fault), func(t *testing.T) {
				t.Parallel()
				env := newTestEnv(t, Deps{}, emulator.Options{})
				st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "deskconn.db"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				var offset atomic.Int64
				base := time.Now()
				reg := action.NewRegistry(action.Options{Idempotency: st,
					Now: func() time.Time { return base.Add(time.Duration(offset.Load())) }})
				reg.Add(All(Deps{Now: func() time.Time { return fixedNow }})...)
				before := tt.count(env.emu)
				invoke := func() (json.RawMessage, error) {
					return reg.Invoke(t.Context(), env.target, tt.action, json.RawMessage(tt.input), action.InvokeOptions{IdempotencyKey: "k"})
				}

				env.emu.AddFault(emulator.Fault{Kind: fault, Method: "POST", PathPrefix: tt.pathPrefix, Times: 1})
				if _, err := invoke(); deskconn.ErrorCode(err) != deskconn.CodeUnavailable || !strings.Contains(err.Error(), "same idempotency key") {
					t.Fatalf("lost answer: %v; want unavailable advising a retry with the same key", err)
				}
				made := tt.count(env.emu) - before
				if want := map[emulator.FaultKind]int{emulator.FaultResetAfterBody: 1, emulator.FaultResetBeforeBody: 0}[fault]; made != want {
					t.Fatalf("the fault left %d objects, want %d", made, want)
				}
				// Too early to look: the answer says when to retry.
				if _, err := invoke(); deskconn.ErrorCode(err) != deskconn.CodeConflict || deskconn.AsError(err).RetryAfter <= 0 {
					t.Errorf("immediate retry = %v; want conflict with RetryAfter", err)
				}
				offset.Store(int64(time.Minute))
				out, err := invoke()
				if err != nil {
					t.Fatalf("settling retry: %v", err)
				}
				if n := tt.count(env.emu) - before; n != 1 {
					t.Errorf("after settling %d objects exist, want exactly 1", n)
				}
				if err := reg.Lookup(tt.action).ValidateOutput(out); err != nil {
					t.Errorf("settled output does not match the output schema: %v\n%s", err, out)
				}
				var id struct {
					ID string `json:"id"`
				}
				if json.Unmarshal(out, &id) != nil || id.ID == "" {
					t.Errorf("settled output has no id: %s", out)
				}
				rec, err := st.GetIdempotent(t.Context(), store.IdemKey{TenantID: env.target.Tenant, ConnectionID: env.target.Conn.ID, Action: tt.action, Key: "k"})
				if err != nil || rec.State != store.IdemSucceeded {
					t.Fatalf("record after settling = %+v, %v; want succeeded", rec, err)
				}
				// Replays agree.
				if again, err := invoke(); err != nil || string(again) != string(out) {
					t.Errorf("replay = %s, %v; want %s", again, err, out)
				}
			})
		}
	}
}

// liveTickets counts the emulator's live tickets: each subtest has its own
// emulator, and only its create changes the count.
func liveTickets(e *emulator.Emulator) int { return e.TicketCount(emulator.DemoOrgID) }

// TestSameContact: a listed ticket is the one a create_ticket made only if
// it has the contact the input named, by id, else e-mail, else last name.
func TestSameContact(t *testing.T) {
	t.Parallel()
	listed := &zohodesk.Ticket{ContactID: "1", Raw: json.RawMessage(`{"contactId":"1","contact":{"email":"A@example.com","lastName":"Ames"}}`)}
	tests := []struct {
		name string
		p    CreateTicketPayload
		want bool
	}{
		{"same id", CreateTicketPayload{ContactID: "1"}, true},
		{"other id", CreateTicketPayload{ContactID: "2"}, false},
		{"same email, any case", CreateTicketPayload{Contact: &ContactInput{Email: "a@example.com", LastName: "Other"}}, true},
		{"other email", CreateTicketPayload{Contact: &ContactInput{Email: "b@example.com", LastName: "Ames"}}, false},
		{"same last name", CreateTicketPayload{Contact: &ContactInput{LastName: "Ames"}}, true},
		{"other last name", CreateTicketPayload{Contact: &ContactInput{LastName: "Bates"}}, false},
	}
	for _, tt := range tests {
		if got := sameContact(listed, tt.p); got != tt.want {
			t.Errorf("%s: sameContact = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The settle inputs kept (sealed) in idempotency records leave out files.
func TestSettleInputsLeaveOutFiles(t *testing.T) {
	t.Parallel()
	ct := CreateTicketInput{Payload: CreateTicketPayload{Subject: "s", Uploads: []UploadRef{{}}}}
	if got := ct.SettleInput().(CreateTicketInput); got.Payload.Uploads != nil || got.Payload.Subject != "s" || ct.Payload.Uploads == nil {
		t.Errorf("create_ticket settle input = %+v (input after: %+v); want the uploads left out of a copy", got, ct)
	}
	ca := CreateTicketAttachmentInput{FileName: "a.pdf", FileData: "JVBERi0x"}
	if got := ca.SettleInput().(CreateTicketAttachmentInput); got.FileData != "" || got.FileName != "a.pdf" || ca.FileData == "" {
		t.Errorf("create_ticket_attachment settle input = %+v; want the file left out of a copy", got)
	}
}
