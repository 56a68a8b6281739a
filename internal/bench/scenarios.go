package bench

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	segjson "github.com/segmentio/encoding/json"
)

// RefreshStormReport is the result of the refresh-storm scenario.
type RefreshStormReport struct {
	Actions int `json:"actions"`
	OK      int `json:"ok"`
	Errors  int `json:"errors"`
	// TokenEndpointCalls counts refresh-token grants the emulator received
	// during the storm (goal: 1).
	TokenEndpointCalls int     `json:"tokenEndpointCalls"`
	DurationMs         float64 `json:"durationMs"`
	FirstError         string  `json:"firstError,omitempty"`
}

func runRefreshStorm(ctx context.Context, cfg Config) (*RefreshStormReport, error) {
	s, err := NewStack(ctx, cfg.stackOptions())
	if err != nil {
		return nil, err
	}
	defer s.Close()
	input := json.RawMessage(`{"ticketId":"` + benchTicket + `"}`)
	if _, err := s.Invoke(ctx, "get_ticket", input); err != nil {
		return nil, fmt.Errorf("warm-up call: %w", err)
	}
	if err := s.ExpireAccessTokens(ctx); err != nil {
		return nil, err
	}
	before, err := s.TokenRequests(ctx)
	if err != nil {
		return nil, err
	}
	lat, errs, elapsed, first := runParallel(ctx, cfg.Storm, cfg.Storm, 2*time.Minute, func(ctx context.Context) error {
		_, err := s.Invoke(ctx, "get_ticket", input)
		return err
	})
	after, err := s.TokenRequests(ctx)
	if err != nil {
		return nil, err
	}
	return &RefreshStormReport{Actions: cfg.Storm, OK: len(lat), Errors: errs, TokenEndpointCalls: after - before,
		DurationMs: ms(elapsed), FirstError: errText(first)}, nil
}

// AttachmentGoalMiB is the attachment scenario's goal: the peak heap
// growth of one upload, by URL or by base64 through the REST API, stays
// under this many MiB whatever the file's size.
const AttachmentGoalMiB = 16

// AttachmentReport is the result of the attachment scenario.
type AttachmentReport struct {
	SizeMiB int `json:"sizeMiB"`
	// Path is how the uploads are sent: "rest", the REST API over loopback
	// HTTP, the body streamed from a file.
	Path string `json:"path"`
	// GoalMiB is AttachmentGoalMiB.
	GoalMiB float64         `json:"goalMiB"`
	Rows    []AttachmentRow `json:"rows"`
}

// AttachmentRow is one upload. PeakHeapGrowthMiB is the highest heap
// (objects, live or not yet collected) seen while the upload ran, minus the
// heap before it; AllocatedMiB is everything the process (client, server
// and the emulator's upload sink) allocated meanwhile.
type AttachmentRow struct {
	Source            string  `json:"source"` // "url" or "base64"
	Result            string  `json:"result"` // "ok" or the error
	DurationMs        float64 `json:"durationMs"`
	MBPerSec          float64 `json:"mbPerSec"`
	PeakHeapGrowthMiB float64 `json:"peakHeapGrowthMiB"`
	AllocatedMiB      float64 `json:"allocatedMiB"`
	// GoalMet: the upload succeeded with a peak heap growth under the goal.
	GoalMet bool `json:"goalMet"`
	// UploadedBytes is the file size the Desk upload endpoint received.
	UploadedBytes int64 `json:"uploadedBytes"`
}

// uploadPath matches the Desk upload routes the sink answers.
var uploadPath = regexp.MustCompile(`^/api/v1/(uploads|tickets/[0-9]+/attachments)$`)

// uploadSink answers Desk uploads itself, counting the file's bytes as it
// streams them: the in-process emulator keeps every uploaded file in
// memory, which would hide deskconn's own footprint in the same heap.
// Everything else goes to the emulator.
type uploadSink struct {
	next http.Handler
	mu   sync.Mutex
	last int64
}

