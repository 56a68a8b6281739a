package filedata

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/deskconn/deskconn/internal/egress"
)

// SpoolThreshold is the length (in characters of the JSON string's
// content) from which a request body's fileData value is worth spooling:
// shorter values stay inline in the JSON, as they are.
const SpoolThreshold = 64 << 10

// refPrefix starts every spool reference. It contains ':', which base64
// never does, so a reference sent by a client in place of its file can
// only resolve to a file of its own request, or fail as invalid base64.
const refPrefix = "deskconn-spooled-file:"

// Spooler holds the fileData values of one request that were decoded to
// temporary files while its body streamed in, so that the request never
// holds a large file in memory (as a string, a parsed tree and a struct
// at once). Each value is replaced in the JSON by a short reference that
// Open, given a context from WithSpooler, resolves to the spooled file.
//
// A reference is deterministic: it carries the value's position among the
// request's spooled values, the SHA-256 and size of the decoded bytes, and
// a digest of a data: URL's media type. So the same input always hashes
// the same for idempotency, and neither validation nor the audit log ever
// sees the file.
//
// Use one Spooler per request and Close it when the request ends: that
// removes its temporary files. It is safe for concurrent use.
type Spooler struct {
	maxBytes int64
	dir      string

	mu     sync.Mutex
	seq    int
	files  map[string]*spooled
	paths  []string
	closed bool
}

// spooled is one finished value: a file of size bytes at path, or err.
type spooled struct {
	path      string
	size      int64
	mediaType string
	err       *Error
}

// NewSpooler returns a Spooler that keeps at most maxBytes of each decoded
// file (0: egress.DefaultMaxBytes; a larger file is reported as too large
// when opened) in temporary files in dir ("": os.TempDir()).
func NewSpooler(maxBytes int64, dir string) *Spooler {
	if maxBytes <= 0 {
		maxBytes = egress.DefaultMaxBytes
	}
	return &Spooler{maxBytes: maxBytes, dir: dir, files: map[string]*spooled{}}
}

// Close removes the Spooler's temporary files. Files already opened stay
// readable until closed (on Unix). Close is idempotent.
func (sp *Spooler) Close() error {
	sp.mu.Lock()
	paths := sp.paths
	sp.paths, sp.closed = nil, true
	sp.mu.Unlock()
	var first error
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) && first == nil {
			first = fmt.Errorf("remove spooled file: %w", err)
		}
	}
	return first
}

type spoolerKey struct{}

// WithSpooler returns ctx carrying sp, for Open to resolve references.
func WithSpooler(ctx context.Context, sp *Spooler) context.Context {
	return context.WithValue(ctx, spoolerKey{}, sp)
}

// IsRef reports whether s is a spool reference (of any request).
func IsRef(s string) bool { return strings.HasPrefix(s, refPrefix) }

// Begin starts spooling a fileData value whose content starts with head (at
// least SpoolThreshold characters of it, after JSON unescaping). It returns
// nil, and the value should stay inline, when head is not base64 to
// decode: an http(s) URL, any other "scheme://", or a data: URL whose
// header is not within head or is not ;base64 (Open reports those as it
// always does). Otherwise the caller writes the whole value, head first,
// to the returned SpoolWriter and calls Finish (or Abort).
func (sp *Spooler) Begin(head []byte) (*SpoolWriter, error) {
	s := string(head[:min(len(head), 1<<10)])
	lead := len(s) - len(strings.TrimLeft(s, whitespace))
	lower := strings.ToLower(s[lead:min(len(s), lead+8)])
	w := &SpoolWriter{sp: sp, h: sha256.New()}
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return nil, nil
	case strings.HasPrefix(lower, "data:"):
		comma := strings.IndexByte(string(head), ',')
		if comma < 0 {
			return nil, nil
		}
		mediaType, start, err := parseDataURL(string(head[lead:comma+1]), lead)
		if err != nil {
			return nil, nil
		}
		w.mediaType, w.start = mediaType, int64(start)
	case strings.Contains(string(head), "://"):
		return nil, nil
	}
	tmp, err := CreateTemp(sp.dir, "deskconn-spool-*")
	if err != nil {
		return nil, fmt.Errorf("spool fileData: %w", err)
	}
	sp.mu.Lock()
	closed := sp.closed
	if !closed {
		sp.paths = append(sp.paths, tmp.Name())
	}
	sp.mu.Unlock()
	if closed {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("spool fileData: the request is over")
	}
	w.tmp = tmp
	w.bw = bufio.NewWriterSize(tmp, 32<<10)
	return w, nil
}

