package action_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
	"github.com/google/go-cmp/cmp"
)

const validInput = `{"payload":{"subject":"Hello"}}`

func TestPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		policies map[string]string
		action   string
		input    string
		wantCode deskconn.Code
		wantIs   error
		wantMsg  string
		wantRun  bool
	}{
		{name: "destructive defaults to confirm", action: "toy_trash", input: `{"ticketIds":["1","2"]}`,
			wantCode: deskconn.CodeForbidden, wantIs: action.ErrConfirmationRequired,
			wantMsg: `confirmation required: this would move 2 ticket(s) (1, 2) to the Recycle Bin. The connection "main" requires confirmation for toy_trash. To proceed, send the same input again with "confirm": true; to preview the exact Zoho Desk requests, send "dryRun": true`},
		{name: "confirmed destructive runs", action: "toy_trash", input: `{"ticketIds":["1"],"confirm":true}`, wantRun: true},
		{name: "dry run needs no confirmation", action: "toy_trash", input: `{"ticketIds":["1"],"dryRun":true}`},
		{name: "allow overrides confirm", policies: map[string]string{"toy_trash": "allow"}, action: "toy_trash", input: `{"ticketIds":["1"]}`, wantRun: true},
		{name: "deny", policies: map[string]string{"toy_trash": "deny"}, action: "toy_trash", input: `{"ticketIds":["1"],"confirm":true}`,
			wantCode: deskconn.CodeForbidden, wantIs: action.ErrDenied,
			wantMsg: `the connection "main" does not allow toy_trash (its policy is deny); an administrator can change the connection's policies`},
		{name: "deny a read", policies: map[string]string{"toy_read": "deny"}, action: "toy_read", input: `{"ticketId":"1"}`,
			wantCode: deskconn.CodeForbidden, wantIs: action.ErrDenied},
		{name: "unrecognised policy denies", policies: map[string]string{"toy_trash": "yes"}, action: "toy_trash", input: `{"ticketIds":["1"],"confirm":true}`,
			wantCode: deskconn.CodeForbidden, wantIs: action.ErrDenied},
		{name: "confirm on a read is allow", policies: map[string]string{"toy_read": "confirm"}, action: "toy_read", input: `{"ticketId":"1"}`, wantRun: true},
		{name: "confirm on a plain write", policies: map[string]string{"toy_create": "confirm"}, action: "toy_create", input: validInput,
			wantCode: deskconn.CodeForbidden, wantIs: action.ErrConfirmationRequired,
			wantMsg: `confirmation required: this would run toy_create (Toy create). The connection "main" requires confirmation for toy_create. To proceed, send the same input again with "confirm": true; to preview the exact Zoho Desk requests, send "dryRun": true`},
		{name: "plain write defaults to allow", action: "toy_create", input: validInput, wantRun: true},
		{name: "validation comes first", policies: map[string]string{"toy_trash": "deny"}, action: "toy_trash", input: `{}`, wantCode: deskconn.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var trashCalls, readCalls atomic.Int64
			ty := &toy{}
			r := action.NewRegistry(action.Options{})
			r.Add(ty.action("toy_create", action.Hints{}), trashAction(&trashCalls), readAction(&readCalls))
			tg := target()
			tg.Conn.Policies = tt.policies
			_, err := r.Invoke(t.Context(), tg, tt.action, json.RawMessage(tt.input), action.InvokeOptions{})
			if got := deskconn.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.wantCode)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if tt.wantMsg != "" && deskconn.AsError(err).Message != tt.wantMsg {
				t.Errorf("message = %q\nwant      %q", deskconn.AsError(err).Message, tt.wantMsg)
			}
			ran := trashCalls.Load()+readCalls.Load()+ty.calls.Load() > 0
			if ran != tt.wantRun {
				t.Errorf("handler ran = %v, want %v", ran, tt.wantRun)
			}
		})
	}
}

