package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
)

// IdempotencyStore keeps idempotency records. store.Store satisfies it; see
// its documentation for the contract of each method. The registry polls a
// record held by a live request by calling BeginIdempotent again: it
// returns the record while it exists, and inserts a fresh one once it was
// deleted.
type IdempotencyStore interface {
	BeginIdempotent(ctx context.Context, rec *store.IdemRecord) (*store.IdemRecord, bool, error)
	ClaimIdempotent(ctx context.Context, key store.IdemKey, prevOwner string, prevHeartbeat time.Time, owner string, at time.Time) error
	HeartbeatIdempotent(ctx context.Context, key store.IdemKey, owner string, at time.Time) error
	DispatchIdempotent(ctx context.Context, key store.IdemKey, owner string, at time.Time) error
	FinishIdempotent(ctx context.Context, key store.IdemKey, owner string, state store.IdemState, result []byte) error
	DeleteIdempotent(ctx context.Context, key store.IdemKey, owner string) error
	ListSettleable(ctx context.Context, q store.SettleQuery) ([]*store.IdemRecord, error)
	DeferSettle(ctx context.Context, key store.IdemKey, owner string, next time.Time, drop bool) error
}

// AuditLog receives one record per write attempt. store.Store satisfies it.
type AuditLog interface {
	AppendAudit(ctx context.Context, r *store.AuditRecord) error
}

// Observation describes one finished Invoke, for metrics and per-connection
// call counts.
type Observation struct {
	// Tenant and ConnectionID are the call's target (ConnectionID is ""
	// when the target has no connection).
	Tenant       string
	ConnectionID string
	Action       string
	// Outcome is "ok", "dry_run", or the domain error code.
	Outcome  string
	Duration time.Duration
	// Replayed is true when the result was replayed for an idempotency key.
	Replayed bool
}

// Options configure a Registry. The zero value works: no idempotency store
// (requests carrying a key are refused), no audit log, the real clock.
type Options struct {
	// Idempotency stores idempotency records. Without it, a write that
	// carries an idempotency key is refused as invalid.
	Idempotency IdempotencyStore
	// Audit receives a record for every write attempt (nil: none). The
	// record of a write that succeeded carries the changes its handler
	// reported (Call.Created, Call.Updated), which the store keeps as
	// write marks: without Audit, events never name deskconn as actor.
	Audit AuditLog
	// Now is the clock (default time.Now).
	Now func() time.Time
	// IdempotencyTTL is how long a result is kept for replay (default 24h).
	IdempotencyTTL time.Duration
	// PendingWait bounds how long a request waits for a concurrent request
	// with the same key to finish before answering conflict (default 30s).
	PendingWait time.Duration
	// Lease is how long the request holding an idempotency record may go
	// without renewing it (it renews every Lease/3 while it runs) before
	// the record counts as abandoned, its process having died: a record
	// never dispatched to Zoho is then run again, a dispatched one settled
	// (default 30s). Clocks of replicas sharing a store must agree to well
	// within it.
	Lease time.Duration
	// SettleAfter is how long after its dispatch an unknown outcome is
	// first looked for in Zoho Desk, so that a request Zoho was still
	// processing has finished (default 30s).
	SettleAfter time.Duration
	// Observer, if set, is called after every Invoke, reads included (for
	// metrics and call counts). It must be quick, never block on I/O, and
	// be safe for concurrent use.
	Observer func(Observation)
	// AuditError, if set, is called when an audit record cannot be written.
	// The action's result is returned regardless.
	AuditError func(error)
	// InputSealer, if set, seals what an action's settler needs of a keyed
	// write's input into its idempotency record, so that SettleAbandoned
	// can settle an unknown outcome without waiting for the client's retry.
	// Without it, unknown outcomes are settled only on a retry.
	InputSealer InputSealer
}

// InputSealer seals and opens the settle input of an idempotency record
// (it may hold personal data, such as a ticket's subject and contact).
// Implementations bind the sealed bytes to the record's key.
type InputSealer interface {
	SealInput(k store.IdemKey, plain []byte) ([]byte, error)
	OpenInput(k store.IdemKey, sealed []byte) ([]byte, error)
}

// SettleInputter is implemented by inputs that can say what of themselves
// their action's settler needs (for example, everything but file
// contents): that is what the idempotency record keeps. Other inputs are
// kept whole.
type SettleInputter interface {
	SettleInput() any
}

// Policy is a connection's rule for one action.
type Policy string

