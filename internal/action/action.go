package action

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
)

// Hints describe an action to clients; they map one to one onto MCP tool
// annotations (readOnlyHint, destructiveHint, idempotentHint, openWorldHint).
type Hints struct {
	// ReadOnly: the action changes nothing. Excludes Info.Write.
	ReadOnly bool
	// Destructive: the action may remove or disable something (moving
	// tickets to the trash, deactivating an agent). Requires Info.Write.
	// Destructive actions default to the "confirm" policy.
	Destructive bool
	// Idempotent: repeating the same call has no further effect (an update
	// that sets fields). The registry uses it to let a caller retry after an
	// unknown outcome, since resending is then safe.
	Idempotent bool
	// OpenWorld: the action reaches an external system (Zoho Desk).
	OpenWorld bool
}

// Toolsets are the names of the groups of actions an MCP endpoint can be
// limited to (as GitHub's MCP server does): tickets, conversations (messages,
// replies, drafts and comments), customers (contacts and accounts),
// knowledge (the knowledge base), agents, events and lookups (organizations,
// departments, teams and other settings that give ids).
var Toolsets = []string{"tickets", "conversations", "customers", "knowledge", "agents", "events", "lookups"}

// Info describes an action. Title and Description are required.
type Info struct {
	// Title is a short human-readable name ("Create ticket").
	Title string
	// Description is written for a language model: what the action does,
	// when to use it, and where each ID in its input comes from (which
	// lookup action returns it).
	Description string
	// Toolset is the group the action belongs to, one of [Toolsets]; MCP
	// endpoints can serve only some toolsets. Empty means none: the action
	// is served only when every toolset is.
	Toolset string
	Hints   Hints
	// Write marks an action that changes data at Zoho. Its input type must
	// embed WriteOptions; it is audited, may be dry-run and is idempotent
	// per key.
	Write bool
	// CustomerVisible marks a write that a customer sees (a reply sent by
	// e-mail). Requires Write. Customer-visible actions default to the
	// "confirm" policy, and the "no-customer-visible-writes" preset denies
	// them.
	CustomerVisible bool
	// ZohoFieldPrefix translates Zoho's field pointers (the JSON body of the
	// Zoho request, e.g. "/subject") into pointers into the action input by
	// prefixing them (e.g. "/payload" gives "/payload/subject"). Empty means
	// the shapes match.
	ZohoFieldPrefix string
	// Examples are sample inputs, shown to clients. Each must be valid for
	// the input schema: Define panics otherwise.
	Examples []json.RawMessage
	// Scopes are the Zoho OAuth scopes the action needs (any one of the
	// alternatives Zoho accepts is not expressed: list the ones deskconn's
	// default scopes grant). When Zoho answers SCOPE_MISMATCH the error
	// names them and says to reconnect with them.
	Scopes []string
	// TypeSchemas overrides the inferred schema of named Go types (enums
	// shared by several fields, ID formats); they take precedence over the
	// package defaults (json.RawMessage is any value, time.Time a
	// date-time string).
	TypeSchemas map[reflect.Type]*jsonschema.Schema
}

// WriteOptions are the options every write action takes. Embed it (not a
// pointer to it) in the input type of every write action:
//
//	type CreateTicketIn struct {
//		action.WriteOptions
//		OrgID string `json:"orgId,omitempty"`
//		...
//	}
//
// The registry reads and enforces these options; handlers see the dry-run
// flag as Call.DryRun and need not read them.
type WriteOptions struct {
	IdempotencyKey string `json:"idempotencyKey,omitempty" jsonschema:"Optional key (1 to 255 characters, for example a UUID) that makes retrying safe: the first result for this key is stored for 24 hours and returned again instead of acting twice. Reusing a key with a different input is an error." schema:"minLength=1,maxLength=255"`
	DryRun         bool   `json:"dryRun,omitempty" jsonschema:"If true, check and resolve the input and return the exact Zoho Desk request(s) that would be sent, without sending anything or changing any data."`
	Confirm        bool   `json:"confirm,omitempty" jsonschema:"Set to true to confirm a destructive action when the connection's policy requires confirmation."`
}

func (o *WriteOptions) writeOptions() *WriteOptions { return o }

