package mcpserver

import (
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

// A credential's scope (an MCP sign-in grant) narrows the view the URL
// asks for: read-only stays read-only, toolsets are intersected.
func TestViewWithinScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		v     view
		scope action.KeyScope
		want  view
	}{
		{"unlimited", view{toolsets: "tickets"}, action.KeyScope{ListInScope: true}, view{toolsets: "tickets"}},
		{"read-only API key lists every tool", view{}, action.KeyScope{ReadOnly: true}, view{}},
		{"read-only grant", view{}, action.KeyScope{ReadOnly: true, ListInScope: true}, view{readOnly: true}},
		{"toolset grant, no query", view{}, action.KeyScope{Toolsets: []string{"tickets"}, ListInScope: true}, view{toolsets: "tickets"}},
		{"toolset grant, wider query", view{toolsets: "conversations,tickets"}, action.KeyScope{Toolsets: []string{"tickets"}, ListInScope: true}, view{toolsets: "tickets"}},
		{"both", view{readOnly: false}, action.KeyScope{ReadOnly: true, Toolsets: []string{"lookups"}, ListInScope: true}, view{toolsets: "lookups", readOnly: true}},
	} {
		got, err := tc.v.within(tc.scope)
		if err != nil || got != tc.want {
			t.Errorf("%s: within = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	_, err := view{toolsets: "conversations"}.within(action.KeyScope{Toolsets: []string{"tickets"}, ListInScope: true})
	if deskconn.ErrorCode(err) != deskconn.CodeForbidden {
		t.Errorf("disjoint toolsets: %v, want forbidden", err)
	}
}