func (u *uploadSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !uploadPath.MatchString(r.URL.Path) {
		u.next.ServeHTTP(w, r)
		return
	}
	n, name, err := countFilePart(r)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"errorCode":"INVALID_DATA","message":%q}`, err.Error())
		return
	}
	u.mu.Lock()
	u.last = n
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "1892000000900001", "name": name, "size": strconv.FormatInt(n, 10), "creatorId": "1892000000005002",
		"createdTime": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "isPublic": false, "previewurl": nil,
		"href": "http://" + r.Host + r.URL.Path + "/1892000000900001/content",
	})
}

func (u *uploadSink) lastSize() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

// countFilePart streams the multipart body and returns the size and name of
// its "file" part.
func countFilePart(r *http.Request) (int64, string, error) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return 0, "", fmt.Errorf("not multipart")
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return 0, "", fmt.Errorf("no file part")
		}
		if err != nil {
			return 0, "", err
		}
		if p.FormName() != "file" {
			continue
		}
		n, err := io.Copy(io.Discard, p)
		return n, p.FileName(), err
	}
}

func runAttachment(ctx context.Context, cfg Config) (*AttachmentReport, error) {
	size := int64(cfg.SizeMB) << 20
	dir, err := os.MkdirTemp("", "deskconn-bench-file-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "bench.bin")
	if err := writePattern(path, size); err != nil {
		return nil, err
	}
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeFile(w, r, path)
	}))
	defer files.Close()
	host, _, _ := net.SplitHostPort(strings.TrimPrefix(files.URL, "http://"))

	sink := &uploadSink{}
	opts := cfg.stackOptions()
	opts.MaxAttachmentBytes = max(size, 20<<20)
	opts.AllowLoopback = []string{strings.TrimPrefix(files.URL, "http://"), host}
	if opts.EmulatorURL == "" {
		opts.WrapEmulator = func(h http.Handler) http.Handler { sink.next = h; return sink }
	}
	s, err := NewStack(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()

	rep := &AttachmentReport{SizeMiB: cfg.SizeMB, Path: PathREST, GoalMiB: AttachmentGoalMiB}
	urlInput := filepath.Join(dir, "url.json")
	if err := os.WriteFile(urlInput, fmt.Appendf(nil, `{"ticketId":%q,"fileName":"bench.bin","fileData":%q}`, benchTicket, files.URL+"/bench.bin"), 0o600); err != nil {
		return nil, err
	}
	rep.Rows = append(rep.Rows, measureUpload(ctx, s, "url", size, urlInput, sink))

	b64Input := filepath.Join(dir, "base64.json")
	if err := writeBase64Input(b64Input, path); err != nil {
		return nil, err
	}
	rep.Rows = append(rep.Rows, measureUpload(ctx, s, "base64", size, b64Input, sink))
	return rep, nil
}

// writeBase64Input writes create_ticket_attachment's input with the file at
// path inline as base64 to out, streaming (it is the caller's input, sent
// from disk so that the client holds none of it).
func writeBase64Input(out, path string) error {
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read test file: %w", err)
	}
	defer in.Close()
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("write base64 input: %w", err)
	}
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, `{"ticketId":%q,"fileName":"bench.bin","fileData":"`, benchTicket)
	enc := base64.NewEncoder(base64.StdEncoding, bw)
	_, err = io.Copy(enc, in)
	if err == nil {
		err = enc.Close()
	}
	if err == nil {
		_, err = bw.WriteString(`"}`)
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write base64 input: %w", err)
	}
	return nil
}

// postAction POSTs the JSON input in the file at path to the REST API,
// streaming it from disk, and returns an error naming the problem for any
// answer but 200.
func (s *Stack) postAction(ctx context.Context, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.ServerURL+"/v1/connections/"+s.Connection.ID+"/actions/"+name, f)
	if err != nil {
		return err
	}
	req.ContentLength = st.Size()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.APIKey.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var p struct {
		Detail string `json:"detail"`
	}
	if resp.StatusCode != http.StatusOK {
		_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&p)
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, p.Detail)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// writePattern writes size bytes of a repeating pattern to path.
func writePattern(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create test file: %w", err)
	}
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte(i * 31)
	}
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return fmt.Errorf("write test file: %w", err)
		}
		left -= n
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write test file: %w", err)
	}
	return nil
}