// writeOptioner is implemented by pointers to types that embed WriteOptions.
type writeOptioner interface{ writeOptions() *WriteOptions }

// Describer may be implemented by an input type to say, in one sentence
// fragment, what a call would do ("move 3 tickets (#101, #102, #103) to the
// Recycle Bin"). The registry puts it in the confirmation-required error.
type Describer interface {
	Describe() string
}

// VisibleToCustomer may be implemented by the input of a write that a
// customer sees only with some inputs (add_ticket_comment with isPublic):
// when it reports true and the connection sets no policy for the action,
// the call runs under the confirm default of customer-visible writes.
type VisibleToCustomer interface {
	VisibleToCustomer() bool
}

// Action is one defined action. It is immutable and safe for concurrent use.
// Create it with Define.
type Action struct {
	name    string
	info    Info
	in, out *jsonschema.Schema
	inJSON  json.RawMessage
	// outJSON is the output schema as JSON, made on first use: of the
	// doors only REST's catalogue serves it, and marshalling every
	// output schema would cost each process start (deskconn mcp) more
	// than a third of building the catalogue.
	outJSON    func() json.RawMessage
	decode     func(raw []byte) (any, error)
	options    func(v any) WriteOptions
	describe   func(v any) string
	run        func(ctx context.Context, call *Call, v any) (json.RawMessage, error)
	outputType reflect.Type
	inputType  reflect.Type
	// settle, if set, looks for the effect of an unknown outcome.
	settle func(ctx context.Context, call *Call, v any, since time.Time) (json.RawMessage, bool, error)
	// check names what to check in Zoho Desk when an outcome stays unknown.
	check string
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Define creates an action named name (snake_case, at most 64 characters,
// stable forever) whose handler takes In and returns Out. It derives the JSON
// Schemas of In and Out from the Go types (see SchemaTag for enums, bounds
// and formats; the "jsonschema" tag is the description), and panics on any
// definition error: a bad name, a missing title or description, a schema
// the validator cannot check, a write action whose In does not embed
// WriteOptions (or a read action whose In does), inconsistent hints, or an
// example that does not validate.
//
// The handler receives input that has passed schema validation. It returns
// Out, or an error: a *deskconn.Error for problems it detects itself
// (ambiguous selector, refused empty update...), or the zohodesk error as
// is — the registry maps errors exactly once. In dry-run (call.DryRun) a
// write handler must not send writes; it returns call.Plan(requests...).
func Define[In, Out any](name string, info Info, handler func(ctx context.Context, call *Call, in In) (Out, error)) *Action {
	a, err := define(name, info, handler)
	if err != nil {
		panic(fmt.Sprintf("action.Define(%q): %v", name, err))
	}
	return a
}

func define[In, Out any](name string, info Info, handler func(ctx context.Context, call *Call, in In) (Out, error)) (*Action, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("name must be snake_case matching %s", nameRE)
	}
	if info.Title == "" || info.Description == "" {
		return nil, fmt.Errorf("title and description are required")
	}
	if handler == nil {
		return nil, fmt.Errorf("nil handler")
	}
	if info.Toolset != "" && !slices.Contains(Toolsets, info.Toolset) {
		return nil, fmt.Errorf("unknown toolset %q (known: %s)", info.Toolset, strings.Join(Toolsets, ", "))
	}
	inType := reflect.TypeFor[In]()
	hasOpts := reflect.PointerTo(inType).Implements(reflect.TypeFor[writeOptioner]())
	switch {
	case info.Write && !hasOpts:
		return nil, fmt.Errorf("write action: input %s must embed action.WriteOptions", inType)
	case !info.Write && hasOpts:
		return nil, fmt.Errorf("read action: input %s must not embed action.WriteOptions", inType)
	case info.Hints.ReadOnly && info.Write:
		return nil, fmt.Errorf("a write action cannot be ReadOnly")
	case info.CustomerVisible && !info.Write:
		return nil, fmt.Errorf("a customer-visible action must be a write")
	case info.Hints.Destructive && !info.Write:
		return nil, fmt.Errorf("a destructive action must be a write")
	}
	in, err := buildSchema(inType, info.TypeSchemas)
	if err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	if in.Type != "object" {
		return nil, fmt.Errorf("input %s must be a struct (a JSON object)", inType)
	}
	out, err := buildSchema(reflect.TypeFor[Out](), info.TypeSchemas)
	if err != nil {
		return nil, fmt.Errorf("output schema: %w", err)
	}
	inJSON, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("marshal input schema: %w", err)
	}
	outJSON := sync.OnceValue(func() json.RawMessage {
		b, err := json.Marshal(out)
		if err != nil {
			// A *jsonschema.Schema built by ForType always marshals.
			panic(fmt.Sprintf("action %s: marshal output schema: %v", name, err))
		}
		return b
	})
	appends := appendsItself(reflect.TypeFor[Out]())
	a := &Action{
		name: name, info: info, in: in, out: out, inJSON: inJSON, outJSON: outJSON,
		outputType: reflect.TypeFor[Out](),
		inputType:  inType,
		decode: func(raw []byte) (any, error) {
			// json.Unmarshal reads raw in place (a json.Decoder would copy
			// it whole into its buffer first). Unknown fields need no
			// check here: the schema of every struct forbids them
			// (additionalProperties: false) and validation runs first.
			var v In
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, fmt.Errorf("decode %s input: %w", name, err)
			}
			return &v, nil
		},
		options: func(v any) WriteOptions {
			if o, ok := v.(writeOptioner); ok {
				return *o.writeOptions()
			}
			return WriteOptions{}
		},
		describe: func(v any) string {
			if d, ok := v.(Describer); ok {
				return d.Describe()
			}
			return ""
		},
		run: func(ctx context.Context, call *Call, v any) (json.RawMessage, error) {
			out, err := handler(ctx, call, *v.(*In))
			if err != nil {
				return nil, err
			}
			var b []byte
			if appends {
				b, err = any(out).(JSONAppender).AppendJSON(nil)
			} else {
				b, err = json.Marshal(out)
			}
			if err != nil {
				return nil, fmt.Errorf("marshal %s output: %w", name, err)
			}
			return b, nil
		},
	}
	for i, ex := range info.Examples {
		obj, perr := parseInput(ex)
		if perr != nil {
			return nil, fmt.Errorf("example %d: %v", i, perr)
		}
		if verr := validateInput(in, obj); verr != nil {
			return nil, fmt.Errorf("example %d: %v", i, verr)
		}
		if _, err := a.decode(ex); err != nil {
			return nil, fmt.Errorf("example %d: %w", i, err)
		}
	}
	return a, nil
}

