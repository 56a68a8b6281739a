// Package filedata turns an action's fileData string into a stream to
// upload: an http(s) URL, fetched through the SSRF guard of package egress,
// or base64 (standard or URL-safe alphabet, padded or not, with or without a
// "data:<type>;base64," prefix, whitespace and newlines ignored).
//
// Base64 is decoded as a stream straight from the input string: the decoded
// file is never held in memory. Its size is known before any byte is
// uploaded (it follows from the encoded length) and is checked against the
// cap first; the whole string is also validated up front, without
// allocating, so a typo fails before an upload starts, with the byte offset
// of the first bad character.
//
// Every input problem is an *Error, which the action layer reports as an
// invalid field (FieldError gives the deskconn.FieldError for a pointer).
package filedata

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/egress"
)

// Sources of a File.
const (
	SourceURL    = "url"
	SourceBase64 = "base64"
)

// sniffLen is how many leading bytes Sniff looks at (http.DetectContentType's
// limit).
const sniffLen = 512

// Kinds of input problems; every *Error matches exactly one with errors.Is.
var (
	// ErrEmpty: fileData, or the data it decodes to, is empty.
	ErrEmpty = errors.New("empty file data")
	// ErrInvalidBase64: a character that is not base64, misplaced padding,
	// or a length no base64 text can have. Error.Offset says where.
	ErrInvalidBase64 = errors.New("invalid base64")
	// ErrTooLarge: the file is larger than Options.MaxBytes.
	ErrTooLarge = errors.New("file too large")
	// ErrUnsupported: neither an http(s) URL nor base64 (another scheme, a
	// data URL that is not ;base64, or a URL where no Fetcher is set).
	ErrUnsupported = errors.New("unsupported file data")
	// ErrFetch: the URL could not be fetched (refused address, HTTP error,
	// timeout, network error). The egress error is wrapped too. A refused,
	// unknown or unreachable host has one message whatever the cause.
	ErrFetch = errors.New("cannot fetch file URL")
)

// Error is a problem with fileData. Its message says what is wrong and what
// to change, and is safe to show: it never contains the file's content, nor
// a URL's path or query.
type Error struct {
	Kind    error  // ErrEmpty, ErrInvalidBase64, ErrTooLarge, ErrUnsupported or ErrFetch
	Offset  int64  // byte offset into fileData for ErrInvalidBase64; -1 otherwise
	Message string // what is wrong and what to change
	Err     error  // the cause, if any (an egress error for ErrFetch)
}

// Error returns Message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the kind and the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// FieldError returns err as an "invalid" field problem at pointer (such as
// "/fileData" or "/uploads/0/fileData"), when err is or wraps an *Error.
func FieldError(pointer string, err error) (deskconn.FieldError, bool) {
	var e *Error
	if !errors.As(err, &e) {
		return deskconn.FieldError{}, false
	}
	return deskconn.FieldError{Pointer: pointer, Code: "invalid", Message: e.Message}, true
}

// Options configures Open.
type Options struct {
	// Fetcher fetches URLs; nil means URLs are refused with ErrUnsupported.
	Fetcher *egress.Fetcher
	// MaxBytes caps the decoded or fetched size; 0 means
	// egress.DefaultMaxBytes. A Fetcher's own, smaller cap also applies.
	MaxBytes int64
}

// File is an opened file, ready to stream once.
type File struct {
	// Name is the fileName given to Open; for a URL without one, the name
	// the server or URL path gives; else "attachment".
	Name string
	// ContentType is from Sniff: the data: prefix or the server's
	// Content-Type, else the name's extension, else the content.
	ContentType string
	// Size is the exact size in bytes, or -1 when a server did not say.
	Size int64
	// Body streams the content. Read errors are *Error (a URL body can still
	// fail mid-way: too large, deadline). The caller must Close it.
	Body io.ReadCloser
	// Source is SourceURL or SourceBase64.
	Source string
}

