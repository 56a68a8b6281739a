package deskactions

import (
	"strings"

	"github.com/deskconn/deskconn"
)

// This file holds the input pieces every area shares: the organization, a
// page of a Zoho list, and the "exactly one selector" check. New areas embed
// them instead of repeating their fields and schema tags.

// OrgRef is the orgId every action takes. Embed it first in an action's
// input so the schema lists orgId first and handlers read in.OrgID.
type OrgRef struct {
	OrgID string `json:"orgId,omitempty" jsonschema:"Zoho Desk organization id (digits, e.g. \"2389290\"). Optional when the connection has a default organization; list them with list_organizations." schema:"pattern=^[0-9]+$,maxLength=32"`
}

// Page is the from/limit pair of the Zoho list endpoints whose limit is
// 1-100 (most of them). Lists with another range declare their own fields,
// so the schema states the range Zoho really accepts. Use it with pageLimit
// and pageOf.
type Page struct {
	From  int `json:"from,omitempty" jsonschema:"Index of the first item to return, from 0; pass nextFrom of the previous page." schema:"minimum=0,maximum=100000"`
	Limit int `json:"limit,omitempty" jsonschema:"Maximum number of items to return, 1-100 (default 50)." schema:"minimum=1,maximum=100"`
}

// selectorField is one way of naming an object: its JSON name and value.
type selectorField struct{ name, value string }

// checkOneOf reports a selector that names what ("the ticket") in no way,
// or in more than one: exactly one of fields must be non-blank. The
// problem points at the first field; hint tells where ids come from.
func checkOneOf(what, hint string, fields ...selectorField) []deskconn.FieldError {
	n := 0
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
		if strings.TrimSpace(f.value) != "" {
			n++
		}
	}
	switch n {
	case 1:
		return nil
	case 0:
		return []deskconn.FieldError{{Pointer: "/" + fields[0].name, Code: "missing",
			Message: "give " + what + ": " + joinWords(names, "or") + " (" + hint + ")"}}
	default:
		return []deskconn.FieldError{{Pointer: "/" + fields[0].name, Code: "invalid",
			Message: "give only one of " + joinWords(names, "and")}}
	}
}

// joinWords joins ["a","b","c"] as "a, b <conj> c".
func joinWords(words []string, conj string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}