// Name returns the action's stable snake_case name.
func (a *Action) Name() string { return a.name }

// Title returns the short human-readable title.
func (a *Action) Title() string { return a.info.Title }

// Description returns the model-facing description.
func (a *Action) Description() string { return a.info.Description }

// Toolset returns the action's toolset (one of [Toolsets]), or "".
func (a *Action) Toolset() string { return a.info.Toolset }

// Hints returns the action's hints.
func (a *Action) Hints() Hints { return a.info.Hints }

// IsWrite reports whether the action changes data (audited, dry-runnable,
// idempotent per key).
func (a *Action) IsWrite() bool { return a.info.Write }

// IsDestructive reports whether the action is destructive.
func (a *Action) IsDestructive() bool { return a.info.Hints.Destructive }

// IsCustomerVisible reports whether the action's effect is seen by a
// customer (Info.CustomerVisible).
func (a *Action) IsCustomerVisible() bool { return a.info.CustomerVisible }

// DefaultPolicy returns the policy applied when the connection sets none for
// this action: PolicyConfirm for destructive and customer-visible actions,
// PolicyAllow otherwise.
func (a *Action) DefaultPolicy() Policy {
	if a.info.Hints.Destructive || a.info.CustomerVisible {
		return PolicyConfirm
	}
	return PolicyAllow
}

// Examples returns the sample inputs (valid for the input schema).
func (a *Action) Examples() []json.RawMessage { return a.info.Examples }

// InputSchema returns a copy of the input's JSON Schema.
func (a *Action) InputSchema() *jsonschema.Schema { return a.in.CloneSchemas() }

// OutputSchema returns a copy of the output's JSON Schema. A dry-run returns
// a DryRunResult instead (see DryRunSchema).
func (a *Action) OutputSchema() *jsonschema.Schema { return a.out.CloneSchemas() }

