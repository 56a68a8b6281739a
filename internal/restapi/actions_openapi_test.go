package restapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/internal/restapi"
)

var updateOpenAPI = flag.Bool("update", false, "rewrite the generated parts of docs/openapi.yaml from the action registry")

var openAPIPath = filepath.Join("..", "..", "docs", "openapi.yaml")

// webRoutes are served by this package but are the connect web page (HTML
// forms, the OAuth callback, assets), not the REST API, so the OpenAPI
// document leaves them out. A new route must be added to the document or
// here.
var webRoutes = []string{
	"GET /{$}", "GET /login", "POST /logout", "GET /oauth/callback", "POST /connections",
	"POST /connections/{connection}/connect", "POST /connections/{connection}/delete",
	"POST /connections/{connection}/org", "GET /static/",
	"/v1/", // the catch-all that answers unknown API paths with a 404 problem
}

// actionPathPrefix is the documented path of each action's own operation,
// served by restapi.RouteRunAction.
const actionPathPrefix = "/v1/connections/{connection}/actions/"

// problemStatuses are the error statuses every action operation documents.
var problemStatuses = []string{"400", "401", "403", "404", "408", "409", "413", "415", "422", "424", "429", "500", "503"}

func generatedOperations(acts []*action.Action) string {
	var b strings.Builder
	q := strconv.Quote
	for _, a := range acts {
		n := a.Name()
		fmt.Fprintf(&b, "  %s%s:\n    post:\n", actionPathPrefix, n)
		fmt.Fprintf(&b, "      operationId: %s\n      tags: [actions]\n", n)
		title, _ := json.Marshal(a.Title())
		desc, _ := json.Marshal(a.Description())
		fmt.Fprintf(&b, "      summary: %s\n      description: %s\n", title, desc)
		fmt.Fprintf(&b, "      x-deskconn-kind: %s\n", restapi.ActionKind(a))
		b.WriteString("      parameters:\n        - $ref: \"#/components/parameters/connection\"\n")
		out := fmt.Sprintf("{$ref: %s}", q("#/components/schemas/"+n+".output"))
		okDesc := "The action's output."
		if a.IsWrite() {
			b.WriteString("        - $ref: \"#/components/parameters/idempotencyKey\"\n")
			out = fmt.Sprintf("{anyOf: [%s, {$ref: \"#/components/schemas/DryRunResult\"}]}", out)
			okDesc = `The action's output; with "dryRun": true, the Zoho Desk requests it would send.`
		}
		fmt.Fprintf(&b, "      requestBody:\n        required: false\n        content:\n          application/json:\n            schema: {$ref: %s}\n", q("#/components/schemas/"+n+".input"))
		fmt.Fprintf(&b, "      responses:\n        \"200\":\n          description: %s\n          content:\n            application/json:\n              schema: %s\n", q(okDesc), out)
		for _, s := range problemStatuses {
			fmt.Fprintf(&b, "        %q: {$ref: \"#/components/responses/Problem\"}\n", s)
		}
	}
	return b.String()
}

func generatedSchemas(acts []*action.Action) string {
	var b strings.Builder
	for _, a := range acts {
		fmt.Fprintf(&b, "    %s.input: %s\n", a.Name(), a.InputSchemaJSON())
		fmt.Fprintf(&b, "    %s.output: %s\n", a.Name(), a.OutputSchemaJSON())
	}
	return b.String()
}

// replaceBlock returns doc with the lines between "# BEGIN GENERATED: name"
// and "# END GENERATED: name" replaced by body.
func replaceBlock(t *testing.T, doc, name, body string) string {
	t.Helper()
	begin, end := "# BEGIN GENERATED: "+name+"\n", "# END GENERATED: "+name
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("docs/openapi.yaml lacks the markers %q ... %q", begin, end)
	}
	i += len(begin)
	j = strings.LastIndex(doc[:j], "\n") + 1 // the end marker's line start
	return doc[:i] + body + doc[j:]
}

// servedRoutes returns the patterns this package registers, read from its
// source: every Mount/Handle/HandleFunc call whose pattern is a string
// literal or a package-level string constant.
func servedRoutes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, sp := range gd.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[n.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	var routes []string
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Mount" && sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			switch arg := call.Args[0].(type) {
			case *ast.BasicLit:
				if p, err := strconv.Unquote(arg.Value); err == nil {
					routes = append(routes, p)
				}
			case *ast.Ident:
				if p, ok := consts[arg.Name]; ok {
					routes = append(routes, p)
				}
			}
			return true
		})
	}
	slices.Sort(routes)
	return slices.Compact(routes)
}