// Open interprets fileData: an http(s) URL is fetched with opts.Fetcher;
// anything else must be base64, optionally as a data: URL. fileName names
// the file (and helps Sniff). Every problem that can be known before the
// upload (bad base64 anywhere in the text, size over the cap, a refused or
// failing URL) is returned here as an *Error; a URL body can still fail
// while it streams (see File.Body).
//
// A spool reference (see Spooler) is resolved through the Spooler in ctx
// (WithSpooler) to the file decoded while the request streamed in, with
// the same errors as the base64 it replaced; without that Spooler it is
// invalid base64.
func Open(ctx context.Context, fileData, fileName string, opts Options) (*File, error) {
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = egress.DefaultMaxBytes
	}
	if IsRef(fileData) {
		if sp, _ := ctx.Value(spoolerKey{}).(*Spooler); sp != nil {
			if f, ok, err := sp.open(fileData, fileName, maxBytes); ok {
				return f, err
			}
		}
	}
	lead := len(fileData) - len(strings.TrimLeft(fileData, whitespace))
	s := strings.TrimRight(fileData[lead:], whitespace)
	lower := strings.ToLower(s[:min(len(s), 8)])
	switch {
	case s == "":
		return nil, &Error{Kind: ErrEmpty, Offset: -1,
			Message: "fileData is empty: send the file as base64, or an http(s) URL to fetch it from"}
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return openURL(ctx, s, fileName, maxBytes, opts.Fetcher)
	case strings.HasPrefix(lower, "data:"):
		mediaType, start, err := parseDataURL(s, lead)
		if err != nil {
			return nil, err
		}
		return openBase64(fileData[start:], int64(start), mediaType, fileName, maxBytes)
	case strings.Contains(s, "://"):
		scheme, _, _ := strings.Cut(s, "://")
		return nil, &Error{Kind: ErrUnsupported, Offset: -1,
			Message: fmt.Sprintf("fileData URL scheme %q is not supported: use an http or https URL, or send the file as base64", truncate(scheme, 16))}
	default:
		return openBase64(fileData, 0, "", fileName, maxBytes)
	}
}

// parseDataURL splits "data:<type>[;params];base64,<payload>" and returns
// the media type ("" when absent or malformed) and the payload's offset.
func parseDataURL(s string, lead int) (mediaType string, start int, err error) {
	comma := strings.IndexByte(s, ',')
	if comma < 0 {
		off := lead + len(s)
		return "", 0, &Error{Kind: ErrInvalidBase64, Offset: int64(off),
			Message: fmt.Sprintf("fileData starts with data: but has no ',' before the data (byte offset %d): use data:<type>;base64,<base64 data>", off)}
	}
	header := s[len("data:"):comma]
	const b64 = ";base64"
	if len(header) < len(b64) || !strings.EqualFold(header[len(header)-len(b64):], b64) {
		return "", 0, &Error{Kind: ErrUnsupported, Offset: -1,
			Message: "fileData is a data: URL without ;base64: only base64 data URLs are accepted, as data:<type>;base64,<base64 data>"}
	}
	mediaType = strings.TrimSpace(header[:len(header)-len(b64)])
	if mediaType != "" {
		if _, _, perr := mime.ParseMediaType(mediaType); perr != nil || strings.HasPrefix(mediaType, ";") {
			mediaType = ""
		}
	}
	return mediaType, lead + comma + 1, nil
}

func openBase64(payload string, base int64, mediaType, fileName string, maxBytes int64) (*File, error) {
	size, err := decodedSize(payload, base)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, &Error{Kind: ErrEmpty, Offset: -1,
			Message: "fileData decodes to an empty file: send the file's content as base64"}
	}
	if size > maxBytes {
		return nil, tooLarge(size, maxBytes)
	}
	br := bufio.NewReaderSize(newDecoder(payload, base), sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, err
	}
	name := fileName
	if name == "" {
		name = "attachment"
	}
	return &File{
		Name:        name,
		ContentType: Sniff(mediaType, name, head),
		Size:        size,
		Body:        io.NopCloser(br),
		Source:      SourceBase64,
	}, nil
}