// SpoolWriter decodes one base64 fileData value as it is written, with the
// rules and messages of Open: whitespace is ignored, the URL-safe alphabet
// is accepted, padding may only end the text, and the first problem is an
// *Error naming its byte offset in the value. Decoded bytes go to a
// temporary file (up to the Spooler's cap; beyond it they are only
// counted) and into a SHA-256.
type SpoolWriter struct {
	sp        *Spooler
	mediaType string
	start     int64 // offset of the base64 payload in the value
	off       int64 // characters seen

	n     int64 // alphabet characters
	pad   int
	padAt int64
	err   *Error

	chars   [4096]byte // mapped characters not yet decoded (a multiple of 4 is decoded at once)
	nc      int
	dec     [3072]byte
	size    int64 // decoded bytes so far
	tmp     *os.File
	bw      *bufio.Writer
	h       hash.Hash
	over    bool // size passed the cap: bytes are counted, not kept
	ioErr   error
	settled bool
}

// Write consumes characters of the value. Problems with the content are
// reported by Finish (through the reference), never here: Write fails
// only when the temporary file cannot be written.
func (w *SpoolWriter) Write(p []byte) (int, error) {
	if w.ioErr != nil {
		return 0, w.ioErr
	}
	for i, c := range p {
		off := w.off + int64(i)
		if off < w.start || w.err != nil {
			continue
		}
		switch m := b64Table[c]; m {
		case classSpace:
		case classPad:
			if w.pad == 0 {
				w.padAt = off
			}
			w.pad++
			if w.pad > 2 {
				w.fail(off, "more than two '=' padding characters")
			}
		case classInvalid:
			w.fail(off, "unexpected "+describe(c))
		default:
			if w.pad > 0 {
				w.fail(off, "data after the '=' padding (padding may only end the text)")
				continue
			}
			w.n++
			w.chars[w.nc] = m
			w.nc++
			if w.nc == len(w.chars) {
				w.decode(w.nc)
			}
		}
	}
	w.off += int64(len(p))
	return len(p), w.ioErr
}

func (w *SpoolWriter) fail(off int64, what string) {
	w.err = invalidBase64(off, what)
	w.release()
}

// decode decodes the first k mapped characters (a multiple of 4, or the
// final rest) and keeps the bytes.
func (w *SpoolWriter) decode(k int) {
	n, err := base64.RawStdEncoding.Decode(w.dec[:], w.chars[:k])
	if err != nil { // cannot happen: the characters are mapped and the length checked
		w.ioErr = fmt.Errorf("spool fileData: decode: %w", err)
		return
	}
	copy(w.chars[:], w.chars[k:w.nc])
	w.nc -= k
	b := w.dec[:n]
	w.size += int64(n)
	if w.over {
		return
	}
	if w.size > w.sp.maxBytes {
		w.over = true
		w.release()
		return
	}
	w.h.Write(b)
	if _, err := w.bw.Write(b); err != nil {
		w.ioErr = fmt.Errorf("spool fileData: %w", err)
	}
}

// release drops the temporary file once its content is not needed.
func (w *SpoolWriter) release() {
	if w.tmp != nil {
		w.tmp.Close()
		os.Remove(w.tmp.Name())
		w.tmp, w.bw = nil, nil
	}
}

// Abort drops the value (the body broke off).
func (w *SpoolWriter) Abort() {
	w.settled = true
	w.release()
}

