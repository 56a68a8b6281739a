package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn/internal/egress"
)

// MaxMessageBytes is the largest MCP message deskconn reads, over HTTP (a
// request body) and over stdio (a line): a tools/call carrying the largest
// attachment (egress.DefaultMaxBytes, 20 MiB) as base64 in fileData, plus
// 1 MiB for the JSON-RPC envelope and the other arguments.
var MaxMessageBytes = int64(base64.StdEncoding.EncodedLen(int(egress.DefaultMaxBytes))) + 1<<20

// ServeStdio serves srv as `deskconn mcp` does, over StdioTransport on r
// and w, until the client hangs up or ctx ends. Tool results are written
// as deskconn encoded them, without the SDK re-scanning them (splice.go).
func ServeStdio(ctx context.Context, srv *mcp.Server, r io.Reader, w io.Writer, log *slog.Logger) error {
	t := newStdioTransport(r, w, log)
	t.splices = newSplices()
	return srv.Run(withSplices(ctx, t.splices), t)
}

// StdioTransport returns the transport of `deskconn mcp`: newline-delimited
// JSON-RPC read from r and written to w, like the SDK's mcp.IOTransport,
// except that bad input does not end the session. A line that is not JSON,
// is nested deeper than JSON decoding allows, or is longer than
// MaxMessageBytes is answered with a JSON-RPC parse error (-32700, id
// null); JSON that is not a JSON-RPC message gets an invalid-request error
// (-32600), and so does a batch (JSON-RPC batches were removed from MCP in
// its 2025-06-18 revision); then the next line is read, as the HTTP
// transport answers a bad body and keeps serving. Empty lines are skipped.
// w receives whole messages, one Write each; log (nil: discard) records
// each refused line's problem, never its content.
//
// Each line is decoded once, straight into the message the SDK handles
// (the SDK's own stdio connection re-reads every message through a second
// JSON decoder). A goroutine reads r until it ends or the connection
// closes; like the SDK's own stdio reader it stays blocked in r.Read if r
// never returns.
func StdioTransport(r io.Reader, w io.Writer, log *slog.Logger) mcp.Transport {
	return newStdioTransport(r, w, log)
}

func newStdioTransport(r io.Reader, w io.Writer, log *slog.Logger) *stdioTransport {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &stdioTransport{r: r, out: &lineWriter{w: w}, log: log}
}

type stdioTransport struct {
	r   io.Reader
	out *lineWriter
	log *slog.Logger
	// splices, when set (ServeStdio), holds the tool results parked for
	// Write.
	splices *splices
}

// Connect starts reading r; call it once.
func (t *stdioTransport) Connect(context.Context) (mcp.Connection, error) {
	c := &stdioConn{out: t.out, splices: t.splices, incoming: make(chan readResult), closed: make(chan struct{})}
	go c.pump(t.r, int(MaxMessageBytes), t.log)
	return c, nil
}

// readResult is one message read, or the error that ended reading.
type readResult struct {
	msg jsonrpc.Message
	err error
}

// stdioConn is an mcp.Connection over newline-delimited JSON-RPC.
type stdioConn struct {
	out       *lineWriter
	splices   *splices // nil: results are never parked
	incoming  chan readResult
	closed    chan struct{}
	closeOnce sync.Once
}

func (c *stdioConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, io.EOF
	case r := <-c.incoming:
		return r.msg, r.err
	}
}

func (c *stdioConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := encodeLine(c.unsplice(msg))
	if err != nil {
		return err
	}
	_, err = c.out.Write(b)
	return err
}

