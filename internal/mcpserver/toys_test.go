package mcpserver

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

// Toy actions: they exercise every way a call can end without Zoho.

type greetIn struct {
	Name  string `json:"name" jsonschema:"who to greet" schema:"minLength=1,maxLength=20"`
	Times int    `json:"times,omitempty" jsonschema:"how many times" schema:"minimum=1,maximum=3"`
	Mood  string `json:"mood,omitempty" schema:"enum=happy|grumpy"`
}

type greetOut struct {
	Greeting string `json:"greeting"`
}

type makeIn struct {
	action.WriteOptions
	DepartmentID string `json:"departmentId" jsonschema:"department; from list_departments"`
	Subject      string `json:"subject" schema:"minLength=1"`
}

type makeOut struct {
	ID string `json:"id"`
}

type zapIn struct {
	action.WriteOptions
	ID string `json:"id" schema:"minLength=1"`
}

func (in zapIn) Describe() string { return "zap the thing " + in.ID + " for good" }

type zapOut struct {
	Zapped bool `json:"zapped"`
}

type emptyIn struct{}

type listOut struct {
	Data     []string `json:"data"`
	From     int      `json:"from"`
	Count    int      `json:"count"`
	HasMore  bool     `json:"hasMore"`
	NextFrom *int     `json:"nextFrom,omitempty"`
}

// toys holds counters of what the toy actions did.
type toys struct {
	made   atomic.Int64
	zapped atomic.Int64
}

func (ts *toys) registry() *action.Registry {
	reg := action.NewRegistry(action.Options{})
	reg.Add(
		action.Define("greet", action.Info{Title: "Greet", Description: "Greets someone.", Hints: action.Hints{ReadOnly: true, Idempotent: true}},
			func(_ context.Context, _ *action.Call, in greetIn) (greetOut, error) {
				return greetOut{Greeting: "hello " + in.Name}, nil
			}),
		action.Define("make_thing", action.Info{Title: "Make thing", Description: "Makes a thing in a department.", Write: true, Hints: action.Hints{OpenWorld: true}},
			func(_ context.Context, call *action.Call, in makeIn) (makeOut, error) {
				if in.DepartmentID == "999" {
					return makeOut{}, deskconn.Invalid("the department does not exist",
						deskconn.FieldError{Pointer: "/departmentId", Code: "invalid", Message: "no department has this id"})
				}
				if call.DryRun {
					return makeOut{}, call.Plan(action.PlannedRequest{Method: "POST", Path: "/things", Body: map[string]any{"subject": in.Subject}})
				}
				ts.made.Add(1)
				return makeOut{ID: "42"}, nil
			}),
		action.Define("zap_thing", action.Info{Title: "Zap thing", Description: "Destroys a thing.", Write: true, Hints: action.Hints{Destructive: true, OpenWorld: true}},
			func(_ context.Context, _ *action.Call, in zapIn) (zapOut, error) {
				ts.zapped.Add(1)
				return zapOut{Zapped: true}, nil
			}),
		action.Define("pick_thing", action.Info{Title: "Pick thing", Description: "Picks a thing by name.", Hints: action.Hints{ReadOnly: true}},
			func(context.Context, *action.Call, emptyIn) (greetOut, error) {
				return greetOut{}, &deskconn.Error{Code: deskconn.CodeAmbiguous, Message: "2 things match the name \"box\"",
					Candidates: []deskconn.Candidate{{ID: "1", Label: "#101 box", Details: "Open"}, {ID: "2", Label: "#102 box"}}}
			}),
		action.Define("crash", action.Info{Title: "Crash", Description: "Fails with a bug.", Hints: action.Hints{ReadOnly: true}},
			func(context.Context, *action.Call, emptyIn) (greetOut, error) {
				return greetOut{}, errBoom
			}),
		action.Define("throttled", action.Info{Title: "Throttled", Description: "Is rate limited.", Hints: action.Hints{ReadOnly: true}},
			func(context.Context, *action.Call, emptyIn) (greetOut, error) {
				return greetOut{}, &deskconn.Error{Code: deskconn.CodeRateLimited, Message: "Zoho Desk is throttling this organization",
					RetryAfter: 1500 * time.Millisecond, Upstream: &deskconn.Upstream{Status: 429, ErrorCode: "TOO_MANY_REQUESTS", RequestID: "req-7"}}
			}),
		action.Define("list_things", action.Info{Title: "List things", Description: "Lists things.", Hints: action.Hints{ReadOnly: true}},
			func(context.Context, *action.Call, emptyIn) (listOut, error) {
				next := 2
				return listOut{Data: []string{"a", "b"}, From: 0, Count: 2, HasMore: true, NextFrom: &next}, nil
			}),
		// list_departments exists so that hints may name it.
		action.Define("list_departments", action.Info{Title: "List departments", Description: "Lists departments.", Hints: action.Hints{ReadOnly: true}},
			func(context.Context, *action.Call, emptyIn) (listOut, error) {
				return listOut{Data: []string{"1"}, Count: 1}, nil
			}),
	)
	return reg
}

// toyTarget is a connection with no Zoho client (toys need none).
var toyTarget = action.Target{Tenant: "t1", Conn: action.Conn{ID: "c1", Name: "toys"}}