func openURL(ctx context.Context, rawURL, fileName string, maxBytes int64, fetcher *egress.Fetcher) (*File, error) {
	if fetcher == nil {
		return nil, &Error{Kind: ErrUnsupported, Offset: -1,
			Message: "fileData URLs are not accepted here: send the file as base64"}
	}
	resp, err := fetcher.Open(ctx, rawURL)
	if err != nil {
		return nil, fetchError(err, maxBytes)
	}
	if resp.ContentLength > maxBytes {
		resp.Body.Close()
		return nil, tooLarge(resp.ContentLength, maxBytes)
	}
	body := &urlBody{r: resp.Body, max: maxBytes}
	br := bufio.NewReaderSize(body, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		resp.Body.Close()
		return nil, err
	}
	name := fileName
	if name == "" {
		name = resp.FileName
	}
	if name == "" {
		name = "attachment"
	}
	return &File{
		Name:        name,
		ContentType: Sniff(resp.ContentType, name, head),
		Size:        resp.ContentLength,
		Body:        &readCloser{Reader: br, Closer: resp.Body},
		Source:      SourceURL,
	}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// urlBody applies our own cap (which may be below the fetcher's) and turns
// read errors into *Error.
type urlBody struct {
	r   io.Reader
	n   int64
	max int64
	err error
}

func (b *urlBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.max-b.n+1 {
		p = p[:b.max-b.n+1]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		n -= int(b.n - b.max)
		b.err = tooLarge(-1, b.max)
		return n, b.err
	}
	if err != nil && err != io.EOF {
		b.err = fetchError(err, b.max)
		return n, b.err
	}
	return n, err
}

// unreachable is what callers see for every URL whose host is refused by
// the SSRF guard, does not resolve, or does not accept the connection. One
// text for all, so that fileData cannot be used to map the internal
// network or tell a refused host from an unknown one; the egress Fetcher
// logs the cause.
const unreachable = "fileData URL could not be fetched: its host is not allowed or not reachable; use a publicly reachable http(s) URL, or send the file as base64"

func fetchError(err error, maxBytes int64) *Error {
	if errors.Is(err, egress.ErrTooLarge) {
		e := tooLarge(-1, maxBytes)
		e.Err = err
		return e
	}
	var advice string
	switch {
	case errors.Is(err, egress.ErrStatus), errors.Is(err, egress.ErrTooManyRedirects):
		advice = "use a URL that answers with the file, or send the file as base64"
	case errors.Is(err, egress.ErrTimeout):
		advice = "use a faster host, or send the file as base64"
	case errors.Is(err, egress.ErrScheme), errors.Is(err, egress.ErrInvalidURL):
		advice = "use a plain http or https URL without credentials, or send the file as base64"
	default:
		// A refused address, an unreachable host, or any other network
		// failure (TLS, reset): the details stay in the fetcher's log.
		return &Error{Kind: ErrFetch, Offset: -1, Err: err, Message: unreachable}
	}
	return &Error{Kind: ErrFetch, Offset: -1, Err: err,
		Message: fmt.Sprintf("fileData URL could not be fetched: %v; %s", err, advice)}
}

func tooLarge(size, maxBytes int64) *Error {
	msg := fmt.Sprintf("fileData is larger than the %d-byte limit: send a smaller file", maxBytes)
	if size >= 0 {
		msg = fmt.Sprintf("fileData is %d bytes, over the %d-byte limit: send a smaller file", size, maxBytes)
	}
	return &Error{Kind: ErrTooLarge, Offset: -1, Message: msg}
}

// Sniff returns a file's content type: declared (a data: URL's type or a
// server's Content-Type) unless it is empty, malformed or
// application/octet-stream; else the type of fileName's extension; else
// http.DetectContentType of head (the first up to 512 bytes).
func Sniff(declared, fileName string, head []byte) string {
	declared = strings.TrimSpace(declared)
	if mt, _, err := mime.ParseMediaType(declared); err == nil && mt != "application/octet-stream" {
		return declared
	}
	if ext := path.Ext(fileName); ext != "" {
		if t := mime.TypeByExtension(strings.ToLower(ext)); t != "" {
			return t
		}
	}
	return http.DetectContentType(head)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