// unsplice returns msg with a parked tool result in place of its
// placeholder (line breaks, which would end the line early, made spaces).
func (c *stdioConn) unsplice(msg jsonrpc.Message) jsonrpc.Message {
	r, ok := msg.(*jsonrpc.Response)
	if !ok || r.Error != nil || c.splices == nil {
		return msg
	}
	encoded, isPlaceholder := c.splices.take(r.Result)
	switch {
	case !isPlaceholder:
		return msg
	case encoded == nil: // a bug: each placeholder is written once, here
		return &jsonrpc.Response{ID: r.ID, Error: &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal error: the tool's result was lost"}}
	}
	cp := *r
	cp.Result = encoded
	return &cp
}

// encodeLine returns msg as one newline-terminated line, byte for byte
// what jsonrpc.EncodeMessage writes. A successful response (every tool
// result) is spliced together: its result was marshalled by the SDK, so it
// is compact JSON already, and EncodeMessage would only scan it again to
// compact it, the largest single cost of a list call's answer.
func encodeLine(msg jsonrpc.Message) ([]byte, error) {
	if r, ok := msg.(*jsonrpc.Response); ok && r.Error == nil && len(r.Result) > 0 {
		var id []byte
		switch v := r.ID.Raw().(type) {
		case int64:
			id = strconv.AppendInt(nil, v, 10)
		case string:
			id = strconv.AppendQuote(nil, v) // for the ASCII ids clients send; else below
			if !isPlainASCII(v) {
				id = nil
			}
		}
		if id != nil {
			b := make([]byte, 0, len(`{"jsonrpc":"2.0","id":,"result":}`)+len(id)+len(r.Result)+1)
			b = append(b, `{"jsonrpc":"2.0","id":`...)
			b = append(b, id...)
			b = append(b, `,"result":`...)
			b = append(b, r.Result...)
			return append(b, "}\n"...), nil
		}
	}
	b, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	return append(b, '\n'), nil
}

// isPlainASCII reports whether strconv.Quote and JSON encode s alike:
// printable ASCII without the characters encoding/json escapes
// differently ('<', '>', '&' are not escaped by the SDK's encoder, which
// sets no HTML escaping, and strconv leaves them too).
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

func (c *stdioConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

func (c *stdioConn) SessionID() string { return "" }

// deliver hands r to Read; false once the connection is closed.
func (c *stdioConn) deliver(r readResult) bool {
	select {
	case c.incoming <- r:
		return true
	case <-c.closed:
		return false
	}
}

// lineWriter serialises writes of whole messages from the SDK and from the
// line checker; it never closes w (the process's stdout).
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// pump decodes the lines of r into messages for Read, answers the bad ones
// on out, and ends reading with r's error (io.EOF at its end) or when the
// connection closes.
func (c *stdioConn) pump(r io.Reader, maxLine int, log *slog.Logger) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, tooLong, err := readLine(br, maxLine)
		if len(line) > 0 || tooLong {
			msg, code, problem := decodeLine(line, tooLong, maxLine)
			if code != 0 {
				log.Warn("mcp stdio: refused an input line", "code", code, "problem", problem)
				if werr := writeError(c.out, code, problem); werr != nil {
					c.deliver(readResult{err: werr})
					return
				}
			} else if !c.deliver(readResult{msg: msg}) {
				return
			}
		}
		if err != nil {
			c.deliver(readResult{err: err})
			return
		}
	}
}

// readLine returns the next line of br without its line ending and
// surrounding blanks. A line longer than maxLine is consumed to its end and
// reported as tooLong, without being kept.
func readLine(br *bufio.Reader, maxLine int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > maxLine+2 { // +2: the line ending
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSpace(line), tooLong, err
	}
}

// decodeLine decodes one line into a message, or returns the JSON-RPC
// error code and message to answer it with.
func decodeLine(line []byte, tooLong bool, maxLine int) (jsonrpc.Message, int, string) {
	if tooLong {
		return nil, jsonrpc.CodeParseError, "Parse error: the message is longer than " + strconv.Itoa(maxLine) + " bytes"
	}
	if line[0] == '[' {
		if !json.Valid(line) {
			return nil, jsonrpc.CodeParseError, "Parse error: the line is not valid JSON (or is nested too deeply)"
		}
		return nil, jsonrpc.CodeInvalidRequest, "Invalid Request: JSON-RPC batches are not supported (MCP removed them in its 2025-06-18 revision); send one message per line"
	}
	msg, err := decodeMessage(line)
	if err == nil {
		return msg, 0, ""
	}
	// Only a refused line pays for telling bad JSON from a bad message.
	// json.Valid also fails past encoding/json's nesting limit.
	if !json.Valid(line) {
		return nil, jsonrpc.CodeParseError, "Parse error: the line is not valid JSON (or is nested too deeply)"
	}
	return nil, jsonrpc.CodeInvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message"
}

// rpcError is a JSON-RPC error response with a null id, as JSON-RPC 2.0
// asks when the request's id could not be read.
type rpcError struct {
	JSONRPC string     `json:"jsonrpc"`
	ID      *struct{}  `json:"id"` // always null
	Error   rpcErrBody `json:"error"`
}

type rpcErrBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeError(out io.Writer, code int, message string) error {
	b, err := json.Marshal(rpcError{JSONRPC: "2.0", Error: rpcErrBody{Code: code, Message: message}})
	if err != nil {
		return err
	}
	_, err = out.Write(append(b, '\n'))
	return err
}
