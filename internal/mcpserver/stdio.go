package mcpserver

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
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

// StdioTransport returns the transport of `deskconn mcp`: newline-delimited
// JSON-RPC read from r and written to w, like the SDK's mcp.IOTransport,
// except that bad input does not end the session. A line that is not JSON,
// is nested deeper than JSON decoding allows, or is longer than
// MaxMessageBytes is answered with a JSON-RPC parse error (-32700, id
// null); JSON that is not a JSON-RPC message gets an invalid-request error
// (-32600); then the next line is read, as the HTTP transport answers a bad
// body and keeps serving. Empty lines are skipped. w receives whole
// messages, one Write each; log (nil: discard) records each refused line's
// problem, never its content.
//
// A goroutine reads r until it ends or the session closes; like the SDK's
// own stdio reader it stays blocked in r.Read if r never returns.
func StdioTransport(r io.Reader, w io.Writer, log *slog.Logger) mcp.Transport {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := &lineWriter{w: w}
	pr, pw := io.Pipe()
	go pumpLines(r, pw, out, int(MaxMessageBytes), log)
	return &mcp.IOTransport{Reader: pr, Writer: out, MaxLineLength: int(MaxMessageBytes) + 1}
}

// lineWriter serialises writes of whole messages from the SDK and from the
// line checker; Close leaves w open (it is the process's stdout).
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lineWriter) Close() error { return nil }

// pumpLines copies the good lines of r to pw, answers the bad ones on out,
// and closes pw when r ends (with r's error, if any) or when the reading
// side of pw is closed.
func pumpLines(r io.Reader, pw *io.PipeWriter, out io.Writer, maxLine int, log *slog.Logger) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, tooLong, err := readLine(br, maxLine)
		if len(line) > 0 || tooLong {
			var werr error
			if code, problem := checkLine(line, tooLong, maxLine); code != 0 {
				log.Warn("mcp stdio: refused an input line", "code", code, "problem", problem)
				werr = writeError(out, code, problem)
			} else {
				_, werr = pw.Write(append(line, '\n'))
			}
			if werr != nil {
				pw.CloseWithError(werr)
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			pw.CloseWithError(err)
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

// checkLine returns the JSON-RPC error code and message for a line the SDK
// would not accept, or 0 for a good one (a message or a batch of them).
func checkLine(line []byte, tooLong bool, maxLine int) (int, string) {
	switch {
	case tooLong:
		return jsonrpc.CodeParseError, "Parse error: the message is longer than " + strconv.Itoa(maxLine) + " bytes"
	case !json.Valid(line):
		// json.Valid also fails past encoding/json's nesting limit.
		return jsonrpc.CodeParseError, "Parse error: the line is not valid JSON (or is nested too deeply)"
	}
	var batch []json.RawMessage
	if json.Unmarshal(line, &batch) == nil {
		if len(batch) == 0 {
			return jsonrpc.CodeInvalidRequest, "Invalid Request: empty batch"
		}
		for _, m := range batch {
			if _, err := jsonrpc.DecodeMessage(m); err != nil {
				return jsonrpc.CodeInvalidRequest, "Invalid Request: a batch element is not a JSON-RPC 2.0 message"
			}
		}
		return 0, ""
	}
	if _, err := jsonrpc.DecodeMessage(line); err != nil {
		return jsonrpc.CodeInvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message"
	}
	return 0, ""
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
