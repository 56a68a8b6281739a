package action_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

type toyPayload struct {
	Subject  string `json:"subject" jsonschema:"one-line summary" schema:"minLength=1,maxLength=10"`
	Priority string `json:"priority,omitempty" schema:"enum=Low|Medium|High"`
	DueDate  string `json:"dueDate,omitempty" schema:"format=date-time"`
	Email    string `json:"email,omitempty" schema:"format=email"`
}

type toyIn struct {
	action.WriteOptions
	OrgID   string     `json:"orgId,omitempty" jsonschema:"organisation id; from list_organizations"`
	Payload toyPayload `json:"payload"`
	Limit   int        `json:"limit,omitempty" schema:"minimum=1,maximum=100"`
	Tags    []string   `json:"tags,omitempty" schema:"maxItems=2,items.maxLength=5"`
}

type toyOut struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
}

// toy is a write action whose Zoho side is simulated by counters.
type toy struct {
	calls atomic.Int64 // handler calls (not counting dry runs)
	sent  atomic.Int64 // simulated Zoho writes
	// fail, if set, decides the handler's error for the n-th call (from 1).
	fail func(n int64) error
	// block, if set, is waited on before answering; entered, if set,
	// receives a value when a call starts waiting on it.
	block   chan struct{}
	entered chan struct{}
	// settle, if set, is the action's settler.
	settle action.Settler[toyIn, toyOut]
}

func (t *toy) action(name string, hints action.Hints) *action.Action {
	a := t.define(name, hints)
	if t.settle != nil {
		a = action.WithSettler(a, "a toy ticket with this subject", t.settle)
	}
	return a
}

func (t *toy) define(name string, hints action.Hints) *action.Action {
	return action.Define(name, action.Info{
		Title:           "Toy create",
		Description:     "Creates a toy ticket. Use it in tests.",
		Write:           true,
		Hints:           hints,
		ZohoFieldPrefix: "/payload",
		Examples:        []json.RawMessage{json.RawMessage(`{"payload":{"subject":"Hi"}}`)},
	}, func(ctx context.Context, call *action.Call, in toyIn) (toyOut, error) {
		org, err := call.OrgID(in.OrgID)
		if err != nil {
			return toyOut{}, err
		}
		req := action.PlannedRequest{Method: "POST", Path: "/tickets",
			Header: map[string]string{"orgId": org}, Body: map[string]any{"subject": in.Payload.Subject}}
		if call.DryRun {
			return toyOut{}, call.Plan(req)
		}
		n := t.calls.Add(1)
		if t.block != nil {
			if t.entered != nil {
				t.entered <- struct{}{}
			}
			<-t.block
		}
		// What zohodesk.Client does before it sends a write.
		if err := zohodesk.BeforeDispatch(ctx); err != nil {
			return toyOut{}, err
		}
		// Reported before the outcome is known: a failed call's marks must
		// not be kept.
		call.Created("ticket", fmt.Sprintf("T%d", n), "2026-01-15T10:30:00.000Z")
		if t.fail != nil {
			if err := t.fail(n); err != nil {
				return toyOut{}, err
			}
		}
		t.sent.Add(1)
		call.SetRequestID(fmt.Sprintf("zr-%d", n))
		call.SetDetail("ticket created")
		return toyOut{ID: fmt.Sprintf("T%d", n), Subject: in.Payload.Subject}, nil
	})
}

type trashIn struct {
	action.WriteOptions
	TicketIDs []string `json:"ticketIds" schema:"minItems=1,maxItems=50"`
}

func (in trashIn) Describe() string {
	return fmt.Sprintf("move %d ticket(s) (%s) to the Recycle Bin", len(in.TicketIDs), strings.Join(in.TicketIDs, ", "))
}

type trashOut struct {
	Moved []string `json:"moved"`
}

func trashAction(calls *atomic.Int64) *action.Action {
	return action.Define("toy_trash", action.Info{
		Title: "Toy trash", Description: "Moves toy tickets to the trash.",
		Write: true, Hints: action.Hints{Destructive: true},
	}, func(ctx context.Context, call *action.Call, in trashIn) (trashOut, error) {
		if call.DryRun {
			return trashOut{}, call.Plan(action.PlannedRequest{Method: "POST", Path: "/tickets/moveToTrash", Body: map[string]any{"ticketIds": in.TicketIDs}})
		}
		calls.Add(1)
		return trashOut{Moved: in.TicketIDs}, nil
	})
}

type readIn struct {
	TicketID string `json:"ticketId" schema:"pattern=^[0-9]+$"`
}

func readAction(calls *atomic.Int64) *action.Action {
	return action.Define("toy_read", action.Info{
		Title: "Toy read", Description: "Reads a toy ticket.", Hints: action.Hints{ReadOnly: true},
	}, func(ctx context.Context, call *action.Call, in readIn) (toyOut, error) {
		calls.Add(1)
		return toyOut{ID: in.TicketID, Subject: "s"}, nil
	})
}

func target() action.Target {
	return action.Target{Tenant: "ten1", APIKeyID: "key1",
		Conn: action.Conn{ID: "c1", Name: "main", DefaultOrgID: "777"}}
}
