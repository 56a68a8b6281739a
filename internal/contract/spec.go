package contract

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// PathFiles are the spec files whose operations are loaded: the ones that
// describe the endpoints deskconn uses. Components of every file in the
// directory are loaded so that references between files resolve.
var PathFiles = []string{
	"Organization.json", "Department.json", "Team.json", "Product.json",
	"Contact.json", "Search.json", "Role.json", "Profile.json", "Agent.json",
	"Ticket.json", "TicketAttachment.json", "Upload.json",
	// Working a ticket (issue 11); Conversation.json has only components.
	"Thread.json", "TicketComment.json", "TicketTag.json", "TicketTimeEntry.json",
	"Account.json", "Article.json", "KBRootCategory.json",
	"Webhook.json",
}

// DefaultDir returns the directory holding Zoho's v1.0 OpenAPI files
// (testdata/zohodesk-oas/v1.0 beside this file), or the value of
// DESKCONN_ZOHO_OAS when set.
func DefaultDir() string {
	if d := os.Getenv("DESKCONN_ZOHO_OAS"); d != "" {
		return d
	}
	// A verbatim copy of github.com/zoho/zohodesk-oas v1.0 lives in
	// testdata so that the contract tests need nothing outside the
	// repository.
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "zohodesk-oas", "v1.0")
}

// Spec is Zoho's merged and patched OpenAPI document with a validator. It is
// safe for concurrent use.
type Spec struct {
	model      *v3.Document
	validator  validator.Validator
	exceptions []Exception

	mu   sync.Mutex
	hits map[int]int // exception index -> times applied or matched
}

// Load reads every *.json file in dir, merges them into one OpenAPI
// document, applies the spec patches of exceptions (Exceptions when nil) and
// builds a validator. It fails when the files cannot be read or parsed, or
// when libopenapi cannot build the model.
func Load(dir string, exceptions []Exception) (*Spec, error) {
	if exceptions == nil {
		exceptions = Exceptions
	}
	entries, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list spec files: %w", err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("load spec: no *.json files in %s", dir)
	}
	files := make(map[string]map[string]any, len(entries))
	for _, p := range entries {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read spec file: %w", err)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("parse spec file %s: %w", filepath.Base(p), err)
		}
		files[filepath.Base(p)] = doc
	}
	s := &Spec{exceptions: exceptions, hits: make(map[int]int)}

	// File-level patches run on the raw files, before merging.
	for i, e := range exceptions {
		if e.patchFiles != nil {
			s.hits[i] += e.patchFiles(files)
		}
	}
	merged, err := merge(files)
	if err != nil {
		return nil, err
	}
	for i, e := range exceptions {
		if e.patchMerged != nil {
			s.hits[i] += e.patchMerged(merged)
		}
	}
	prune(merged)
	raw, err := json.Marshal(merged)
	if err != nil {
		return nil, fmt.Errorf("encode merged spec: %w", err)
	}
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		return nil, fmt.Errorf("parse merged spec: %w", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("build merged spec model: %w", err)
	}
	s.model = &model.Model
	s.validator = validator.NewValidatorFromV3Model(s.model, config.WithoutSecurityValidation())
	return s, nil
}

// Unused returns the exceptions that were never applied (spec patches that
// changed nothing) or never matched a validation message. Call it after all
// traffic was validated; a non-empty result means the table has rotted.
func (s *Spec) Unused() []Exception {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Exception
	for i, e := range s.exceptions {
		if s.hits[i] == 0 {
			out = append(out, e)
		}
	}
	return out
}

// Hits reports how often the exception at index i of the table Load was given
// was applied or matched.
func (s *Spec) Hits(i int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[i]
}

// components kinds whose names are prefixed with the file name when merging.
// securitySchemes are referenced by name from security requirements, not by
// $ref, so they keep their names (the files agree on them).
var prefixedKinds = []string{"schemas", "responses", "parameters", "requestBodies", "headers", "examples", "links", "callbacks"}

// prefix returns the component-name prefix of a spec file.
func prefix(file string) string { return strings.TrimSuffix(file, ".json") + "_" }

