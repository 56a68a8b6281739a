package mcpserver

import (
	"reflect"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

var decodeSeeds = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_tickets","arguments":{"params":{"limit":10}}}}`,
	`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
	`{"jsonrpc":"2.0","id":"abc","result":{"x":[1,2]}}`,
	`{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"nope","data":{"a":1}}}`,
	`{"jsonrpc":"2.0","id":2.5,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":null,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":true,"method":"ping"}`,
	`{"jsonrpc":"1.0","id":1,"method":"ping"}`,
	`{"JSONRPC":"2.0","ID":1,"Method":"ping"}`,
	`{"jsonrpc":"2.0","id":1,"method":""}`,
	`{"jsonrpc":"2.0","id":1,"method":5}`,
	`{"jsonrpc":"2.0","result":{}}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping"} trailing`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","params":` + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + `}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","params":"` + strings.Repeat("[", 1001) + `"}`,
	`{"jsonrpc":"2.0","id":1,"method":"p\u0069ng","params":null}`,
	`[]`, `null`, `"x"`, `{`, `{"jsonrpc":"2.0",}`,
}

// TestDecodeMessageMatchesSDK and FuzzDecodeMessageMatchesSDK: for any
// line, decodeMessage accepts what the SDK's DecodeMessage accepts, with
// the same message, and refuses what it refuses.
func TestDecodeMessageMatchesSDK(t *testing.T) {
	t.Parallel()
	for _, in := range decodeSeeds {
		sameAsSDK(t, []byte(in))
	}
}

func FuzzDecodeMessageMatchesSDK(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { sameAsSDK(t, in) })
}

func sameAsSDK(t *testing.T, in []byte) {
	t.Helper()
	want, wantErr := jsonrpc.DecodeMessage(in)
	got, err := decodeMessage(in)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("decodeMessage(%.200q) error = %v, the SDK's = %v", in, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeMessage(%.200q) = %#v, the SDK's = %#v", in, got, want)
	}
}