// OutputIsObject reports whether the output is a JSON object (its schema's
// type is "object"), without copying the schema.
func (a *Action) OutputIsObject() bool { return a.out.Type == "object" }

// InputSchemaJSON returns the input's JSON Schema as JSON (a fresh copy).
func (a *Action) InputSchemaJSON() json.RawMessage { return bytes.Clone(a.inJSON) }

// OutputSchemaJSON returns the output's JSON Schema as JSON (a fresh copy).
func (a *Action) OutputSchemaJSON() json.RawMessage { return bytes.Clone(a.outJSON()) }

// ValidateOutput checks an output document (as Invoke returns it) against
// the output schema and reports every problem. Use it in tests.
func (a *Action) ValidateOutput(out json.RawMessage) error {
	obj, perr := parseOutput(out)
	if perr != nil {
		return perr
	}
	if err := validateAny(a.out, obj); err != nil {
		return err
	}
	return nil
}

// Settler looks in Zoho Desk for the effect of a write whose outcome is
// unknown: the request may have reached Zoho (it was dispatched at or after
// since, by the caller's clock) but its answer was lost. It returns the
// output the write would have returned and true when it finds the object
// the write made; false when it is certain the write did not take effect
// (the key may then run the write again); an error when it cannot tell
// (the outcome stays unknown). It must only read: a dispatch hook refuses
// any write it tries. Compare Zoho's times with since allowing for clock
// skew between the caller and Zoho.
type Settler[In, Out any] func(ctx context.Context, call *Call, in In, since time.Time) (out Out, found bool, err error)

// WithSettler registers s as a's settler and returns a. check says, for a
// person, what to look for in Zoho Desk when the outcome cannot be settled
// ("a ticket with this subject and contact"). It panics when a is not a
// write or its input and output types are not In and Out (a programming
// error), like Define.
func WithSettler[In, Out any](a *Action, check string, s Settler[In, Out]) *Action {
	switch {
	case !a.info.Write:
		panic(fmt.Sprintf("action.WithSettler(%q): only a write has outcomes to settle", a.name))
	case a.inputType != reflect.TypeFor[In]() || a.outputType != reflect.TypeFor[Out]():
		panic(fmt.Sprintf("action.WithSettler(%q): settler takes %s and returns %s, want %s and %s",
			a.name, reflect.TypeFor[In](), reflect.TypeFor[Out](), a.inputType, a.outputType))
	case s == nil || check == "":
		panic(fmt.Sprintf("action.WithSettler(%q): nil settler or empty check", a.name))
	}
	a.check = check
	a.settle = func(ctx context.Context, call *Call, v any, since time.Time) (json.RawMessage, bool, error) {
		out, found, err := s(ctx, call, *v.(*In), since)
		if err != nil || !found {
			return nil, false, err
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, false, fmt.Errorf("marshal %s settled output: %w", a.name, err)
		}
		return b, true, nil
	}
	return a
}

// Settles reports whether a has a settler (see WithSettler).
func (a *Action) Settles() bool { return a.settle != nil }

// JSONAppender is implemented by an action output that encodes itself
// faster than encoding/json would (an output made mostly of JSON it
// already holds, such as a page of rows): AppendJSON appends the output's
// encoding to b. It must be valid JSON meaning what json.Marshal's would
// (the same members and values; spacing and the escaping of characters in
// strings may differ); the output's tests check it.
type JSONAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

var appenderType = reflect.TypeFor[JSONAppender]()

// appendsItself reports whether values of t encode themselves with
// AppendJSON declared for t, not promoted from an embedded field (which
// would encode that field alone and drop t's other members). A type that
// embeds an appender and declares its own AppendJSON too is encoded by
// encoding/json: the safe side.
func appendsItself(t reflect.Type) bool {
	if !t.Implements(appenderType) {
		return false
	}
	if t.Kind() == reflect.Struct {
		for i := range t.NumField() {
			if f := t.Field(i); f.Anonymous && (f.Type.Implements(appenderType) || reflect.PointerTo(f.Type).Implements(appenderType)) {
				return false
			}
		}
	}
	return true
}