// TestOpenAPIDocument checks docs/openapi.yaml: it is a valid OpenAPI 3.1
// document; its generated action operations and schemas are exactly what
// the registry gives (run with -update to rewrite them); every served API
// route is documented and every documented operation is served; and each
// action's input and output schemas in the document equal the registry's.
func TestOpenAPIDocument(t *testing.T) {
	acts := deskactions.All(deskactions.Deps{})
	raw, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	want := replaceBlock(t, doc, "action operations", generatedOperations(acts))
	want = replaceBlock(t, want, "action schemas", generatedSchemas(acts))
	if *updateOpenAPI && want != doc {
		if err := os.WriteFile(openAPIPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		doc = want
	}
	if want != doc {
		t.Errorf("docs/openapi.yaml's generated parts are out of date with the action registry: run go test ./internal/restapi -run TestOpenAPIDocument -update")
	}

	d, err := libopenapi.NewDocument([]byte(doc))
	if err != nil {
		t.Fatalf("parse docs/openapi.yaml: %v", err)
	}
	if v := d.GetVersion(); !strings.HasPrefix(v, "3.1") {
		t.Errorf("OpenAPI version %q, want 3.1.x", v)
	}
	m, err := d.BuildV3Model()
	if err != nil {
		t.Fatalf("build the OpenAPI model: %v", err)
	}

	// Documented routes, with each action's own path folded into the
	// served pattern.
	documented := map[string]bool{}
	var actionNames []string
	for path, item := range m.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().KeysFromOldest() {
			route := strings.ToUpper(method) + " " + path
			if name, ok := strings.CutPrefix(path, actionPathPrefix); ok && method == "post" {
				actionNames = append(actionNames, name)
				route = restapi.RouteRunAction
			}
			documented[route] = true
		}
	}
	var registry []string
	for _, a := range acts {
		registry = append(registry, a.Name())
	}
	if !cmp.Equal(actionNames, registry) {
		t.Errorf("documented action operations %v\nwant the registry's %v", actionNames, registry)
	}

	served := servedRoutes(t)
	if len(served) < 10 {
		t.Fatalf("found only %d routes in the source: %v", len(served), served)
	}
	for _, r := range served {
		if slices.Contains(webRoutes, r) {
			continue
		}
		if !documented[r] {
			t.Errorf("served route %q is not in docs/openapi.yaml", r)
		}
	}
	for r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("documented route %q is not served", r)
		}
	}

	// The schemas, compared as JSON values.
	var tree struct {
		Components struct {
			Schemas map[string]any `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal([]byte(doc), &tree); err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		for suffix, schema := range map[string]json.RawMessage{".input": a.InputSchemaJSON(), ".output": a.OutputSchemaJSON()} {
			got, ok := tree.Components.Schemas[a.Name()+suffix]
			if !ok {
				t.Errorf("components.schemas lacks %s%s", a.Name(), suffix)
				continue
			}
			gb, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("%s%s: %v", a.Name(), suffix, err)
			}
			if !jsonEqual(gb, schema) {
				t.Errorf("components.schemas.%s%s differs from the registry's schema", a.Name(), suffix)
			}
		}
	}
}

// TestOpenAPIDescribesResponses sends requests to a demo server and
// validates each request and response against docs/openapi.yaml, so the
// document describes what is really served, bodies included.
func TestOpenAPIDescribesResponses(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	demo := startSpecDemo(t)
	ticket := `{"orgId":"2389290","ticketId":"1892000000042032"}`
	cases := []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/healthz", "", 200},
		{"GET", "/readyz", "", 200},
		{"GET", "/v1/actions", "", 200},
		{"GET", "/v1/actions/get_ticket", "", 200},
		{"GET", "/v1/actions/nope", "", 404},
		{"GET", "/v1/connections", "", 200},
		{"GET", "/v1/connections/demo", "", 200},
		{"POST", "/v1/connections/demo/actions/get_ticket", ticket, 200},
		{"POST", "/v1/connections/demo/actions/list_agents", `{"orgId":"2389290"}`, 200},
		{"POST", "/v1/connections/demo/actions/update_ticket", `{"orgId":"2389290","ticketId":"1892000000042032","payload":{"priority":"Low"},"dryRun":true}`, 200},
		{"POST", "/v1/connections/demo/actions/get_ticket", `{"ticketId":"x","bogus":1}`, 422},
		{"POST", "/v1/connections/demo/actions/get_ticket", `{"ticketId":`, 400},
		{"POST", "/v1/connections/nope/actions/get_ticket", ticket, 404},
		{"GET", "/v1/connections/demo/policies", "", 200},
		{"PUT", "/v1/connections/demo/policies", `{"policies":{"nope":"allow"}}`, 400},
		{"PUT", "/v1/connections/demo/policies", `{"policies":{}}`, 200},
		{"GET", "/v1/connections/nope/policies", "", 404},
		{"GET", "/v1/audit?limit=5", "", 200},
		{"GET", "/v1/audit?limit=0", "", 400},
	}
	for _, c := range cases {
		req, err := http.NewRequestWithContext(t.Context(), c.method, demo.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+demo.APIKey.Reveal())
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, resp.StatusCode, c.status, body)
			continue
		}
		// The validator reads the bodies again.
		resp.Body = io.NopCloser(bytes.NewReader(body))
		req.Body = io.NopCloser(strings.NewReader(c.body))
		// A request the server refuses is refused by the document too:
		// only the problem it gets back is checked.
		check := v.ValidateHttpRequestResponse
		if c.status >= 400 {
			check = v.ValidateHttpResponse
		}
		if ok, verrs := check(req, resp); !ok {
			for _, e := range verrs {
				t.Errorf("%s %s (%d): %s: %s", c.method, c.path, c.status, e.Message, e.Reason)
				for _, se := range e.SchemaValidationErrors {
					t.Errorf("    %s at %s", se.Reason, se.FieldPath)
				}
			}
		}
	}
}