// Policies. A connection maps action names to one of these; an action with
// no entry gets Action.DefaultPolicy: PolicyConfirm for destructive actions
// (move_tickets_to_trash, deactivate_agent), PolicyAllow otherwise. An
// unrecognised value denies, so a typo never opens an action.
const (
	PolicyAllow   Policy = "allow"
	PolicyDeny    Policy = "deny"
	PolicyConfirm Policy = "confirm" // writes must carry "confirm": true (dry runs need not)
)

// Sentinels in the Err of policy errors, so adapters can tell them apart
// with errors.Is.
var (
	// ErrDenied: the connection's policy denies the action.
	ErrDenied = errors.New("action: denied by policy")
	// ErrConfirmationRequired: the action needs "confirm": true. The error's
	// message says what would happen and how to confirm.
	ErrConfirmationRequired = errors.New("action: confirmation required")
)

// InvokeOptions are per-request options from the adapter.
type InvokeOptions struct {
	// IdempotencyKey is the adapter's key (e.g. the REST Idempotency-Key
	// header). If the input also has idempotencyKey, they must be equal.
	// It is ignored for read actions.
	IdempotencyKey string
}

// Registry holds the actions and runs them. It is safe for concurrent use
// once all actions are added.
type Registry struct {
	opts    Options
	actions []*Action
	byName  map[string]*Action
}

