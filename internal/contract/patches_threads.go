package contract

import (
	"regexp"
	"strings"
)

// notNullLookahead is the (?!^null$) negative look-ahead of Zoho's tag-name
// patterns.
var notNullLookahead = regexp.MustCompile(`\(\?!\^null\$\)`)

// patchNotNullLookahead drops the negative look-ahead RE2 cannot express;
// it only refuses the tag name "null", which zohodesk.CheckTagNames and the
// emulator refuse themselves.
func patchNotNullLookahead(doc map[string]any) int {
	return rewritePatterns(doc, func(p string) (string, bool, bool) {
		np := notNullLookahead.ReplaceAllString(p, "")
		return np, np != p, false
	})
}

// patchNullableEnums adds null to the enum of every schema whose type allows
// null but whose enum lists only strings (Zoho's files print null values,
// e.g. a time entry's requestChargeType, that their own enums refuse).
func patchNullableEnums(doc map[string]any) int {
	n := 0
	walkSchemas(doc, func(m map[string]any, nameMap bool) {
		if nameMap {
			return
		}
		enum, ok := m["enum"].([]any)
		if !ok || !allowsNull(m["type"]) {
			return
		}
		for _, v := range enum {
			if v == nil {
				return
			}
		}
		m["enum"] = append(enum, nil)
		n++
	})
	return n
}

func allowsNull(t any) bool {
	switch v := t.(type) {
	case string:
		return v == "null"
	case []any:
		for _, x := range v {
			if x == "null" {
				return true
			}
		}
	}
	return false
}

// patchOpenThreadSchemas opens the thread and conversation response schemas
// of Thread.json and Conversation.json: their per-channel variants are
// closed objects under oneOf whose required lists name keys a recorded live
// list row does not carry (aspects, keyWords, lastRatingIconURL, content),
// while forbidding keys it does carry (to, cc, bcc, fromEmailAddress,
// isForward, responderId), and whose summary pattern refuses quotes and
// colons that real summaries hold (zoho-desk-api-2.md §2.2 [C NREC]). The
// variants become anyOf of open objects with their property types kept, so
// a wrong type is still caught.
func patchOpenThreadSchemas(doc map[string]any) int {
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	n := 0
	for name, s := range schemas {
		if !strings.HasPrefix(name, "Thread_") && !strings.HasPrefix(name, "Conversation_") {
			continue
		}
		walkSchemas(s, func(m map[string]any, nameMap bool) {
			if nameMap {
				if sum, ok := m["summary"].(map[string]any); ok {
					delete(sum, "pattern")
					delete(sum, "maxLength")
				}
				return
			}
			if m["additionalProperties"] == false {
				delete(m, "additionalProperties")
				n++
			}
			if _, ok := m["required"]; ok {
				delete(m, "required")
				n++
			}
			if one, ok := m["oneOf"]; ok {
				m["anyOf"] = one
				delete(m, "oneOf")
				n++
			}
		})
	}
	return n
}

// patchCommentListKeys adds the keys comment list rows carry (plainText and,
// with include=mentions, mention) to the closed comment schema the list
// response uses (zoho-desk-api-2.md §3 [C OAS examples]).
func patchCommentListKeys(doc map[string]any) int {
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	s, _ := schemas["TicketComment_commentResponse"].(map[string]any)
	props, _ := s["properties"].(map[string]any)
	if props == nil {
		return 0
	}
	props["plainText"] = map[string]any{"type": []any{"string", "null"}}
	props["mention"] = map[string]any{"type": []any{"array", "null"}}
	return 1
}

// patchThreadAnyOf turns the oneOf unions of Thread.json's request bodies
// and responses (one branch per channel, overlapping: an EMAIL body also
// satisfies the common branch) into anyOf, as patchOpenThreadSchemas does
// for the schemas.
func patchThreadAnyOf(doc map[string]any) int {
	comps := doc["components"].(map[string]any)
	n := 0
	for route, item := range doc["paths"].(map[string]any) {
		if !strings.Contains(route, "/threads") && !strings.Contains(route, "Reply") && !strings.Contains(route, "/conversations") {
			continue
		}
		walkSchemas(item, func(m map[string]any, nameMap bool) {
			if one, ok := m["oneOf"]; ok && !nameMap {
				m["anyOf"] = one
				delete(m, "oneOf")
				n++
			}
		})
	}
	for _, kind := range []string{"requestBodies", "responses"} {
		m, _ := comps[kind].(map[string]any)
		for name, v := range m {
			if !strings.HasPrefix(name, "Thread_") && !strings.HasPrefix(name, "Conversation_") {
				continue
			}
			walkSchemas(v, func(m map[string]any, nameMap bool) {
				if one, ok := m["oneOf"]; ok && !nameMap {
					m["anyOf"] = one
					delete(m, "oneOf")
					n++
				}
			})
		}
	}
	return n
}

// patchDescendingSorts adds the "-" (descending) form to the one-value
// sortBy enums of the thread and comment lists.
func patchDescendingSorts(doc map[string]any) int {
	n := 0
	for _, route := range []string{"/api/v1/tickets/{ticketId}/threads", "/api/v1/tickets/{ticketId}/comments"} {
		item, _ := doc["paths"].(map[string]any)[route].(map[string]any)
		get, _ := item["get"].(map[string]any)
		params, _ := get["parameters"].([]any)
		for _, p := range params {
			pm, _ := p.(map[string]any)
			if pm["name"] != "sortBy" {
				continue
			}
			schema, _ := pm["schema"].(map[string]any)
			enum, _ := schema["enum"].([]any)
			for _, e := range enum {
				if v, ok := e.(string); ok && !strings.HasPrefix(v, "-") {
					schema["enum"] = append(schema["enum"].([]any), "-"+v)
					n++
				}
			}
		}
	}
	return n
}

// patchTimeEntryPath merges GET /tickets/{caseId}/timeEntry into the
// /tickets/{ticketId}/timeEntry path item: the two templates name the same
// route, and a validator matching one template cannot find the other's
// method.
func patchTimeEntryPath(doc map[string]any) int {
	paths := doc["paths"].(map[string]any)
	from, _ := paths["/api/v1/tickets/{caseId}/timeEntry"].(map[string]any)
	to, _ := paths["/api/v1/tickets/{ticketId}/timeEntry"].(map[string]any)
	if from == nil || to == nil {
		return 0
	}
	for method, op := range from {
		if params, ok := op.(map[string]any)["parameters"].([]any); ok {
			for _, p := range params {
				if pm, ok := p.(map[string]any); ok && pm["name"] == "caseId" {
					pm["name"] = "ticketId"
				}
			}
		}
		to[method] = op
	}
	delete(paths, "/api/v1/tickets/{caseId}/timeEntry")
	return 1
}

// patchCommentModifiedTime lets a comment's modifiedTime be null: it is
// null until the comment is edited (zoho-desk-api-2.md §3 [C OAS]). It
// covers the comment schemas and the comment branch of conversations.
func patchCommentModifiedTime(doc map[string]any) int {
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	n := 0
	for name, s := range schemas {
		if !strings.HasPrefix(name, "TicketComment_") && !strings.HasPrefix(name, "Conversation_") {
			continue
		}
		walkSchemas(s, func(m map[string]any, nameMap bool) {
			if !nameMap {
				return
			}
			mt, _ := m["modifiedTime"].(map[string]any)
			if mt == nil || allowsNull(mt["type"]) {
				return
			}
			switch t := mt["type"].(type) {
			case string:
				mt["type"] = []any{t, "null"}
			case []any:
				mt["type"] = append(t, "null")
			}
			n++
		})
	}
	return n
}
