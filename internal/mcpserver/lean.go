package mcpserver

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/deskconn/deskconn/internal/action"
)

// The tools/list answer is part of every conversation's context, so each
// tool carries a lean, model-facing view of its action's input schema (see
// leanInputSchema) and no output schema (optional in MCP; results still
// carry structured content). Nothing is lost for validation: every call is
// validated by the registry against the action's full schema, the one
// REST's /v1/actions serves, and a refused input gets an error naming each
// field and what to change. The tool's description says when to use it and
// which lookup gives each id.
//
// The fields every action (orgId) or every write (dryRun, idempotencyKey,
// confirm) has are explained once, in DefaultInstructions, and left out of
// the lean schemas (sharedFields), except confirm on destructive actions,
// whose default policy asks for it. The lean schemas do not forbid other
// properties, so clients pass these fields through; the server validates
// them.

// sharedFields are the top-level input fields the lean schemas leave out.
var sharedFields = []string{"orgId", "dryRun", "idempotencyKey", "confirm"}

// Paging (from and limit, at the top level or in params) is also left out:
// every page of a list says how to get the next one ("pass params.from=N"),
// and DefaultInstructions explains limit.
var pagingFields = []string{"from", "limit"}

// leanKeywords are the keywords the lean schema keeps: those that say what
// to send. Bounds, patterns, formats and additionalProperties: false are
// left to the server's validation.
var leanKeywords = map[string]bool{
	"type": true, "properties": true, "items": true, "required": true,
	"enum": true, "const": true, "description": true,
}

// leanInputSchema returns the model-facing view of a's input schema: only
// leanKeywords; no sharedFields or pagingFields; no type where an enum of strings says it; "null" dropped from type lists
// (the tool's description says where null clears a field); no descriptions
// (the tool's description names the fields that need a lookup). It panics
// on a schema that is not a JSON object, a programming error.
func leanInputSchema(a *action.Action) json.RawMessage {
	var s map[string]any
	if err := json.Unmarshal(a.InputSchemaJSON(), &s); err != nil {
		panic(fmt.Sprintf("mcpserver: input schema of %s is not a JSON object: %v", a.Name(), err))
	}
	s = leanSchema(s)
	if props, ok := s["properties"].(map[string]any); ok {
		for _, f := range sharedFields {
			if f != "confirm" || !a.IsDestructive() {
				delete(props, f)
			}
		}
		dropPaging(s)
		if params, ok := props["params"].(map[string]any); ok {
			dropPaging(params)
			req, _ := s["required"].([]any)
			if params["properties"] == nil && !slices.Contains(req, any("params")) {
				delete(props, "params")
			}
		}
		if len(props) == 0 {
			delete(s, "properties")
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("mcpserver: lean input schema: %v", err))
	}
	return b
}

// dropPaging removes from and limit from the properties of s when it has
// both, and its properties when none are left.
func dropPaging(s map[string]any) {
	props, _ := s["properties"].(map[string]any)
	if props == nil || props["from"] == nil || props["limit"] == nil {
		return
	}
	for _, f := range pagingFields {
		delete(props, f)
	}
	if len(props) == 0 {
		delete(s, "properties")
	}
}

// leanSchema returns a copy of s with only leanKeywords, no descriptions,
// no "null" type, and no "string" type next to an enum.
func leanSchema(s map[string]any) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		if !leanKeywords[k] || k == "description" {
			continue
		}
		switch k {
		case "type":
			v = leanType(v)
		case "enum":
			v = slices.DeleteFunc(slices.Clone(v.([]any)), func(e any) bool { return e == nil })
		case "properties":
			props := map[string]any{}
			for name, p := range v.(map[string]any) {
				if ps, ok := p.(map[string]any); ok {
					p = leanSchema(ps)
				}
				props[name] = p
			}
			v = props
		case "items":
			if is, ok := v.(map[string]any); ok {
				v = leanSchema(is)
			}
		}
		out[k] = v
	}
	if _, ok := out["enum"]; ok && out["type"] == "string" {
		// The values say it: each is a string.
		delete(out, "type")
	}
	return out
}

// leanType drops "null" from a list of types, and "string" from
// ["array", "string"] (a single value the server also accepts in place of a
// list of one); a list of one becomes that type.
func leanType(v any) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	drop := func(t any) bool { return t == "null" }
	if slices.Contains(list, "array") {
		drop = func(t any) bool { return t == "null" || t == "string" }
	}
	list = slices.DeleteFunc(slices.Clone(list), drop)
	if len(list) == 1 {
		return list[0]
	}
	return list
}