// NewRegistry returns an empty registry.
func NewRegistry(opts Options) *Registry {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.IdempotencyTTL <= 0 {
		opts.IdempotencyTTL = 24 * time.Hour
	}
	if opts.PendingWait <= 0 {
		opts.PendingWait = 30 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.SettleAfter <= 0 {
		opts.SettleAfter = 30 * time.Second
	}
	return &Registry{opts: opts, byName: make(map[string]*Action)}
}

// Add registers actions. It panics on a duplicate name (a programming
// error). Call it before the registry is used concurrently.
func (r *Registry) Add(actions ...*Action) {
	for _, a := range actions {
		if _, dup := r.byName[a.name]; dup {
			panic(fmt.Sprintf("action: duplicate action %q", a.name))
		}
		r.byName[a.name] = a
		r.actions = append(r.actions, a)
	}
}

// List returns the actions in the order they were added.
func (r *Registry) List() []*Action { return append([]*Action(nil), r.actions...) }

// Lookup returns the named action, or nil.
func (r *Registry) Lookup(name string) *Action { return r.byName[name] }

// attempt collects what one Invoke did, for the audit log and metrics.
type attempt struct {
	dryRun    bool
	replayed  bool
	settled   string // how an unknown outcome was settled, for the audit log
	settleErr error  // why a settler could not decide (settle)
	requestID string
	detail    string
	input     string // the input's ids (summarizeIDs), for the audit log
	writes    []store.WriteMark
}

// Invoke runs the named action for target with the raw JSON input and
// returns its JSON output (or, for a dry run, a DryRunResult). Every error
// is a *deskconn.Error:
//
//   - not_found: no action with that name;
//   - invalid: malformed JSON (with the byte offset), or input that breaks
//     the schema — every problem is listed in Fields, each with a JSON
//     Pointer into the input and what to change; also two different
//     idempotency keys;
//   - forbidden: the call is outside the API key's scope (ErrOutOfScope,
//     Target.Scope), or the connection's policy denies the action
//     (ErrDenied), or requires "confirm": true (ErrConfirmationRequired);
//   - conflict: the idempotency key was used with a different input, or
//     its first request is still running (or its unknown outcome is too
//     recent to settle; RetryAfter says when to retry);
//   - outcome_unknown: for an idempotency key whose first request may have
//     reached Zoho and whose outcome could not be settled (see Settle);
//   - unavailable: for Zoho 5xx and transport failures;
//   - anything the handler or Zoho reports, mapped once (see mapError).
//
// Writes with an idempotency key run at most once per (tenant, connection,
// action, key) within IdempotencyTTL; later calls replay the stored result.
// A retry of a key whose first request died before dispatching anything to
// Zoho runs it; a retry of a key whose outcome is unknown settles it first
// (see WithSettler).
// Every write attempt is audited.
func (r *Registry) Invoke(ctx context.Context, t Target, name string, raw json.RawMessage, opts InvokeOptions) (json.RawMessage, error) {
	start := r.opts.Now()
	a := r.Lookup(name)
	if a == nil {
		err := deskconn.Errorf(deskconn.CodeNotFound, "there is no action named %q; list the available actions (GET /v1/actions, or deskconn actions)", name)
		r.observe(Observation{Tenant: t.Tenant, ConnectionID: t.Conn.ID, Action: name, Outcome: string(err.Code), Duration: r.opts.Now().Sub(start)})
		return nil, err
	}
	var at attempt
	out, err := r.invoke(ctx, t, a, raw, opts, &at)
	dur := r.opts.Now().Sub(start)
	outcome := "ok"
	if at.dryRun && err == nil {
		outcome = "dry_run"
	}
	var derr *deskconn.Error
	if err != nil {
		derr = deskconn.AsError(err)
		outcome = string(derr.Code)
	}
	if a.info.Write {
		r.audit(ctx, t, a, outcome, dur, &at, derr)
	}
	r.observe(Observation{Tenant: t.Tenant, ConnectionID: t.Conn.ID, Action: name, Outcome: outcome, Duration: dur, Replayed: at.replayed})
	if derr != nil {
		return nil, derr
	}
	return out, nil
}

func (r *Registry) observe(o Observation) {
	if r.opts.Observer != nil {
		r.opts.Observer(o)
	}
}

func (r *Registry) audit(ctx context.Context, t Target, a *Action, outcome string, dur time.Duration, at *attempt, derr *deskconn.Error) {
	if r.opts.Audit == nil {
		return
	}
	rec := &store.AuditRecord{
		Time: r.opts.Now(), TenantID: t.Tenant, APIKeyID: t.APIKeyID, ConnectionID: t.Conn.ID,
		Action: a.name, Outcome: outcome, ZohoRequestID: at.requestID, Duration: dur, Detail: at.detail,
	}
	if derr != nil && derr.Upstream != nil && derr.Upstream.RequestID != "" {
		rec.ZohoRequestID = derr.Upstream.RequestID
	}
	if outcome == "ok" && !at.replayed {
		rec.Writes = at.writes
	}
	if at.replayed {
		rec.Detail = "replayed for an idempotency key"
	}
	if at.settled != "" {
		rec.Detail = at.settled
	}
	if at.input != "" {
		if rec.Detail != "" {
			rec.Detail += "; "
		}
		rec.Detail += "input " + at.input
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.opts.Audit.AppendAudit(actx, rec); err != nil && r.opts.AuditError != nil {
		r.opts.AuditError(fmt.Errorf("append audit record for %s: %w", a.name, err))
	}
}

func (r *Registry) invoke(ctx context.Context, t Target, a *Action, raw json.RawMessage, opts InvokeOptions, at *attempt) (json.RawMessage, error) {
	obj, perr := parseInput(raw)
	if perr != nil {
		return nil, perr
	}
	if verr := validateInput(a.in, obj); verr != nil {
		return nil, verr
	}
	if a.info.Write {
		at.input = summarizeIDs(obj)
	}
	obj = nil // let the parsed tree go before the input is decoded into In
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		raw = json.RawMessage("{}")
	}
	v, err := a.decode(raw)
	if err != nil {
		// Validation passed, so this is a disagreement between the schema
		// and the Go type: a bug.
		return nil, &deskconn.Error{Code: deskconn.CodeInternal, Message: "internal error", Err: err}
	}
	wo := a.options(v)
	key := wo.IdempotencyKey
	if a.info.Write && opts.IdempotencyKey != "" {
		switch {
		case len(opts.IdempotencyKey) > 255:
			return nil, deskconn.Invalid("the idempotency key is too long",
				deskconn.FieldError{Pointer: "/idempotencyKey", Code: problemInvalid, Message: "the idempotency key must be at most 255 characters long"})
		case key != "" && key != opts.IdempotencyKey:
			return nil, deskconn.Invalid("two different idempotency keys were sent",
				deskconn.FieldError{Pointer: "/idempotencyKey", Code: problemInvalid,
					Message: "differs from the idempotency key sent with the request (e.g. the Idempotency-Key header); send one key, or the same key in both places"})
		}
		key = opts.IdempotencyKey
	}
	if err := t.Scope.check(t.Conn, a); err != nil {
		return nil, err
	}
	if err := r.checkPolicy(t.Conn, a, v, wo); err != nil {
		return nil, err
	}
	call := &Call{Tenant: t.Tenant, APIKeyID: t.APIKeyID, Conn: t.Conn, Desk: t.Desk, DryRun: wo.DryRun}
	if wo.DryRun {
		at.dryRun = true
		return r.dryRun(ctx, a, call, v, at)
	}
	if a.info.Write && key != "" {
		return r.idempotent(ctx, t, a, call, v, key, at)
	}
	out, err := r.run(ctx, a, call, v, at)
	if err != nil {
		return nil, r.finalError(a, err)
	}
	return out, nil
}

// run calls the handler, turning a panic into an error.
func (r *Registry) run(ctx context.Context, a *Action, call *Call, v any, at *attempt) (out json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("action %s panicked: %v", a.name, p)
		}
		at.requestID, at.detail, at.writes = call.auditInfo()
	}()
	return a.run(ctx, call, v)
}

