package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A successful tool result is encoded here, once.
//
// The SDK marshals a *mcp.CallToolResult with encoding/json through two
// custom marshalers (the result's and its text content's), and encoding/json
// re-scans every custom marshaler's output to compact it: the summary text
// and the action's output (which is in the result twice, as text and as
// structured content) were scanned three times after the action had
// already encoded them. encodeResults hands the SDK the result already
// encoded instead; the SDK's final scan of it is the only one left.
//
// The bytes are the SDK's own encoding of the same result (the text
// escaped as encoding/json escapes a string, the structured content as the
// registry encoded it); TestEncodedResultMatchesSDK checks it.

// encodedResult is a *mcp.CallToolResult with its JSON encoding. Embedding
// the result keeps it an mcp.Result (and its values readable by anything
// that inspects them); MarshalJSON, declared here, wins over the embedded
// one.
type encodedResult struct {
	*mcp.CallToolResult
	encoded []byte
}

// MarshalJSON returns the encoding made with the result.
func (r encodedResult) MarshalJSON() ([]byte, error) { return r.encoded, nil }

// resultSlot carries, from a tool handler back to encodeResults, the
// successful result it returned and that result's encoding.
type resultSlot struct {
	res     *mcp.CallToolResult
	encoded []byte
}

type resultSlotKey struct{}

// encodeResults is receiving middleware: a tools/call whose handler left an
// encoded success in the call's slot answers with that encoding, provided
// the result reaching the middleware is the very one the handler returned
// (nothing in the SDK replaced or changed it). Anything else is left to the
// SDK.
func encodeResults(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		slot := &resultSlot{}
		res, err := next(context.WithValue(ctx, resultSlotKey{}, slot), method, req)
		if err != nil || slot.res == nil {
			return res, err
		}
		if r, ok := res.(*mcp.CallToolResult); !ok || r != slot.res {
			return res, err
		}
		if sp := splicesOf(ctx, req); sp != nil {
			return sp.put(slot.res, slot.encoded), nil
		}
		return encodedResult{CallToolResult: slot.res, encoded: slot.encoded}, nil
	}
}

// successResult builds the result of a successful call, with text (the
// summary and the output) and, if structured, out as structured content;
// when the call came through encodeResults it also encodes it, once, for
// the middleware to send. out is the registry's encoding of the action's
// output: valid, compact JSON.
func successResult(ctx context.Context, text string, out json.RawMessage, structured bool) *mcp.CallToolResult {
	res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
	if structured {
		res.StructuredContent = out
	}
	slot, _ := ctx.Value(resultSlotKey{}).(*resultSlot)
	if slot == nil {
		return res
	}
	quoted, err := json.Marshal(text) // a string cannot fail to encode
	if err != nil {
		panic(fmt.Sprintf("mcpserver: encode a result's text: %v", err))
	}
	const head, tail = `{"content":[{"type":"text","text":`, `}]`
	n := len(head) + len(quoted) + len(tail) + 1
	if structured {
		n += len(`,"structuredContent":`) + len(out)
	}
	b := make([]byte, 0, n)
	b = append(b, head...)
	b = append(b, quoted...)
	b = append(b, tail...)
	if structured {
		b = append(b, `,"structuredContent":`...)
		b = append(b, out...)
	}
	slot.res, slot.encoded = res, append(b, '}')
	return res
}
