// Package action is deskconn's action registry: the one catalogue of
// actions that every way in (REST, MCP, CLI) calls through
// (*Registry).Invoke.
//
// An action is defined once with Define, from a typed handler:
//
//	var CreateTicket = action.Define("create_ticket", action.Info{
//		Title: "Create ticket", Description: "...", Write: true,
//		ZohoFieldPrefix: "/payload",
//	}, func(ctx context.Context, call *action.Call, in CreateTicketIn) (CreateTicketOut, error) {...})
//
// Define derives the input and output JSON Schemas from the Go types (with
// github.com/google/jsonschema-go; enums, bounds and formats come from the
// SchemaTag struct tag or Info.TypeSchemas). Invoke then, in order:
//
//  1. finds the action (not_found);
//  2. parses the raw JSON and validates it against the input schema,
//     reporting every problem at once with a JSON Pointer into the input
//     and what to change (invalid); unknown fields are refused;
//  3. decodes it into In;
//  4. applies the connection's policy: allow, deny or confirm per action;
//     destructive actions (move_tickets_to_trash, deactivate_agent) default
//     to confirm, so their input must carry "confirm": true (a dry run needs
//     no confirmation);
//  5. for a write with an idempotency key, sends it to Zoho at most once
//     per (tenant, connection, action, key) for 24 hours and replays the
//     result. The record is held by a lease and marked dispatched (through
//     zohodesk.WithDispatchHook) only when a write may leave the process;
//     a request that died before that is run again, and an outcome that
//     may have reached Zoho without an answer is settled on retry by the
//     action's Settler (WithSettler) or answered outcome_unknown, never
//     re-sent blindly;
//  6. runs the handler (in dry-run mode it returns call.Plan(requests...));
//  7. maps any error exactly once into a *deskconn.Error;
//  8. appends an audit record for every write attempt;
//  9. reports an Observation for metrics.
//
// # Testing actions
//
// Build a Registry with a fake IdempotencyStore/AuditLog (or a real
// store.Store), Add the actions, and call Invoke with a Target whose Desk is
// a zohodesk.Client pointed at the emulator. Check outputs against the
// schema with (*Action).ValidateOutput.
package action