// Finish ends the value and returns its reference, which Open resolves to
// the spooled file or to the value's problem. Its error is an I/O error of
// the temporary file.
func (w *SpoolWriter) Finish() (string, error) {
	if w.settled {
		return "", fmt.Errorf("spool fileData: already finished")
	}
	w.settled = true
	if w.ioErr != nil {
		w.release()
		return "", w.ioErr
	}
	if w.err == nil {
		switch {
		case w.n%4 == 1:
			w.fail(w.off, fmt.Sprintf("the text ends after %d base64 characters, which no complete base64 text does (is it truncated?)", w.n))
		case w.pad > 0 && (w.n+int64(w.pad))%4 != 0:
			w.fail(w.padAt, "wrong '=' padding")
		}
	}
	if w.err == nil && w.nc > 0 {
		w.decode(w.nc)
	}
	if w.ioErr == nil && w.bw != nil {
		w.ioErr = w.bw.Flush()
	}
	if w.ioErr == nil && w.tmp != nil {
		w.ioErr = w.tmp.Close()
	}
	if w.ioErr != nil {
		w.release()
		return "", fmt.Errorf("spool fileData: %w", w.ioErr)
	}
	sp := w.sp
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.seq++
	e := &spooled{size: w.size, mediaType: w.mediaType, err: w.err}
	var ref string
	switch {
	case w.err != nil:
		ref = fmt.Sprintf("%s%d;invalid", refPrefix, sp.seq)
	case w.n == 0 && w.start == 0:
		e.err = &Error{Kind: ErrEmpty, Offset: -1, Message: "fileData is empty: send the file as base64, or an http(s) URL to fetch it from"}
		ref = fmt.Sprintf("%s%d;empty", refPrefix, sp.seq)
	case w.size == 0:
		e.err = &Error{Kind: ErrEmpty, Offset: -1, Message: "fileData decodes to an empty file: send the file's content as base64"}
		ref = fmt.Sprintf("%s%d;empty", refPrefix, sp.seq)
	case w.over:
		e.err = tooLarge(w.size, sp.maxBytes)
		ref = fmt.Sprintf("%s%d;size=%d;too-large", refPrefix, sp.seq, w.size)
	default:
		e.path = w.tmp.Name()
		ref = fmt.Sprintf("%s%d;sha256=%s;size=%d", refPrefix, sp.seq, hex.EncodeToString(w.h.Sum(nil)), w.size)
		if w.mediaType != "" {
			t := sha256.Sum256([]byte(w.mediaType))
			ref += ";type=" + hex.EncodeToString(t[:8])
		}
	}
	if sp.closed {
		w.release()
		return "", fmt.Errorf("spool fileData: the request is over")
	}
	sp.files[ref] = e
	return ref, nil
}

// open resolves ref; ok is false when ref is not one of sp's.
func (sp *Spooler) open(ref, fileName string, maxBytes int64) (f *File, ok bool, err error) {
	sp.mu.Lock()
	e, ok := sp.files[ref]
	closed := sp.closed
	sp.mu.Unlock()
	switch {
	case !ok:
		return nil, false, nil
	case e.err != nil:
		return nil, true, e.err
	case e.size > maxBytes:
		return nil, true, tooLarge(e.size, maxBytes)
	case closed:
		return nil, true, fmt.Errorf("open spooled fileData: the request is over")
	}
	fh, err := os.Open(e.path)
	if err != nil {
		return nil, true, fmt.Errorf("open spooled fileData: %w", err)
	}
	br := bufio.NewReaderSize(fh, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		fh.Close()
		return nil, true, fmt.Errorf("read spooled fileData: %w", err)
	}
	name := fileName
	if name == "" {
		name = "attachment"
	}
	return &File{
		Name:        name,
		ContentType: Sniff(e.mediaType, name, head),
		Size:        e.size,
		Body:        &readCloser{Reader: br, Closer: fh},
		Source:      SourceBase64,
	}, true, nil
}
