package action_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/google/go-cmp/cmp"
)

func fe(ptr, code, msg string) deskconn.FieldError {
	return deskconn.FieldError{Pointer: ptr, Code: code, Message: msg}
}

func TestInvokeValidationReportsEveryProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   string
		message string
		fields  []deskconn.FieldError
	}{
		{
			name:    "everything wrong at once",
			input:   `{"payload":{"priority":"Urgent","dueDate":"tomorrow","email":"x"},"limit":500,"tags":["a","b","toolong"],"extra":1,"orgID":"1"}`,
			message: "the input has 9 problems; fix all of them and send again",
			fields: []deskconn.FieldError{
				fe("/payload/subject", "missing", `is required: add "subject" (a string)`),
				fe("/payload/priority", "invalid", `must be one of "Low", "Medium", "High"; got a string "Urgent"`),
				fe("/payload/dueDate", "invalid", `must be a date-time in RFC 3339 form, e.g. 2024-05-01T09:30:00Z or 2024-05-01T09:30:00.000+02:00; got "tomorrow"`),
				fe("/payload/email", "invalid", `must be a plain email address, e.g. jane@example.com; got "x"`),
				fe("/limit", "invalid", "must be at most 100; got 500"),
				fe("/tags", "invalid", "must have at most 2 items; got 3: split the request or remove some"),
				fe("/tags/2", "invalid", "must be at most 5 characters long; got 7"),
				fe("/extra", "unknown", `unknown field "extra"; remove it (allowed fields: idempotencyKey, dryRun, confirm, orgId, payload, limit, tags)`),
				fe("/orgID", "unknown", `unknown field "orgID"; did you mean "orgId"?`),
			},
		},
		{
			name:    "wrong types",
			input:   `{"dryRun":"yes","payload":{"subject":5},"limit":1.5}`,
			message: "the input has 3 problems; fix all of them and send again",
			fields: []deskconn.FieldError{
				fe("/dryRun", "invalid", `must be a boolean (true or false, without quotes), not a string "yes"`),
				fe("/payload/subject", "invalid", "must be a string, not an integer 5"),
				fe("/limit", "invalid", "must be an integer (a whole number without quotes), not a number 1.5"),
			},
		},
		{
			name:    "missing object",
			input:   `{}`,
			message: "the input has 1 problem; fix it and send again",
			fields:  []deskconn.FieldError{fe("/payload", "missing", `is required: add "payload" (an object)`)},
		},
		{
			name:    "null object and string limits",
			input:   `{"payload":null,"idempotencyKey":"","limit":0}`,
			message: "the input has 3 problems; fix all of them and send again",
			fields: []deskconn.FieldError{
				fe("/idempotencyKey", "invalid", "must not be empty"),
				fe("/payload", "invalid", "must be an object, not null"),
				fe("/limit", "invalid", "must be at least 1; got 0"),
			},
		},
		{
			name:    "too long string counts characters",
			input:   `{"payload":{"subject":"ééééééééééé"}}`,
			message: "the input has 1 problem; fix it and send again",
			fields:  []deskconn.FieldError{fe("/payload/subject", "invalid", "must be at most 10 characters long; got 11")},
		},
		{
			name:    "duplicate key and nested unknown",
			input:   `{"payload":{"subject":"a","subjekt":"b"},"limit":1,"limit":2}`,
			message: "the input has 2 problems; fix all of them and send again",
			fields: []deskconn.FieldError{
				fe("/limit", "duplicate", "appears more than once; send it once"),
				fe("/payload/subjekt", "unknown", `unknown field "subjekt"; did you mean "subject"?`),
			},
		},
		{
			name:    "pointer escaping",
			input:   `{"payload":{"subject":"a"},"a/b~c":1}`,
			message: "the input has 1 problem; fix it and send again",
			fields:  []deskconn.FieldError{fe("/a~1b~0c", "unknown", `unknown field "a/b~c"; remove it (allowed fields: idempotencyKey, dryRun, confirm, orgId, payload, limit, tags)`)},
		},
		{
			name:    "integer out of int64 range",
			input:   `{"payload":{"subject":"a"},"limit":99999999999999999999}`,
			message: "the input has 1 problem; fix it and send again",
			fields:  []deskconn.FieldError{fe("/limit", "invalid", "must be an integer (a whole number without quotes), not a number 99999999999999999999")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ty := &toy{}
			r := action.NewRegistry(action.Options{})
			r.Add(ty.action("toy_create", action.Hints{}))
			_, err := r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(tt.input), action.InvokeOptions{})
			var de *deskconn.Error
			if !errors.As(err, &de) || de.Code != deskconn.CodeInvalid {
				t.Fatalf("Invoke error = %v, want invalid", err)
			}
			if de.Message != tt.message {
				t.Errorf("message = %q, want %q", de.Message, tt.message)
			}
			if diff := cmp.Diff(tt.fields, de.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if n := ty.calls.Load(); n != 0 {
				t.Errorf("handler called %d times for invalid input", n)
			}
		})
	}
}

func TestInvokeMalformedJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		input string
		want  string
	}{
		{`{"payload": {"subject": "a",}}`, "malformed JSON at byte offset 28: invalid character '}' looking for beginning of object key string"},
		{`{"payload":`, "the text ends early at byte offset 11"},
		{`{} {}`, "unexpected data after the JSON value at byte offset"},
		{`[1,2]`, "the input must be a JSON object, not an array"},
		{"{\"payload\":{\"subject\":\"\xff\"}}", "not valid UTF-8"},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			ty := &toy{}
			r := action.NewRegistry(action.Options{})
			r.Add(ty.action("toy_create", action.Hints{}), readAction(&calls))
			_, err := r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(tt.input), action.InvokeOptions{})
			if deskconn.ErrorCode(err) != deskconn.CodeInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Invoke error = %v, want invalid containing %q", err, tt.want)
			}
		})
	}
}

func TestInvokeEmptyInputIsEmptyObject(t *testing.T) {
	t.Parallel()
	type noIn struct {
		Limit int `json:"limit,omitempty" schema:"default=10"`
	}
	a := action.Define("toy_empty", action.Info{Title: "Empty", Description: "Takes nothing."},
		func(_ context.Context, _ *action.Call, in noIn) (noIn, error) { return in, nil })
	r := action.NewRegistry(action.Options{})
	r.Add(a)
	for _, in := range []string{"", "  ", "null", "{}"} {
		out, err := r.Invoke(t.Context(), target(), "toy_empty", json.RawMessage(in), action.InvokeOptions{})
		if err != nil || string(out) != "{}" {
			t.Errorf("Invoke(%q) = %s, %v; want {}", in, out, err)
		}
	}
}

func TestInvokeUnknownAction(t *testing.T) {
	t.Parallel()
	r := action.NewRegistry(action.Options{})
	_, err := r.Invoke(t.Context(), target(), "nope", nil, action.InvokeOptions{})
	if deskconn.ErrorCode(err) != deskconn.CodeNotFound || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("Invoke(nope) = %v, want not_found naming it", err)
	}
}

func TestInvokeTooManyProblemsIsCapped(t *testing.T) {
	t.Parallel()
	ty := &toy{}
	r := action.NewRegistry(action.Options{})
	r.Add(ty.action("toy_create", action.Hints{}))
	var b strings.Builder
	b.WriteString(`{"payload":{"subject":"a"}`)
	for i := range 80 {
		b.WriteString(`,"x` + strings.Repeat("y", i%3) + string(rune('a'+i%26)) + `":1`)
	}
	b.WriteString("}")
	_, err := r.Invoke(t.Context(), target(), "toy_create", json.RawMessage(b.String()), action.InvokeOptions{})
	de := deskconn.AsError(err)
	if de.Code != deskconn.CodeInvalid || len(de.Fields) != action.MaxProblems+1 {
		t.Fatalf("got %d fields (%v), want %d", len(de.Fields), de.Code, action.MaxProblems+1)
	}
	if last := de.Fields[len(de.Fields)-1]; last.Message != "30 more problems not listed; fix the ones above and send again" {
		t.Errorf("last field = %+v", last)
	}
	if want := "the input has 80 problems; fix all of them and send again"; de.Message != want {
		t.Errorf("message = %q, want %q", de.Message, want)
	}
}