// merge builds one document from files: all components (prefixed by file),
// the paths of PathFiles, $refs rewritten to the merged names.
func merge(files map[string]map[string]any) (map[string]any, error) {
	comps := map[string]any{}
	for _, kind := range prefixedKinds {
		comps[kind] = map[string]any{}
	}
	security := map[string]any{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		doc := files[name]
		c, _ := doc["components"].(map[string]any)
		for kind, v := range c {
			m, _ := v.(map[string]any)
			if kind == "securitySchemes" {
				for k, sv := range m {
					// Files point at Common.json's schemes with $refs; keep
					// the definitions.
					if sm, _ := sv.(map[string]any); sm["$ref"] == nil {
						security[k] = sv
					}
				}
				continue
			}
			dst, ok := comps[kind].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("merge spec: unknown components kind %q in %s", kind, name)
			}
			for k, cv := range m {
				dst[prefix(name)+k] = rewriteRefs(cv, name)
			}
		}
	}
	comps["securitySchemes"] = security
	paths := map[string]any{}
	for _, name := range PathFiles {
		doc, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("merge spec: %s missing", name)
		}
		p, _ := doc["paths"].(map[string]any)
		for route, item := range p {
			item := rewriteRefs(item, name).(map[string]any)
			existing, ok := paths[route].(map[string]any)
			if !ok {
				paths[route] = item
				continue
			}
			for method, op := range item {
				if _, dup := existing[method]; dup {
					return nil, fmt.Errorf("merge spec: %s %s defined twice", method, route)
				}
				existing[method] = op
			}
		}
	}
	return map[string]any{
		"openapi":    "3.1.0",
		"info":       map[string]any{"title": "Zoho Desk API v1 (merged from zoho/zohodesk-oas v1.0)", "version": "1.0"},
		"paths":      paths,
		"components": comps,
	}, nil
}

// rewriteRefs returns a deep copy of v with every "$ref" of file made
// absolute in the merged document: "./Common.json#/components/x/y" and, in
// file, "#/components/x/y" become "#/components/x/<File>_y".
func rewriteRefs(v any, file string) any {
	switch n := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(n))
		for k, c := range n {
			if k == "$ref" {
				if ref, ok := c.(string); ok {
					out[k] = mergedRef(ref, file)
					continue
				}
			}
			out[k] = rewriteRefs(c, file)
		}
		return out
	case []any:
		out := make([]any, len(n))
		for i, c := range n {
			out[i] = rewriteRefs(c, file)
		}
		return out
	default:
		return v
	}
}

// mergedRef rewrites one reference (see rewriteRefs). References it does not
// understand are returned unchanged, so libopenapi reports them.
func mergedRef(ref, file string) string {
	target, pointer, ok := strings.Cut(ref, "#")
	if !ok {
		return ref
	}
	if target != "" {
		file = strings.TrimPrefix(target, "./")
	}
	parts := strings.SplitN(strings.TrimPrefix(pointer, "/"), "/", 4)
	if len(parts) < 3 || parts[0] != "components" {
		return ref
	}
	if parts[1] == "securitySchemes" {
		return "#" + pointer // merged under their own names
	}
	parts[2] = prefix(file) + parts[2]
	return "#/" + strings.Join(parts, "/")
}

// prune drops the components no path reaches, so the validator compiles only
// what can be used.
func prune(doc map[string]any) {
	comps := doc["components"].(map[string]any)
	var queue []string
	seen := map[string]bool{} // refs queued
	used := map[string]bool{} // "#/components/<kind>/<name>" reached
	var collect func(v any)
	collect = func(v any) {
		switch n := v.(type) {
		case map[string]any:
			if ref, ok := n["$ref"].(string); ok && !seen[ref] {
				seen[ref] = true
				queue = append(queue, ref)
			}
			for _, c := range n {
				collect(c)
			}
		case []any:
			for _, c := range n {
				collect(c)
			}
		}
	}
	collect(doc["paths"])
	for len(queue) > 0 {
		ref := queue[0]
		queue = queue[1:]
		parts := strings.SplitN(strings.TrimPrefix(ref, "#/components/"), "/", 3)
		if len(parts) < 2 {
			continue
		}
		used["#/components/"+parts[0]+"/"+parts[1]] = true
		if kind, ok := comps[parts[0]].(map[string]any); ok {
			collect(kind[parts[1]])
		}
	}
	for kind, v := range comps {
		if kind == "securitySchemes" {
			continue
		}
		m := v.(map[string]any)
		for name := range m {
			if !used["#/components/"+kind+"/"+name] {
				delete(m, name)
			}
		}
	}
}
