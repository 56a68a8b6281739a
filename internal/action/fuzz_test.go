package action_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

// FuzzInvokeInput feeds arbitrary bytes to a toy write action. Invoke must
// never panic and never report an internal error; when it accepts the input
// the handler ran and strict decoding agrees; when strict decoding of the
// input fails, Invoke must have refused it as invalid.
func FuzzInvokeInput(f *testing.F) {
	for _, s := range []string{
		validInput,
		`{"payload":{"subject":"a","priority":"Low","dueDate":"2024-05-01T09:30:00Z","email":"a@b.co"},"limit":3,"tags":["x"]}`,
		`{"payload":{"subject":5},"limit":"3","extra":1}`,
		`{"payload":{"subject":"a"},"limit":1e2}`,
		`{"payload":{"subject":"a"},"Payload":{"subject":"b"}}`,
		`{"payload":{"subject":"a"},"limit":1,"limit":2}`,
		`{"payload":{"subject":"\u00e9"},"tags":null}`,
		`[`, `null`, ``, `{"dryRun":true,"payload":{"subject":"a"}}`,
	} {
		f.Add([]byte(s))
	}
	ty := &toy{}
	r := action.NewRegistry(action.Options{})
	r.Add(ty.action("toy_create", action.Hints{}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		before := ty.calls.Load()
		out, err := r.Invoke(t.Context(), target(), "toy_create", raw, action.InvokeOptions{})
		ran := ty.calls.Load() > before
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var in toyIn
		decErr := dec.Decode(&in)
		empty := len(bytes.TrimSpace(raw)) == 0
		switch code := deskconn.ErrorCode(err); code {
		case "":
			if decErr != nil && !empty {
				t.Fatalf("accepted %q that strict decoding refuses: %v", raw, decErr)
			}
			if !ran && !bytes.Contains(out, []byte(`"dryRun":true`)) {
				t.Fatalf("accepted %q without running the handler", raw)
			}
		case deskconn.CodeInvalid:
			if ran {
				t.Fatalf("refused %q after running the handler", raw)
			}
		default:
			t.Fatalf("Invoke(%q) = %v, want success or invalid", raw, err)
		}
	})
}