// finalError maps a handler error and, for a write whose outcome is
// unknown, says so and what to do.
func (r *Registry) finalError(a *Action, err error) *deskconn.Error {
	e := mapError(a, err)
	if !a.info.Write || a.info.Hints.Idempotent || classify(err) != maybeWritten {
		return e
	}
	c := *e
	c.Message += unknownAdvice
	return &c
}

const unknownAdvice = ". The request may have reached Zoho Desk: its outcome is unknown. " +
	"Check whether it took effect (for example with a list or search action) before sending it again"

func (r *Registry) dryRun(ctx context.Context, a *Action, call *Call, v any, at *attempt) (json.RawMessage, error) {
	_, err := r.run(ctx, a, call, v, at)
	var p *planned
	switch {
	case errors.As(err, &p):
		reqs := p.requests
		if reqs == nil {
			reqs = []PlannedRequest{}
		}
		b, merr := json.Marshal(DryRunResult{DryRun: true, Action: a.name, Requests: reqs})
		if merr != nil {
			return nil, &deskconn.Error{Code: deskconn.CodeInternal, Message: "internal error", Err: fmt.Errorf("marshal dry run of %s: %w", a.name, merr)}
		}
		return b, nil
	case err != nil:
		return nil, mapError(a, err)
	}
	return nil, &deskconn.Error{Code: deskconn.CodeInternal, Message: "internal error",
		Err: fmt.Errorf("action %s returned a result in dry-run mode instead of call.Plan", a.name)}
}

// policy returns the connection's policy for a.
func policyFor(c Conn, a *Action) Policy {
	if p, ok := c.Policies[a.name]; ok {
		return Policy(p)
	}
	return a.DefaultPolicy()
}

func (r *Registry) checkPolicy(c Conn, a *Action, v any, wo WriteOptions) error {
	p := policyFor(c, a)
	if _, set := c.Policies[a.name]; !set && a.info.Write {
		if vc, ok := v.(VisibleToCustomer); ok && vc.VisibleToCustomer() {
			p = PolicyConfirm // this input makes the write customer-visible
		}
	}
	switch p {
	case PolicyAllow:
		return nil
	case PolicyConfirm:
		// A read has nothing to confirm; a dry run changes nothing.
		if !a.info.Write || wo.Confirm || wo.DryRun {
			return nil
		}
		what := a.describe(v)
		if what == "" {
			what = "run " + a.name + " (" + a.info.Title + ")"
		}
		return &deskconn.Error{Code: deskconn.CodeForbidden, Err: &ConfirmationError{What: what, Action: a.name, Connection: c.Name},
			Message: fmt.Sprintf("confirmation required: this would %s. The connection %q requires confirmation for %s. "+
				"To proceed, send the same input again with \"confirm\": true; to preview the exact Zoho Desk requests, send \"dryRun\": true",
				what, c.Name, a.name),
			Fields: []deskconn.FieldError{{Pointer: "/confirm", Code: problemMissing, Message: "set to true to confirm this destructive action"}}}
	case PolicyDeny:
		return &deskconn.Error{Code: deskconn.CodeForbidden, Err: ErrDenied,
			Message: fmt.Sprintf("the connection %q does not allow %s (its policy is deny); an administrator can change the connection's policies", c.Name, a.name)}
	default:
		return &deskconn.Error{Code: deskconn.CodeForbidden, Err: ErrDenied,
			Message: fmt.Sprintf("the connection %q has an unrecognised policy %q for %s, so it is denied; an administrator must set allow, deny or confirm", c.Name, string(p), a.name)}
	}
}

// ConfirmationError is the cause of a call refused under the confirm
// policy: it says what the call would do, so that a door able to ask the
// person (MCP elicitation) can ask before sending the input again with
// "confirm": true. errors.Is(err, ErrConfirmationRequired) holds for it.
type ConfirmationError struct {
	// What the call would do, in words for a person ("move 2 tickets to
	// the trash: #101, #102").
	What string
	// Action and Connection name the action and the connection's name.
	Action, Connection string
}

func (e *ConfirmationError) Error() string {
	return "action: confirmation required to " + e.What
}

// Is makes errors.Is(err, ErrConfirmationRequired) true.
func (e *ConfirmationError) Is(target error) bool { return target == ErrConfirmationRequired }
