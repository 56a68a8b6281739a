package mcpserver

import (
	"bytes"
	"context"
	"strconv"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Over stdio a tool result reaches the client without the SDK scanning it.
//
// The SDK's JSON-RPC layer marshals every result with encoding/json, which
// re-scans the output of a MarshalJSON to compact it: for a result already
// encoded once (encodedResult) that scan was the largest single cost left
// in a stdio list call (a sixth of its CPU). When the session runs through
// ServeStdio, encodeResults instead parks the encoding in the connection's
// splices and hands the SDK a placeholder naming it; the connection's
// Write puts the encoding back in the placeholder's place. Over HTTP the
// SDK's own transport writes the message, so results stay encodedResult.
//
// The answer is the same JSON either way, and the same bytes whenever the
// action's output is compact, as Zoho's answers are (TestServeStdioSplices):
// the SDK's scan would also have removed whitespace between the tokens of a
// row Zoho sent with some; a spliced result keeps it, except line breaks.

// splices holds tool results parked for the connection's Write, by number.
// Each is taken once, by the Write of the response that carries its
// placeholder; they live and die with the connection.
type splices struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64][]byte
}

func newSplices() *splices { return &splices{m: map[uint64][]byte{}} }

// placeholderPrefix starts the JSON a parked result is marshalled as; the
// number that follows names it. No real result starts so: every tool
// result has "content" first.
const placeholderPrefix = `{"deskconn-splice":`

// put parks encoded, the encoding of res, and returns res standing for it.
func (s *splices) put(res *mcp.CallToolResult, encoded []byte) splicedResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.m[s.next] = encoded
	placeholder := strconv.AppendUint([]byte(placeholderPrefix), s.next, 10)
	return splicedResult{CallToolResult: res, placeholder: append(placeholder, '}')}
}

// take returns the result a placeholder stands for, once; isPlaceholder is
// false for bytes that are not a placeholder. A placeholder whose result is
// gone returns nil (a parked result is never empty).
func (s *splices) take(result []byte) (encoded []byte, isPlaceholder bool) {
	rest, ok := bytes.CutPrefix(result, []byte(placeholderPrefix))
	if !ok {
		return nil, false
	}
	digits, ok := bytes.CutSuffix(rest, []byte("}"))
	if !ok {
		return nil, false
	}
	n, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	encoded = s.m[n]
	delete(s.m, n)
	return encoded, true
}

// splicedResult is a tool result parked in the connection's splices: it
// marshals as its placeholder, which only the connection's Write ever
// reads. Like encodedResult it embeds the result, for anything that
// inspects its values.
type splicedResult struct {
	*mcp.CallToolResult
	placeholder []byte
}

// MarshalJSON returns the placeholder.
func (r splicedResult) MarshalJSON() ([]byte, error) { return r.placeholder, nil }

type splicesKey struct{}

// withSplices returns ctx carrying s for encodeResults.
func withSplices(ctx context.Context, s *splices) context.Context {
	return context.WithValue(ctx, splicesKey{}, s)
}

// splicesOf returns the splices of the session ctx belongs to, or nil.
func splicesOf(ctx context.Context) *splices {
	s, _ := ctx.Value(splicesKey{}).(*splices)
	return s
}
