package mcpserver

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A tool result reaches the client without the SDK scanning it.
//
// The SDK's JSON-RPC layer marshals every result with encoding/json, which
// re-scans the output of a MarshalJSON to compact it, twice over HTTP
// (jsonrpc2.NewResponse, then EncodeMessage): for a result already encoded
// once (encodedResult) that was the largest single cost left in a list
// call (a sixth of its CPU over stdio, an eighth of the whole exchange
// over HTTP). Instead, encodeResults parks the encoding in the splices of
// the exchange carrying the call and hands the SDK a placeholder naming
// it; what writes the SDK's message puts the encoding back in the
// placeholder's place:
//   - over stdio (ServeStdio) the connection's Write, per session;
//   - over HTTP the response writer of the POST that carried the call
//     (spliceWriter), per request: the SDK answers a call on the stream of
//     the request that carried it, and a request's splices die with it.
//
// The answer is the same JSON either way, and the same bytes whenever the
// action's output is compact, as Zoho's answers are (TestServeStdioSplices,
// TestHTTPSplices): the SDK's scan would also have removed whitespace
// between the tokens of a row Zoho sent with some; a spliced result keeps
// it, and line breaks become spaces: they would end a stdio line or an
// SSE data line early.

// splices holds tool results parked for what writes the SDK's messages (a
// stdio connection, or the response writer of one HTTP request), by
// number. Each is taken once, by the Write of the response that carries
// its placeholder; they live and die with that connection or request.
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

// take returns the result a placeholder stands for, once, without line
// breaks; isPlaceholder is false for bytes that are not a placeholder. A
// placeholder whose result is gone returns nil (a parked result is never
// empty).
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
	encoded = s.m[n]
	delete(s.m, n)
	s.mu.Unlock()
	return oneLine(encoded), true
}

// oneLine returns encoded (JSON) on one line: as it is when it has no line
// break (the rule: Zoho's answers and deskconn's encodings are compact),
// else with each CR and LF replaced by a space. In JSON they can only be
// whitespace between tokens (inside a string they are escaped), so the
// value is unchanged. nil stays nil.
func oneLine(encoded []byte) []byte {
	if !bytes.ContainsAny(encoded, "\n\r") {
		return encoded
	}
	out := bytes.Clone(encoded) // byte by byte: any other byte stays as it is
	for i, c := range out {
		if c == '\n' || c == '\r' {
			out[i] = ' '
		}
	}
	return out
}

// splicedResult is a tool result parked in splices: it marshals as its
// placeholder, which only the Write that takes it back ever reads. Like encodedResult it embeds the result, for anything that
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

// splicesOf returns the splices a tools/call's result is parked in: those
// of the HTTP request that carried req (HTTPHandler puts them in its
// TokenInfo), else those of the stdio session ctx belongs to, else nil.
func splicesOf(ctx context.Context, req mcp.Request) *splices {
	if req != nil {
		if extra := req.GetExtra(); extra != nil && extra.TokenInfo != nil {
			if s, ok := extra.TokenInfo.Extra[splicesExtra].(*splices); ok && s != nil {
				return s
			}
		}
	}
	s, _ := ctx.Value(splicesKey{}).(*splices)
	return s
}

// splicesExtra is the TokenInfo.Extra key of an HTTP request's splices.
const splicesExtra = "splices"

// spliceWriter is the response writer the SDK writes a POST's messages
// to: each Write that carries a response whose result is one of the
// request's placeholders goes out with the parked result in its place.
// The SDK writes each message whole, in one Write (an SSE event, or the
// JSON body), and a placeholder can only be the value of a response's
// "result": inside a JSON string its quotes would be escaped. A
// placeholder the request's splices do not hold is left as it is.
//
// No event store may be configured on the SDK handler: it would keep the
// placeholders, not the results, for replay.
type spliceWriter struct {
	http.ResponseWriter
	splices *splices
}

// resultPlaceholder is how a placeholder appears in an encoded response.
var resultPlaceholder = []byte(`"result":` + placeholderPrefix)

func (w *spliceWriter) Write(p []byte) (int, error) {
	if !bytes.Contains(p, resultPlaceholder) {
		return w.ResponseWriter.Write(p)
	}
	// Take every placeholder's result first, then copy once into a buffer
	// of the final size (a list's result is many times the message).
	type splice struct {
		start, end int // the placeholder's bytes in p
		encoded    []byte
	}
	var found []splice
	size := len(p)
	for off := 0; ; {
		i := bytes.Index(p[off:], resultPlaceholder)
		if i < 0 {
			break
		}
		start := off + i + len(`"result":`)
		n := bytes.IndexByte(p[start:], '}')
		if n < 0 {
			break
		}
		end := start + n + 1
		encoded, _ := w.splices.take(p[start:end])
		if encoded == nil {
			off = start // not one of ours: look again past its marker only
			continue
		}
		found = append(found, splice{start, end, encoded})
		size += len(encoded) - (end - start)
		off = end
	}
	out := make([]byte, 0, size)
	last := 0
	for _, sp := range found {
		out = append(out, p[last:sp.start]...)
		out = append(out, sp.encoded...)
		last = sp.end
	}
	out = append(out, p[last:]...)
	if _, err := w.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Unwrap exposes the underlying writer to http.ResponseController (the
// SDK flushes each SSE event through one).
func (w *spliceWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