func measureUpload(ctx context.Context, s *Stack, source string, size int64, input string, sink *uploadSink) AttachmentRow {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	read := func() (heap, allocs uint64) {
		metrics.Read(samples)
		return samples[0].Value.Uint64(), samples[1].Value.Uint64()
	}
	runtime.GC()
	base, alloc0 := read()
	peak := base
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if h, _ := read(); h > peak {
					peak = h
				}
			}
		}
	}()
	start := time.Now()
	err := s.postAction(ctx, "create_ticket_attachment", input)
	elapsed := time.Since(start)
	close(stop)
	<-done
	h, alloc1 := read()
	peak = max(peak, h)
	row := AttachmentRow{Source: source, Result: "ok", DurationMs: ms(elapsed),
		PeakHeapGrowthMiB: float64(peak-base) / (1 << 20), AllocatedMiB: float64(alloc1-alloc0) / (1 << 20)}
	if peak < base {
		row.PeakHeapGrowthMiB = 0
	}
	if err != nil {
		row.Result = errText(err)
		return row
	}
	row.UploadedBytes = sink.lastSize()
	if sink.next == nil {
		row.UploadedBytes = size // an external emulator: trust the success
	}
	if elapsed > 0 {
		row.MBPerSec = float64(size) / (1 << 20) / elapsed.Seconds()
	}
	row.GoalMet = row.UploadedBytes == size && row.PeakHeapGrowthMiB < AttachmentGoalMiB
	return row
}

// ExportReport is the result of the export scenario.
type ExportReport struct {
	// Tickets is the org's ticket count (extra tickets plus the seed).
	Tickets    int          `json:"tickets"`
	PageByPage ExportMethod `json:"pageByPage"`
	All        ExportMethod `json:"all"`
	// Speedup is PageByPage.DurationMs / All.DurationMs.
	Speedup float64 `json:"speedup"`
}

// ExportMethod is one way of listing every ticket.
type ExportMethod struct {
	Tickets    int     `json:"tickets"`
	DeskCalls  int     `json:"deskCalls"`
	Actions    int     `json:"actions"`
	DurationMs float64 `json:"durationMs"`
}

func runExport(ctx context.Context, cfg Config) (*ExportReport, error) {
	opts := cfg.stackOptions()
	opts.ExtraTickets = cfg.Tickets
	s, err := NewStack(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	rep := &ExportReport{Tickets: cfg.Tickets + seedTicketsOf}
	if s.Emulator != nil {
		rep.Tickets = s.Emulator.TicketCount(s.OrgID)
	}
	if rep.PageByPage, err = export(ctx, s, false); err != nil {
		return nil, fmt.Errorf("page by page: %w", err)
	}
	if rep.All, err = export(ctx, s, true); err != nil {
		return nil, fmt.Errorf("all: true: %w", err)
	}
	if s.Emulator == nil {
		rep.Tickets = rep.PageByPage.Tickets // an external emulator's own count
	}
	if rep.All.Tickets != rep.PageByPage.Tickets {
		return rep, fmt.Errorf("%w: %d page by page, %d with all: true", errMismatch, rep.PageByPage.Tickets, rep.All.Tickets)
	}
	if rep.All.DurationMs > 0 {
		rep.Speedup = rep.PageByPage.DurationMs / rep.All.DurationMs
	}
	return rep, nil
}

// export lists every ticket with list_tickets, one page (100) per call or
// with all: true (several pages per call, up to its cap), following
// nextFrom until there is no more.
func export(ctx context.Context, s *Stack, all bool) (ExportMethod, error) {
	before, err := s.deskListCalls(ctx)
	if err != nil {
		return ExportMethod{}, err
	}
	var m ExportMethod
	seen := map[string]bool{}
	start := time.Now()
	for from := 0; ; {
		in := fmt.Sprintf(`{"params":{"from":%d,"limit":100}}`, from)
		if all {
			in = fmt.Sprintf(`{"all":true,"params":{"from":%d}}`, from)
		}
		raw, err := s.Invoke(ctx, "list_tickets", json.RawMessage(in))
		if err != nil {
			return m, err
		}
		m.Actions++
		// The client's decoding is not deskconn's work: it decodes only
		// what it uses (ids and paging), in one pass with segmentio's
		// decoder, to keep it small next to what is measured.
		var out struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			Count    int  `json:"count"`
			HasMore  bool `json:"hasMore"`
			NextFrom *int `json:"nextFrom"`
		}
		if err := segjson.Unmarshal(raw, &out); err != nil {
			return m, fmt.Errorf("decode list_tickets: %w", err)
		}
		for _, row := range out.Data {
			if row.ID != "" {
				seen[row.ID] = true
			}
		}
		m.Tickets += out.Count
		if !out.HasMore || out.NextFrom == nil || out.Count == 0 {
			break
		}
		from = *out.NextFrom
	}
	m.DurationMs = ms(time.Since(start))
	after, err := s.deskListCalls(ctx)
	if err != nil {
		return m, err
	}
	m.DeskCalls = after - before
	if len(seen) != m.Tickets {
		return m, fmt.Errorf("%d rows but %d distinct ticket ids: pages overlap or repeat", m.Tickets, len(seen))
	}
	return m, nil
}

