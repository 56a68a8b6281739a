package deskactions

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
)

// FuzzActionInputs feeds arbitrary JSON to every action through the
// registry (schema validation, decoding with the union types, the actions'
// own checks, and, for inputs that pass, the handler against the emulator).
// A panic would surface as an internal error (the registry recovers
// handler panics), so no input may give one.
func FuzzActionInputs(f *testing.F) {
	names := make([]string, 0, 19)
	for _, a := range All(Deps{}) {
		names = append(names, a.Name())
	}
	samples, _ := filepath.Glob(filepath.Join("testdata", "spec", "*.json"))
	for i, p := range samples {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	for _, s := range []string{
		`{"payload":{"uploads":[{"fileName":"a","fileData":"data:text/plain;base64,aGk="},"123"]}}`,
		`{"payload":{"assigneeId":null,"cf":{"cf_x":null}},"ticketSubject":"Cannot log in to the portal"}`,
		`{"params":{"include":"contacts,,assignee","teamIds":[""]},"sortOrder":"-","all":true}`,
		`{"payload":{"ticketIds":"1,2,3","ticketNumbers":[],"ticketSubjects":["x"]}}`,
		`{"payload":{"uploads":[{"fileName":"a","fileData":{"x":1}}]}}`,
		`{"agentEmail":"a@b","dryRun":true}`,
		`[]`, `null`, `{"orgId":null}`, `{"params":{"limit":1e400}}`,
	} {
		for i := range names {
			f.Add(uint8(i), []byte(s))
		}
	}
	env := newTestEnv(f, Deps{}, emulator.Options{})
	f.Fuzz(func(t *testing.T, which uint8, raw []byte) {
		name := names[int(which)%len(names)]
		out, err := env.reg.Invoke(t.Context(), env.target, name, json.RawMessage(raw), action.InvokeOptions{})
		if err != nil {
			if code := deskconn.ErrorCode(err); code == deskconn.CodeInternal {
				t.Fatalf("%s(%s): internal error: %v", name, raw, deskconn.AsError(err).Err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%s: output is not JSON: %s", name, out)
		}
	})
}
