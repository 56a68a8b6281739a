package action_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/deskconn/deskconn/internal/action"
)

type appendingOutput struct {
	N int `json:"n"`
}

func (o appendingOutput) AppendJSON(b []byte) ([]byte, error) {
	return append(b, `{"n":`+strconv.Itoa(o.N)+`,"appended":true}`...), nil
}

type embedsAppending struct {
	appendingOutput
	M int `json:"m"`
}

// TestJSONAppender: an output declaring AppendJSON is encoded by it; one
// that only embeds such an output is encoded whole by encoding/json.
func TestJSONAppender(t *testing.T) {
	t.Parallel()
	own := action.Define("own", action.Info{Title: "Own", Description: "d"}, func(context.Context, *action.Call, struct{}) (appendingOutput, error) {
		return appendingOutput{N: 1}, nil
	})
	embedded := action.Define("embedded", action.Info{Title: "Embedded", Description: "d"}, func(context.Context, *action.Call, struct{}) (embedsAppending, error) {
		return embedsAppending{appendingOutput{N: 1}, 2}, nil
	})
	reg := action.NewRegistry(action.Options{})
	reg.Add(own, embedded)
	for name, want := range map[string]string{"own": `{"n":1,"appended":true}`, "embedded": `{"n":1,"m":2}`} {
		out, err := reg.Invoke(t.Context(), target(), name, json.RawMessage(`{}`), action.InvokeOptions{})
		if err != nil || string(out) != want {
			t.Errorf("%s = %s, %v; want %s", name, out, err, want)
		}
	}
}
