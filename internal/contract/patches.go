package contract

import (
	"regexp"
	"sort"
	"strings"
)

// nameMapKeys are the keys whose values map names to schemas, parameters,
// responses and so on, rather than being keyword objects themselves.
var nameMapKeys = map[string]bool{
	"properties": true, "patternProperties": true, "$defs": true, "definitions": true,
	"schemas": true, "responses": true, "parameters": true, "requestBodies": true,
	"paths": true, "content": true, "headers": true, "securitySchemes": true, "examples": true,
	"dependentSchemas": true,
}

// walkSchemas calls fn for every JSON object in v, parents before children.
// nameMap tells whether the object maps names to objects (the value of
// "properties", "paths", ...) so that a property called "pattern" is not
// mistaken for the keyword. fn may delete keys of m.
func walkSchemas(v any, fn func(m map[string]any, nameMap bool)) {
	walk(v, "", false, fn)
}

func walk(v any, key string, parentNameMap bool, fn func(m map[string]any, nameMap bool)) {
	switch n := v.(type) {
	case map[string]any:
		nameMap := nameMapKeys[key] && !parentNameMap
		fn(n, nameMap)
		for _, k := range sortedKeys(n) {
			walk(n[k], k, nameMap, fn)
		}
	case []any:
		for _, c := range n {
			walk(c, "", false, fn)
		}
	}
}

// patchOrgIDHeader turns Common.json's orgId parameter into the required
// header Zoho documents.
func patchOrgIDHeader(files map[string]map[string]any) int {
	c, _ := files["Common.json"]["components"].(map[string]any)
	params, _ := c["parameters"].(map[string]any)
	p, _ := params["orgId"].(map[string]any)
	if p == nil || p["in"] != "query" {
		return 0
	}
	p["in"] = "header"
	p["required"] = true
	delete(p, "style")
	delete(p, "explode")
	return 1
}

// patchMissingRecords supplies a permissive stand-in for the one schema of
// Records.json that Search.json references.
func patchMissingRecords(doc map[string]any) int {
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	const name = "Records_listRecordResponseWithAdditionalData"
	if _, ok := schemas[name]; ok {
		return 0
	}
	schemas[name] = map[string]any{}
	return 1
}

// patchDropExamples removes example values (not property names that happen
// to be "example").
func patchDropExamples(doc map[string]any) int {
	n := 0
	walkSchemas(doc, func(m map[string]any, nameMap bool) {
		if nameMap {
			return
		}
		for _, k := range []string{"example", "examples"} {
			if _, ok := m[k]; ok {
				delete(m, k)
				n++
			}
		}
	})
	return n
}

// rewritePatterns applies fn to every "pattern" keyword and patternProperties
// key; fn returns the new pattern, whether it changed, and whether to drop it.
func rewritePatterns(doc map[string]any, fn func(string) (string, bool, bool)) int {
	n := 0
	walkSchemas(doc, func(m map[string]any, nameMap bool) {
		if nameMap {
			return
		}
		if p, ok := m["pattern"].(string); ok {
			np, changed, drop := fn(p)
			switch {
			case drop:
				delete(m, "pattern")
				n++
			case changed:
				m["pattern"] = np
				n++
			}
		}
		if pp, ok := m["patternProperties"].(map[string]any); ok {
			for k, v := range pp {
				nk, changed, drop := fn(k)
				switch {
				case drop:
					delete(pp, k)
					n++
				case changed:
					delete(pp, k)
					pp[nk] = v
					n++
				}
			}
		}
	})
	return n
}

// patchInBasicLatin translates Java's \P{InBasicLatin} (any non-ASCII) into
// an RE2 range; it always sits inside a character class in Zoho's files.
func patchInBasicLatin(doc map[string]any) int {
	return rewritePatterns(doc, func(p string) (string, bool, bool) {
		np := strings.ReplaceAll(p, `\P{InBasicLatin}`, `\x{80}-\x{10FFFF}`)
		return np, np != p, false
	})
}

var javaUnicodeEscape = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

// patchUnicodeEscapes translates Java's \uXXXX into RE2's \x{XXXX}.
func patchUnicodeEscapes(doc map[string]any) int {
	return rewritePatterns(doc, func(p string) (string, bool, bool) {
		np := javaUnicodeEscape.ReplaceAllString(p, `\x{$1}`)
		return np, np != p, false
	})
}