func TestActionMetadata(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	ty := &toy{}
	r := action.NewRegistry(action.Options{})
	r.Add(ty.action("toy_create", action.Hints{OpenWorld: true}), trashAction(&n), readAction(&n))
	var names []string
	for _, a := range r.List() {
		names = append(names, a.Name())
	}
	if diff := cmp.Diff([]string{"toy_create", "toy_trash", "toy_read"}, names); diff != "" {
		t.Errorf("List order (-want +got):\n%s", diff)
	}
	tr := r.Lookup("toy_trash")
	if !tr.IsWrite() || !tr.IsDestructive() || tr.DefaultPolicy() != action.PolicyConfirm || tr.Title() != "Toy trash" {
		t.Errorf("toy_trash metadata wrong: write=%v destructive=%v policy=%v", tr.IsWrite(), tr.IsDestructive(), tr.DefaultPolicy())
	}
	rd := r.Lookup("toy_read")
	if rd.IsWrite() || !rd.Hints().ReadOnly || rd.DefaultPolicy() != action.PolicyAllow {
		t.Errorf("toy_read metadata wrong")
	}
	if r.Lookup("missing") != nil {
		t.Error("Lookup(missing) != nil")
	}
	cr := r.Lookup("toy_create")
	in := cr.InputSchema()
	if in.AdditionalProperties == nil || in.Properties["payload"].Properties["priority"].Enum == nil {
		t.Errorf("input schema lacks additionalProperties or enum: %s", cr.InputSchemaJSON())
	}
	in.Properties["orgId"].Description = "mutated"
	if strings.Contains(string(cr.InputSchemaJSON()), "mutated") || cr.InputSchema().Properties["orgId"].Description == "mutated" {
		t.Error("InputSchema returned the action's own schema, not a copy")
	}
	for _, want := range []string{`"additionalProperties":false`, `"enum":["Low","Medium","High"]`, `"format":"date-time"`,
		`"maximum":100`, `"maxItems":2`, `"maxLength":255`, `"description":"organisation id; from list_organizations"`} {
		if !strings.Contains(string(cr.InputSchemaJSON()), want) {
			t.Errorf("input schema JSON lacks %s: %s", want, cr.InputSchemaJSON())
		}
	}
	if !strings.Contains(string(cr.OutputSchemaJSON()), `"required":["id","subject"]`) {
		t.Errorf("output schema: %s", cr.OutputSchemaJSON())
	}
	defer func() {
		if recover() == nil {
			t.Error("Add of a duplicate name did not panic")
		}
	}()
	r.Add(readAction(&n))
}

func TestOutputValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	ty := &toy{}
	a := ty.action("toy_create", action.Hints{})
	r := action.NewRegistry(action.Options{})
	r.Add(a)
	out, err := r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(validInput), action.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ValidateOutput(out); err != nil {
		t.Errorf("output %s does not match its schema: %v", out, err)
	}
	err = a.ValidateOutput(json.RawMessage(`{"id":1,"more":true}`))
	de := deskconn.AsError(err)
	want := []deskconn.FieldError{
		fe("/id", "invalid", "must be a string, not an integer 1"),
		fe("/subject", "missing", `is required: add "subject" (a string)`),
		fe("/more", "unknown", `unknown field "more"; remove it (allowed fields: id, subject)`),
	}
	if diff := cmp.Diff(want, de.Fields); diff != "" {
		t.Errorf("ValidateOutput fields (-want +got):\n%s", diff)
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	ty := &toy{}
	st := newFakeStore()
	r := action.NewRegistry(action.Options{Idempotency: st, Audit: st})
	r.Add(ty.action("toy_create", action.Hints{}))
	out, err := r.Invoke(t.Context(), target(), "toy_create",
		json.RawMessage(`{"payload":{"subject":"Hello"},"dryRun":true,"idempotencyKey":"k1"}`), action.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"dryRun":true,"action":"toy_create","requests":[{"method":"POST","path":"/tickets","header":{"orgId":"777"},"body":{"subject":"Hello"}}]}`
	if string(out) != want {
		t.Errorf("dry run = %s\nwant      %s", out, want)
	}
	if ty.calls.Load() != 0 || ty.sent.Load() != 0 {
		t.Errorf("dry run sent %d requests", ty.sent.Load())
	}
	if _, ok := st.record(keyOf("k1")); ok {
		t.Error("dry run stored an idempotency record")
	}
	if a := st.audits(); len(a) != 1 || a[0].Outcome != "dry_run" {
		t.Errorf("audit = %+v, want one dry_run row", a)
	}
	// Resolution errors surface in dry-run too.
	tg := target()
	tg.Conn.DefaultOrgID = ""
	_, err = r.Invoke(t.Context(), tg, "toy_create", json.RawMessage(`{"payload":{"subject":"Hello"},"dryRun":true}`), action.InvokeOptions{})
	de := deskconn.AsError(err)
	if de.Code != deskconn.CodeInvalid || len(de.Fields) != 1 || de.Fields[0].Pointer != "/orgId" ||
		!strings.Contains(de.Fields[0].Message, "list_organizations") {
		t.Errorf("no default org: %v", err)
	}
}

func TestDryRunHandlerMistakes(t *testing.T) {
	t.Parallel()
	type in struct {
		action.WriteOptions
	}
	noPlan := action.Define("toy_noplan", action.Info{Title: "x", Description: "x", Write: true},
		func(_ context.Context, call *action.Call, _ in) (in, error) { return in{}, nil })
	planAlways := action.Define("toy_planalways", action.Info{Title: "x", Description: "x", Write: true},
		func(_ context.Context, call *action.Call, _ in) (in, error) { return in{}, call.Plan() })
	r := action.NewRegistry(action.Options{})
	r.Add(noPlan, planAlways)
	if _, err := r.Invoke(t.Context(), target(), "toy_noplan", json.RawMessage(`{"dryRun":true}`), action.InvokeOptions{}); deskconn.ErrorCode(err) != deskconn.CodeInternal {
		t.Errorf("handler ignoring dry run: %v, want internal", err)
	}
	if _, err := r.Invoke(t.Context(), target(), "toy_planalways", json.RawMessage(`{}`), action.InvokeOptions{}); deskconn.ErrorCode(err) != deskconn.CodeInternal {
		t.Errorf("Plan outside dry run: %v, want internal", err)
	}
	out, err := r.Invoke(t.Context(), target(), "toy_planalways", json.RawMessage(`{"dryRun":true}`), action.InvokeOptions{})
	if err != nil || string(out) != `{"dryRun":true,"action":"toy_planalways","requests":[]}` {
		t.Errorf("empty plan = %s, %v", out, err)
	}
}

func keyOf(k string) store.IdemKey {
	return store.IdemKey{TenantID: "ten1", ConnectionID: "c1", Action: "toy_create", Key: k}
}

func TestIdempotencyReplayAndConflict(t *testing.T) {
	t.Parallel()
	ty := &toy{}
	st := newFakeStore()
	clk := newClock()
	r := action.NewRegistry(action.Options{Idempotency: st, Now: clk.Now})
	r.Add(ty.action("toy_create", action.Hints{}))
	inv := func(input string, o action.InvokeOptions) (json.RawMessage, error) {
		return r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(input), o)
	}
	first, err := inv(`{"payload":{"subject":"Hello"},"idempotencyKey":"k1"}`, action.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Same key: replayed byte for byte; write options are not part of the input hash.
	for _, in := range []string{
		`{"payload":{"subject":"Hello"},"idempotencyKey":"k1"}`,
		`{"idempotencyKey":"k1","payload":{"subject":"Hello"},"tags":[],"confirm":true}`,
	} {
		again, err := inv(in, action.InvokeOptions{})
		if err != nil || string(again) != string(first) {
			t.Errorf("replay of %s = %s, %v; want %s", in, again, err, first)
		}
	}
	// The adapter's key is the same key.
	again, err := inv(validInput, action.InvokeOptions{IdempotencyKey: "k1"})
	if err != nil || string(again) != string(first) {
		t.Errorf("replay with header key = %s, %v", again, err)
	}
	// Same key, different input: conflict, nothing sent.
	_, err = inv(`{"payload":{"subject":"Other"},"idempotencyKey":"k1"}`, action.InvokeOptions{})
	if de := deskconn.AsError(err); de.Code != deskconn.CodeConflict || de.Fields[0].Pointer != "/idempotencyKey" {
		t.Errorf("different input: %v, want conflict on /idempotencyKey", err)
	}
	// Two different keys: invalid.
	_, err = inv(`{"payload":{"subject":"Hello"},"idempotencyKey":"k1"}`, action.InvokeOptions{IdempotencyKey: "k2"})
	if de := deskconn.AsError(err); de.Code != deskconn.CodeInvalid || de.Fields[0].Pointer != "/idempotencyKey" {
		t.Errorf("two keys: %v, want invalid", err)
	}
	_, err = inv(validInput, action.InvokeOptions{IdempotencyKey: strings.Repeat("k", 256)})
	if deskconn.ErrorCode(err) != deskconn.CodeInvalid {
		t.Errorf("long header key: %v, want invalid", err)
	}
	if n := ty.calls.Load(); n != 1 {
		t.Errorf("handler calls = %d, want 1", n)
	}
	// Another tenant with the same key runs on its own.
	tg := target()
	tg.Tenant = "ten2"
	if _, err := r.Invoke(t.Context(), tg, "toy_create", json.RawMessage(`{"payload":{"subject":"Hello"},"idempotencyKey":"k1"}`), action.InvokeOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := ty.calls.Load(); n != 2 {
		t.Errorf("handler calls after another tenant = %d, want 2", n)
	}
	// After 24 hours the key is forgotten.
	clk.Advance(24*time.Hour + time.Second)
	if _, err := inv(`{"payload":{"subject":"Other"},"idempotencyKey":"k1"}`, action.InvokeOptions{}); err != nil {
		t.Errorf("after TTL: %v", err)
	}
	if n := ty.calls.Load(); n != 3 {
		t.Errorf("handler calls after TTL = %d, want 3", n)
	}
	// A record stored as failed replays its error.
	st.setRecord(keyOf("k1"), store.IdemFailed, []byte(`{"code":"invalid","message":"stored failure"}`))
	_, err = inv(`{"payload":{"subject":"Other"},"idempotencyKey":"k1"}`, action.InvokeOptions{})
	if de := deskconn.AsError(err); de.Code != deskconn.CodeInvalid || de.Message != "stored failure" {
		t.Errorf("failed record replay: %v", err)
	}
}

func TestIdempotencyConcurrentSameKey(t *testing.T) {
	t.Parallel()
	ty := &toy{block: make(chan struct{})}
	st := newFakeStore()
	r := action.NewRegistry(action.Options{Idempotency: st})
	r.Add(ty.action("toy_create", action.Hints{}))
	const n = 50
	outs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(validInput), action.InvokeOptions{IdempotencyKey: "same"})
			outs[i], errs[i] = string(out), err
		})
	}
	// Let the others reach the pending record, then let the first finish.
	for ty.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(ty.block)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || outs[i] != `{"id":"T1","subject":"Hello"}` {
			t.Fatalf("request %d = %s, %v", i, outs[i], errs[i])
		}
	}
	if c := ty.calls.Load(); c != 1 {
		t.Errorf("handler calls = %d, want exactly 1", c)
	}
}

func TestIdempotencyFailureOutcomes(t *testing.T) {
	t.Parallel()
	api := func(status int, code string) error {
		return &zohodesk.APIError{StatusCode: status, Code: code, Message: "m", Method: "POST", Path: "/tickets"}
	}
	tests := []struct {
		name        string
		hints       action.Hints
		err         error
		wantCode    deskconn.Code
		wantRetried bool // the second call with the same key runs the handler again
	}{
		{name: "zoho 422 frees the key", err: api(422, "INVALID_DATA"), wantCode: deskconn.CodeInvalid, wantRetried: true},
		{name: "zoho 429 frees the key", err: api(429, "TOO_MANY_REQUESTS"), wantCode: deskconn.CodeRateLimited, wantRetried: true},
		{name: "not sent frees the key", err: &zohodesk.TransportError{Method: "POST", Path: "/tickets", Err: errBoom}, wantCode: deskconn.CodeUnavailable, wantRetried: true},
		{name: "local domain error frees the key", err: deskconn.Errorf(deskconn.CodeAmbiguous, "two tickets"), wantCode: deskconn.CodeAmbiguous, wantRetried: true},
		{name: "5xx is unknown", err: api(500, "INTERNAL_SERVER_ERROR"), wantCode: deskconn.CodeUnavailable},
		{name: "maybe sent is unknown", err: &zohodesk.TransportError{Method: "POST", Path: "/tickets", MaybeSent: true, Err: errBoom}, wantCode: deskconn.CodeUnavailable},
		{name: "timeout is unknown", err: fmt.Errorf("wait: %w", context.DeadlineExceeded), wantCode: deskconn.CodeUnavailable},
		{name: "undecodable 2xx is unknown", err: &zohodesk.DecodeError{Method: "POST", Path: "/tickets", StatusCode: 200, Err: errBoom}, wantCode: deskconn.CodeUnavailable},
		{name: "unexpected error is unknown", err: errBoom, wantCode: deskconn.CodeInternal},
		{name: "explicit unknown", err: action.OutcomeUnknown(deskconn.Errorf(deskconn.CodeInvalid, "batch 2 refused")), wantCode: deskconn.CodeInvalid},
		{name: "5xx on an idempotent action frees the key", hints: action.Hints{Idempotent: true}, err: api(503, ""), wantCode: deskconn.CodeUnavailable, wantRetried: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ty := &toy{fail: func(n int64) error {
				if n == 1 {
					return tt.err
				}
				return nil
			}}
			st := newFakeStore()
			r := action.NewRegistry(action.Options{Idempotency: st})
			r.Add(ty.action("toy_create", tt.hints))
			inv := func() (json.RawMessage, error) {
				return r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(validInput), action.InvokeOptions{IdempotencyKey: "k"})
			}
			_, err := inv()
			if got := deskconn.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("first call: %v, want %s", err, tt.wantCode)
			}
			unknown := !tt.wantRetried
			if hasAdvice := strings.Contains(err.Error(), "outcome is unknown"); hasAdvice != unknown {
				t.Errorf("first error %q: mentions unknown outcome = %v, want %v", err, hasAdvice, unknown)
			}
			out, err := inv()
			if tt.wantRetried {
				if err != nil || string(out) != `{"id":"T2","subject":"Hello"}` {
					t.Errorf("retry = %s, %v; want the handler to run again", out, err)
				}
				if c := ty.calls.Load(); c != 2 {
					t.Errorf("handler calls = %d, want 2", c)
				}
				return
			}
			de := deskconn.AsError(err)
			if de.Code != deskconn.CodeOutcomeUnknown || !strings.Contains(de.Message, "outcome is unknown") || !strings.Contains(de.Message, "new idempotency key") {
				t.Errorf("second call: %v, want outcome_unknown saying the outcome is unknown", err)
			}
			if c := ty.calls.Load(); c != 1 || ty.sent.Load() != 0 {
				t.Errorf("handler calls = %d, want 1: an unknown outcome must never be re-sent", c)
			}
			if rec, _ := st.record(keyOf("k")); rec.State != store.IdemUnknown {
				t.Errorf("record state = %q, want unknown", rec.State)
			}
		})
	}
}

func TestIdempotencyPendingRecords(t *testing.T) {
	t.Parallel()
	ty := &toy{}
	st := newFakeStore()
	st.finishErr = errBoom // the result cannot be recorded: the record stays pending
	clk := newClock()
	r := action.NewRegistry(action.Options{Idempotency: st, Now: clk.Now, PendingWait: 30 * time.Millisecond})
	r.Add(ty.action("toy_create", action.Hints{}))
	inv := func() error {
		_, err := r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(validInput), action.InvokeOptions{IdempotencyKey: "k"})
		return err
	}
	if err := inv(); err != nil {
		t.Fatalf("first call: %v (the write succeeded; a bookkeeping failure must not hide it)", err)
	}
	if err := inv(); deskconn.ErrorCode(err) != deskconn.CodeConflict || !strings.Contains(err.Error(), "still in progress") {
		t.Errorf("pending: %v, want conflict still in progress", err)
	}
	clk.Advance(11 * time.Minute)
	if err := inv(); deskconn.ErrorCode(err) != deskconn.CodeOutcomeUnknown || !strings.Contains(err.Error(), "outcome is unknown") {
		t.Errorf("stale dispatched pending: %v, want outcome_unknown", err)
	}
	if c := ty.calls.Load(); c != 1 {
		t.Errorf("handler calls = %d, want 1", c)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	clk.Advance(-11 * time.Minute)
	r2 := action.NewRegistry(action.Options{Idempotency: st, Now: clk.Now})
	r2.Add(ty.action("toy_create", action.Hints{}))
	_, err := r2.Invoke(ctx, target(), "toy_create", json.RawMessage(validInput), action.InvokeOptions{IdempotencyKey: "k"})
	if deskconn.ErrorCode(err) != deskconn.CodeUnavailable {
		t.Errorf("canceled while waiting: %v, want unavailable", err)
	}
}

func TestIdempotencyWithoutStore(t *testing.T) {
	t.Parallel()
	ty := &toy{}
	r := action.NewRegistry(action.Options{})
	r.Add(ty.action("toy_create", action.Hints{}))
	_, err := r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(validInput), action.InvokeOptions{IdempotencyKey: "k"})
	if de := deskconn.AsError(err); de.Code != deskconn.CodeInvalid || de.Fields[0].Pointer != "/idempotencyKey" {
		t.Errorf("key without store: %v", err)
	}
	if ty.calls.Load() != 0 {
		t.Error("handler ran")
	}
	// Reads ignore an adapter key.
	var n atomic.Int64
	r.Add(readAction(&n))
	if _, err := r.Invoke(t.Context(), target(), "toy_read", json.RawMessage(`{"ticketId":"1"}`), action.InvokeOptions{IdempotencyKey: "k"}); err != nil {
		t.Errorf("read with key: %v", err)
	}
}

func TestZohoErrorMapping(t *testing.T) {
	t.Parallel()
	type want struct {
		code       deskconn.Code
		msg        string // substring of the message
		fields     []deskconn.FieldError
		retryAfter time.Duration
	}
	tests := []struct {
		name string
		err  error
		want want
	}{
		{"invalid oauth", &zohodesk.APIError{StatusCode: 401, Code: "INVALID_OAUTH"}, want{code: deskconn.CodeUnauthenticated, msg: "reconnect"}},
		{"unauthorized", &zohodesk.APIError{StatusCode: 401, Code: "UNAUTHORIZED"}, want{code: deskconn.CodeUnauthenticated}},
		{"bare 401", &zohodesk.APIError{StatusCode: 401}, want{code: deskconn.CodeUnauthenticated}},
		{"scope mismatch", &zohodesk.APIError{StatusCode: 401, Code: "SCOPE_MISMATCH"}, want{code: deskconn.CodeForbidden, msg: "reconnect"}},
		{"org mismatch", &zohodesk.APIError{StatusCode: 403, Code: "OAUTH_ORG_MISMATCH"}, want{code: deskconn.CodeForbidden,
			msg:    "orgId does not match this connection's organisation",
			fields: []deskconn.FieldError{fe("/orgId", "invalid", "does not match this connection's organisation; omit it to use the connection's default organisation, or call list_organizations")}}},
		{"licence", &zohodesk.APIError{StatusCode: 403, Code: "LICENSE_ACCESS_LIMITED", Message: "Agent limit reached"}, want{code: deskconn.CodeForbidden, msg: "edition or licence does not allow this (Zoho Desk: Agent limit reached)"}},
		{"forbidden", &zohodesk.APIError{StatusCode: 403, Code: "FORBIDDEN"}, want{code: deskconn.CodeForbidden, msg: "lacks the permission"}},
		{"bare 403", &zohodesk.APIError{StatusCode: 403}, want{code: deskconn.CodeForbidden}},
		{"url not found", &zohodesk.APIError{StatusCode: 404, Code: "URL_NOT_FOUND"}, want{code: deskconn.CodeNotFound, msg: "check the id"}},
		{"bare 404", &zohodesk.APIError{StatusCode: 404}, want{code: deskconn.CodeNotFound}},
		{"invalid data with fields", &zohodesk.APIError{StatusCode: 422, Code: "INVALID_DATA", Fields: []zohodesk.FieldError{
			{Pointer: "/contactId", Type: "invalid"}, {Pointer: "/departmentId", Type: "missing"},
			{Pointer: "/email", Type: "duplicate", Message: "email exists"}, {Pointer: "cf/cf_x", Type: "weird"}}},
			want{code: deskconn.CodeInvalid, msg: "fix the fields listed", fields: []deskconn.FieldError{
				fe("/payload/contactId", "invalid", "was rejected by Zoho Desk as invalid: check the value (lookup actions return valid ids)"),
				fe("/payload/departmentId", "missing", "is required by Zoho Desk: add it"),
				fe("/payload/email", "duplicate", "email exists"),
				fe("/payload/cf/cf_x", "invalid", "was rejected by Zoho Desk as invalid: check the value (lookup actions return valid ids)"),
			}}},
		{"unprocessable", &zohodesk.APIError{StatusCode: 422, Code: "UNPROCESSABLE_ENTITY", Message: "The value passed for the 'from' query parameter is invalid."},
			want{code: deskconn.CodeInvalid, msg: "'from' query parameter"}},
		{"bare 400", &zohodesk.APIError{StatusCode: 400}, want{code: deskconn.CodeInvalid}},
		{"too large", &zohodesk.APIError{StatusCode: 413, Code: "RESOURCE_SIZE_EXCEEDED"}, want{code: deskconn.CodeInvalid, msg: "too large"}},
		{"credits", &zohodesk.APIError{StatusCode: 429, Code: "THRESHOLD_EXCEEDED", RetryAfter: time.Hour}, want{code: deskconn.CodeRateLimited, msg: "daily", retryAfter: time.Hour}},
		{"throttled", &zohodesk.APIError{StatusCode: 429, Code: "TOO_MANY_REQUESTS"}, want{code: deskconn.CodeRateLimited, msg: "a short wait"}},
		{"bare 429", &zohodesk.APIError{StatusCode: 429, RetryAfter: 5 * time.Second}, want{code: deskconn.CodeRateLimited, retryAfter: 5 * time.Second}},
		{"conflict", &zohodesk.APIError{StatusCode: 409}, want{code: deskconn.CodeConflict}},
		{"5xx", &zohodesk.APIError{StatusCode: 502}, want{code: deskconn.CodeUnavailable, msg: "HTTP 502"}},
		{"method not allowed is a bug", &zohodesk.APIError{StatusCode: 405, Code: "METHOD_NOT_ALLOWED"}, want{code: deskconn.CodeInternal}},
		{"transport", &zohodesk.TransportError{Err: errBoom}, want{code: deskconn.CodeUnavailable, msg: "could not be reached"}},
		{"undecodable 2xx", fmt.Errorf("create: %w", &zohodesk.DecodeError{StatusCode: 200, ContentType: "text/html", Err: errBoom}), want{code: deskconn.CodeUnavailable, msg: "HTTP 200 but a response that could not be read"}},
		{"transport timeout", &zohodesk.TransportError{Err: context.DeadlineExceeded}, want{code: deskconn.CodeUnavailable, msg: "did not answer in time"}},
		{"attempt timeout", &zohodesk.TransportError{Err: &zohodesk.TimeoutError{After: 30 * time.Second}}, want{code: deskconn.CodeUnavailable, msg: "did not answer in time"}},
		{"stalled transfer", &zohodesk.TransportError{Err: &zohodesk.TimeoutError{Stalled: true, After: time.Minute}}, want{code: deskconn.CodeUnavailable, msg: "transfer with Zoho Desk stalled (nothing moved for 1m0s)"}},
		{"needs reauth passes through", &zohodesk.TransportError{Err: &deskconn.Error{Code: deskconn.CodeNeedsReauth, Message: "reconnect main"}}, want{code: deskconn.CodeNeedsReauth, msg: "reconnect main"}},
		{"zohodesk local validation", fmt.Errorf("get: %w", zohodesk.ErrInvalid), want{code: deskconn.CodeInvalid}},
		{"zohodesk not found", fmt.Errorf("agent by email: %w", zohodesk.ErrNotFound), want{code: deskconn.CodeNotFound}},
		{"canceled", context.Canceled, want{code: deskconn.CodeUnavailable, msg: "canceled"}},
		{"anything else", errBoom, want{code: deskconn.CodeInternal, msg: "internal error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ty := &toy{fail: func(int64) error { return tt.err }}
			r := action.NewRegistry(action.Options{})
			r.Add(ty.action("toy_create", action.Hints{Idempotent: true}))
			_, err := r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(validInput), action.InvokeOptions{})
			de := deskconn.AsError(err)
			if de.Code != tt.want.code || !strings.Contains(de.Message, tt.want.msg) {
				t.Fatalf("got %s %q, want %s containing %q", de.Code, de.Message, tt.want.code, tt.want.msg)
			}
			if diff := cmp.Diff(tt.want.fields, de.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if de.RetryAfter != tt.want.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", de.RetryAfter, tt.want.retryAfter)
			}
			var ae *zohodesk.APIError
			if errors.As(tt.err, &ae) {
				if de.Upstream == nil || de.Upstream.Status != ae.StatusCode || de.Upstream.ErrorCode != ae.Code {
					t.Errorf("upstream = %+v, want status %d code %s", de.Upstream, ae.StatusCode, ae.Code)
				}
			}
			if !errors.Is(err, tt.err) && de.Code != deskconn.CodeNeedsReauth {
				t.Errorf("the cause is not kept: %v", err)
			}
		})
	}
}

func TestAuditAndObserver(t *testing.T) {
	t.Parallel()
	const secret = "SECRET-subject-123"
	ty := &toy{fail: func(n int64) error {
		if n == 2 {
			return &zohodesk.APIError{StatusCode: 422, Code: "INVALID_DATA", RequestID: "zr-fail"}
		}
		return nil
	}}
	st := newFakeStore()
	var mu sync.Mutex
	var obs []action.Observation
	r := action.NewRegistry(action.Options{Audit: st, Idempotency: st, Observer: func(o action.Observation) {
		mu.Lock()
		defer mu.Unlock()
		obs = append(obs, o)
	}})
	var reads, trashes atomic.Int64
	r.Add(ty.action("toy_create", action.Hints{}), readAction(&reads), trashAction(&trashes))
	in := json.RawMessage(`{"payload":{"subject":"` + secret[:10] + `"},"idempotencyKey":"` + secret + `"}`)
	tg := target()
	calls := []struct {
		name, input string
	}{
		{"toy_create", string(in)},                         // ok, request id zr-1
		{"toy_create", `{"payload":{"subject":"second"}}`}, // Zoho 422
		{"toy_create", string(in)},                         // replay
		{"toy_create", `{"payload":{}}`},                   // invalid input
		{"toy_trash", `{"ticketIds":["1"]}`},               // confirmation required
		{"toy_read", `{"ticketId":"1"}`},                   // a read: not audited
	}
	for _, c := range calls {
		_, _ = r.Invoke(t.Context(), tg, c.name, json.RawMessage(c.input), action.InvokeOptions{})
	}
	got := st.audits()
	type row struct {
		Action, Outcome, ReqID, Detail string
		Writes                         []string
	}
	var rows []row
	for _, a := range got {
		var writes []string
		for _, m := range a.Writes {
			writes = append(writes, m.Key)
		}
		rows = append(rows, row{a.Action, a.Outcome, a.ZohoRequestID, a.Detail, writes})
		if a.TenantID != "ten1" || a.APIKeyID != "key1" || a.ConnectionID != "c1" || a.Time.IsZero() {
			t.Errorf("audit row lacks identity: %+v", a)
		}
		if s := fmt.Sprintf("%+v", a); strings.Contains(s, secret[:10]) || strings.Contains(s, "second") {
			t.Errorf("audit row leaks input: %s", s)
		}
	}
	// Only the successful write carries its changes (write marks): not
	// the failed one, nor the replay, whose change the first call made.
	want := []row{
		{"toy_create", "ok", "zr-1", "ticket created", []string{"ticket/T1", "ticket/T1@1768473000000"}},
		{"toy_create", "invalid", "zr-fail", "", nil},
		{"toy_create", "ok", "", "replayed for an idempotency key", nil},
		{"toy_create", "invalid", "", "", nil},
		{"toy_trash", "forbidden", "", "input ticketIds=1", nil},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("audit rows (-want +got):\n%s", diff)
	}
	mu.Lock()
	defer mu.Unlock()
	var outcomes []string
	for _, o := range obs {
		outcomes = append(outcomes, fmt.Sprintf("%s:%s:%v", o.Action, o.Outcome, o.Replayed))
	}
	wantObs := []string{"toy_create:ok:false", "toy_create:invalid:false", "toy_create:ok:true", "toy_create:invalid:false", "toy_trash:forbidden:false", "toy_read:ok:false"}
	if diff := cmp.Diff(wantObs, outcomes); diff != "" {
		t.Errorf("observations (-want +got):\n%s", diff)
	}
}

func TestHandlerPanic(t *testing.T) {
	t.Parallel()
	type in struct {
		action.WriteOptions
	}
	for _, tt := range []struct {
		name      string
		dispatch  bool // the handler panics after its write was dispatched
		wantCalls int64
	}{
		{name: "before dispatch the key is free again", wantCalls: 2},
		{name: "after dispatch the outcome is unknown", dispatch: true, wantCalls: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			a := action.Define("toy_panic", action.Info{Title: "x", Description: "x", Write: true},
				func(ctx context.Context, _ *action.Call, _ in) (in, error) {
					calls.Add(1)
					if tt.dispatch {
						if err := zohodesk.BeforeDispatch(ctx); err != nil {
							return in{}, err
						}
					}
					panic("oops")
				})
			st := newFakeStore()
			r := action.NewRegistry(action.Options{Idempotency: st})
			r.Add(a)
			for range 2 {
				_, err := r.Invoke(t.Context(), target(), "toy_panic", json.RawMessage(`{}`), action.InvokeOptions{IdempotencyKey: "k"})
				if c := deskconn.ErrorCode(err); c != deskconn.CodeInternal && c != deskconn.CodeOutcomeUnknown {
					t.Errorf("panic: %v", err)
				}
			}
			if calls.Load() != tt.wantCalls {
				t.Errorf("a panicking write ran %d times under one key, want %d", calls.Load(), tt.wantCalls)
			}
		})
	}
}
