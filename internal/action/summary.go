package action

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Limits of an audit input summary.
const (
	maxSummaryIDs = 10
	maxSummaryLen = 300
)

// idValue matches what an id looks like (Zoho ids are digits; deskconn's
// own are letters, digits and underscores): nothing free-form, so no text
// a person typed, no secret and no file content can match.
var idValue = regexp.MustCompile(`^[0-9A-Za-z_.-]{1,40}$`)

// summarizeIDs returns the input's ids for the audit log, as
// "ticketId=1, payload.ticketIds=2,3": the members whose name ends in "Id"
// or "Ids" (at the top level and one object deep) with id-shaped values.
// Everything else (subjects, contents, e-mail addresses, file data,
// idempotency keys) is left out.
func summarizeIDs(obj object) string {
	var parts []string
	add := func(prefix string, o object) {
		for _, m := range o {
			if len(parts) == maxSummaryIDs || !(strings.HasSuffix(m.key, "Id") || strings.HasSuffix(m.key, "Ids")) {
				continue
			}
			var vals []string
			switch v := m.val.(type) {
			case string, json.Number:
				vals = idStrings([]any{v})
			case []any:
				vals = idStrings(v)
			}
			if len(vals) > 0 {
				parts = append(parts, prefix+m.key+"="+strings.Join(vals, ","))
			}
		}
	}
	add("", obj)
	for _, m := range obj {
		if o, ok := m.val.(object); ok {
			add(m.key+".", o)
		}
	}
	s := strings.Join(parts, ", ")
	if len(s) > maxSummaryLen {
		s = s[:strings.LastIndex(s[:maxSummaryLen], ",")] + ", …"
	}
	return s
}

// idStrings returns the id-shaped scalars of vs (at most maxSummaryIDs).
func idStrings(vs []any) []string {
	var out []string
	for _, v := range vs {
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		default:
			continue
		}
		if idValue.MatchString(s) && len(out) < maxSummaryIDs {
			out = append(out, s)
		}
	}
	return out
}