// lookahead matches the (?=...) length checks in Zoho's e-mail patterns.
var lookahead = regexp.MustCompile(`\(\?=[^()]*\)`)

// patchLookaheads drops look-ahead groups, which RE2 cannot express; they
// only bound the length of e-mail domains.
func patchLookaheads(doc map[string]any) int {
	return rewritePatterns(doc, func(p string) (string, bool, bool) {
		np := lookahead.ReplaceAllString(p, "")
		return np, np != p, false
	})
}

// patchFlattenClosedAllOf replaces every allOf whose parts are plain object
// schemas, at least one of them closed (additionalProperties: false), by one
// object with the union of their properties and required lists, closed when
// any part was: what Zoho means, and what no real object can fail only for
// being described in two parts.
func patchFlattenClosedAllOf(doc map[string]any) int {
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	n := 0
	walkSchemas(doc, func(m map[string]any, nameMap bool) {
		if nameMap {
			return
		}
		if flattenAllOf(m, schemas, 0) || openAllOf(m, schemas) {
			n++
		}
	})
	return n
}

// flattenAllOf flattens m's allOf in place (see patchFlattenClosedAllOf) and
// reports whether it did.
func flattenAllOf(m map[string]any, schemas map[string]any, depth int) bool {
	parts, ok := m["allOf"].([]any)
	if !ok || depth > 10 {
		return false
	}
	closed := m["additionalProperties"] == false
	props := map[string]any{}
	if own, ok := m["properties"].(map[string]any); ok {
		for k, v := range own {
			props[k] = v
		}
	}
	required := map[string]bool{}
	for _, r := range asList(m["required"]) {
		required[r.(string)] = true
	}
	var typ any
	var items []any
	for _, p := range parts {
		part, ok := resolve(p, schemas)
		if !ok {
			return false
		}
		if _, nested := part["allOf"]; nested {
			part = copyMap(part)
			if !flattenAllOf(part, schemas, depth+1) {
				return false
			}
		}
		for k := range part {
			switch k {
			case "type", "properties", "required", "additionalProperties", "description", "title", "maxProperties", "minProperties", "items", "uniqueItems":
			default:
				return false // oneOf, patternProperties, ...: leave as is
			}
		}
		if part["additionalProperties"] == false {
			closed = true
		}
		if it, ok := part["items"]; ok {
			items = append(items, it)
		}
		if typ == nil {
			typ = part["type"]
		}
		if pp, ok := part["properties"].(map[string]any); ok {
			for k, v := range pp {
				if prev, dup := props[k]; dup {
					both := map[string]any{"allOf": []any{prev, v}}
					if !flattenAllOf(both, schemas, depth+1) {
						openAllOf(both, schemas)
					}
					props[k] = both
					continue
				}
				props[k] = v
			}
		}
		for _, r := range asList(part["required"]) {
			required[r.(string)] = true
		}
	}
	if len(items) > 0 {
		// arrays described in two parts: their items are one allOf
		both := map[string]any{"allOf": items}
		if flattenAllOf(both, schemas, depth+1) || openAllOf(both, schemas) {
			closed = true
		}
		m["items"] = both
	}
	if !closed {
		return false
	}
	delete(m, "allOf")
	if _, ok := m["type"]; !ok && typ != nil {
		m["type"] = typ
	}
	m["properties"] = props
	req := make([]any, 0, len(required))
	for _, r := range sortedKeys(required) {
		req = append(req, r)
	}
	if len(req) > 0 {
		m["required"] = req
	}
	m["additionalProperties"] = false
	return true
}

// resolve follows a local schema $ref (chains included).
func resolve(v any, schemas map[string]any) (map[string]any, bool) {
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		ref, isRef := m["$ref"].(string)
		if !isRef {
			return m, true
		}
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok || strings.Contains(name, "/") {
			return nil, false
		}
		v = schemas[name]
	}
	return nil, false
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// attachmentContentRoute is the download URL Zoho hands out as an
// attachment's href.
const attachmentContentRoute = "/api/v1/tickets/{ticketId}/attachments/{attachmentId}/content"