// deskListCalls counts GET /api/v1/tickets requests the emulator received.
func (s *Stack) deskListCalls(ctx context.Context) (int, error) {
	var c struct {
		Requests map[string]int
	}
	if err := s.adminDo(ctx, http.MethodGet, "counters", nil, &c); err != nil {
		return 0, err
	}
	return c.Requests["GET /api/v1/tickets"], nil
}

// FanInReport is the result of the fan-in scenario.
type FanInReport struct {
	Actions int `json:"actions"`
	// EmulatorLimit is the emulator's per-org concurrency limit (0: an
	// external emulator's own).
	EmulatorLimit int `json:"emulatorLimit"`
	OK            int `json:"ok"`
	Errors        int `json:"errors"`
	// TooManyRequests counts the emulator's 429 TOO_MANY_REQUESTS answers
	// during the run (goal: 0).
	TooManyRequests int     `json:"tooManyRequests"`
	DurationMs      float64 `json:"durationMs"`
	Throughput      float64 `json:"throughputPerSec"`
	FirstError      string  `json:"firstError,omitempty"`
}

func runFanIn(ctx context.Context, cfg Config) (*FanInReport, error) {
	opts := cfg.stackOptions()
	opts.MaxConcurrent = cfg.FanInLimit
	s, err := NewStack(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	input := json.RawMessage(`{"ticketId":"` + benchTicket + `"}`)
	if _, err := s.Invoke(ctx, "get_ticket", input); err != nil {
		return nil, fmt.Errorf("warm-up call: %w", err)
	}
	start := time.Now()
	lat, errs, elapsed, first := runParallel(ctx, cfg.FanIn, cfg.FanIn, 2*time.Minute, func(ctx context.Context) error {
		_, err := s.Invoke(ctx, "get_ticket", input)
		return err
	})
	recs, err := s.Requests(ctx)
	if err != nil {
		return nil, err
	}
	rep := &FanInReport{Actions: cfg.FanIn, OK: len(lat), Errors: errs, DurationMs: ms(elapsed), FirstError: errText(first)}
	if opts.EmulatorURL == "" {
		rep.EmulatorLimit = cfg.FanInLimit
	}
	for _, r := range recs {
		if !r.Time.Before(start.Add(-time.Second)) && r.ErrorCode == "TOO_MANY_REQUESTS" {
			rep.TooManyRequests++
		}
	}
	if elapsed > 0 {
		rep.Throughput = float64(len(lat)) / elapsed.Seconds()
	}
	return rep, nil
}
