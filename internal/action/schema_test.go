package action

import (
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

// TestIsFalse: only {"not":{}}, the schema jsonschema-go writes for
// additionalProperties: false, matches nothing.
func TestIsFalse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		s    *jsonschema.Schema
		want bool
	}{
		{"nil", nil, false},
		{"empty", &jsonschema.Schema{}, false},
		{"not empty", &jsonschema.Schema{Not: &jsonschema.Schema{}}, true},
		{"not a type", &jsonschema.Schema{Not: &jsonschema.Schema{Type: "string"}}, false},
		{"not empty, described", &jsonschema.Schema{Not: &jsonschema.Schema{}, Description: "x"}, false},
		{"not empty, typed", &jsonschema.Schema{Not: &jsonschema.Schema{}, Type: "object"}, false},
		{"not empty, with properties", &jsonschema.Schema{Not: &jsonschema.Schema{}, Properties: map[string]*jsonschema.Schema{}}, false},
		{"a type", &jsonschema.Schema{Type: "object"}, false},
	} {
		if got := isFalse(tc.s); got != tc.want {
			t.Errorf("isFalse(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