// patchAttachmentContent adds the attachment download operation, which the
// files omit although every attachment's href points at it.
func patchAttachmentContent(doc map[string]any) int {
	paths := doc["paths"].(map[string]any)
	if _, ok := paths[attachmentContentRoute]; ok {
		return 0
	}
	idParam := func(name string) map[string]any {
		return map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string", "pattern": "([0-9]+)"}}
	}
	paths[attachmentContentRoute] = map[string]any{
		"get": map[string]any{
			"operationId": "getTicketAttachmentContent",
			"parameters": []any{
				idParam("ticketId"), idParam("attachmentId"),
				map[string]any{"$ref": "#/components/parameters/Common_orgId"},
			},
			"responses": map[string]any{
				"200": map[string]any{"$ref": "#/components/responses/Common_fileResponse"},
			},
		},
	}
	return 1
}

// patchAccessibleOrgsOptionalOrgID keeps orgId optional on GET
// /accessibleOrganizations after patchOrgIDHeader made it required.
func patchAccessibleOrgsOptionalOrgID(files map[string]map[string]any) int {
	paths, _ := files["Organization.json"]["paths"].(map[string]any)
	item, _ := paths["/api/v1/accessibleOrganizations"].(map[string]any)
	op, _ := item["get"].(map[string]any)
	params := asList(op["parameters"])
	for i, p := range params {
		if m, _ := p.(map[string]any); m["$ref"] == "./Common.json#/components/parameters/orgId" {
			params[i] = map[string]any{"name": "orgId", "in": "header", "required": false, "schema": map[string]any{"type": "string", "pattern": "([0-9]+)"}}
			return 1
		}
	}
	return 0
}

// patchErrorMessageOptional drops errorMessage from the required keys of an
// errors[] entry.
func patchErrorMessageOptional(files map[string]map[string]any) int {
	c, _ := files["Common.json"]["components"].(map[string]any)
	schemas, _ := c["schemas"].(map[string]any)
	arr, _ := schemas["errorDetailArr"].(map[string]any)
	items, _ := arr["items"].(map[string]any)
	req := asList(items["required"])
	out := make([]any, 0, len(req))
	for _, r := range req {
		if r != "errorMessage" {
			out = append(out, r)
		}
	}
	if len(out) == len(req) {
		return 0
	}
	items["required"] = out
	return 1
}

// documentedErrors are the error statuses Desk answers on any operation
// (facts §2.4), with the Common.json response describing their body.
var documentedErrors = map[string]string{
	"401": "Common_invalidOauthErrorResponse",
	"403": "Common_forbiddenErrorResponse",
	"404": "Common_urlNotFoundErrorResponse",
	"413": "Common_unprocessableEntityErrorResponse", // errorJson body
	"422": "Common_unprocessableEntityErrorResponse",
	"429": "Common_unprocessableEntityErrorResponse", // errorJson body
	"500": "Common_internalErrorResponse",
}

// patchDocumentedErrors adds the generic error responses to every operation
// that does not declare them.
func patchDocumentedErrors(doc map[string]any) int {
	n := 0
	for _, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			switch method {
			case "get", "post", "patch", "put", "delete":
			default:
				continue
			}
			responses, _ := op.(map[string]any)["responses"].(map[string]any)
			if responses == nil {
				continue
			}
			for status, ref := range documentedErrors {
				if _, ok := responses[status]; !ok {
					responses[status] = map[string]any{"$ref": "#/components/responses/" + ref}
					n++
				}
			}
		}
	}
	return n
}

// openAllOf is the fallback when an allOf cannot be flattened (a part has
// oneOf, patternProperties, ...): the outer schema and every part lose
// additionalProperties: false; referenced parts are inlined as opened copies
// so other uses of the component stay closed. It reports whether anything
// was closed.
func openAllOf(m map[string]any, schemas map[string]any) bool {
	parts, ok := m["allOf"].([]any)
	if !ok {
		return false
	}
	opened := m["additionalProperties"] == false
	delete(m, "additionalProperties")
	for i, p := range parts {
		part, ok := resolve(p, schemas)
		if !ok || part["additionalProperties"] != false {
			continue
		}
		c := copyMap(part)
		delete(c, "additionalProperties")
		parts[i] = c
		opened = true
	}
	return opened
}
