package zohodesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
)

// UploadsService uploads files to Desk as temporary attachments, whose ids
// go into TicketCreateRequest.Uploads.
type UploadsService service

// Upload is an uploaded temporary file. Size is a decimal string. Raw keeps
// Zoho's whole object.
type Upload struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	FileName    string `json:"fileName,omitempty"`
	Size        string `json:"size,omitempty"`
	CreatorID   string `json:"creatorId,omitempty"`
	CreatedTime string `json:"createdTime,omitempty"`
	Href        string `json:"href,omitempty"`
	PreviewURL  string `json:"previewurl,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes u and keeps the whole object in Raw.
func (u *Upload) UnmarshalJSON(b []byte) error {
	type plain Upload
	if err := decodeLenient(b, (*plain)(u)); err != nil {
		return err
	}
	u.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Create uploads the content of r as fileName, streamed as the multipart
// part "file" (the file is never held in memory). The request carries a
// Content-Length when the size of r is known (see Sized): front ends that
// enforce size limits early may refuse a body without one (fidelity audit
// row 3), so give it. The request is never retried, and not resent after a
// token refresh, because r can be read only once: after a 401 INVALID_OAUTH
// followed by a successful refresh the *APIError has Refreshed set, and the
// caller may call Create again with the content opened afresh. Create has
// stopped reading r when it returns.
//
//desk:operation POST /api/v1/uploads
func (s *UploadsService) Create(ctx context.Context, orgID, fileName string, r io.Reader) (*Upload, *Response, error) {
	if err := needOrg(orgID); err != nil {
		return nil, nil, err
	}
	if fileName == "" || r == nil {
		return nil, nil, invalidf("upload: fileName and content are required")
	}
	u := new(Upload)
	open, stop, err := multipartFile(fileName, r)
	if err != nil {
		return nil, nil, err
	}
	defer stop()
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "uploads", path: "uploads", orgID: orgID, withOrg: true, stream: open}, u)
	if err != nil {
		return nil, resp, err
	}
	return u, resp, nil
}

// Sized returns r, whose content is exactly size bytes, so that an upload
// of it (Uploads.Create, TicketAttachments.Create) sends a Content-Length.
// The upload fails, and Zoho receives an incomplete body that it cannot
// store, if r turns out shorter or longer than size. Readers with a Len
// method (*bytes.Reader, *strings.Reader, *bytes.Buffer) need no wrapping.
func Sized(r io.Reader, size int64) io.Reader {
	return &sizedReader{Reader: r, size: size}
}

type sizedReader struct {
	io.Reader
	size int64
}

// contentSize returns the exact size of r when it is known.
func contentSize(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case *sizedReader:
		return v.size, v.size >= 0
	case interface{ Len() int }:
		return int64(v.Len()), true
	}
	return 0, false
}

// errUploadEnded closes an upload's pipe once the call is over.
var errUploadEnded = errors.New("zohodesk: upload request ended")

// errUploadSize fails an upload whose content is not the size it declared.
var errUploadSize = errors.New("zohodesk: upload content is not the declared size")

// multipartFile returns a one-shot body (open: a pipe fed by a goroutine
// that writes r as the form part "file", with the body's exact length, or
// -1 when the size of r is unknown) and stop, which the caller runs when
// the request is over: it closes the pipe and waits for the goroutine, so
// that r is never read after the call returns (the caller may then close
// r's source or open it again for a retry). If a Read of r is blocked, stop
// waits for it to return.
//
// With a known size the multipart framing (part header and closing
// boundary, a few hundred bytes) is built in memory up front, so the
// length is exact, and the content streams between them: memory stays flat
// whatever the file's size. Content shorter or longer than its size fails
// the body before the closing boundary, so Zoho never receives a complete
// request with a truncated file.
func multipartFile(fileName string, r io.Reader) (open func() (io.ReadCloser, string, int64), stop func(), err error) {
	size, known := contentSize(r)
	if sr, ok := r.(*sizedReader); ok {
		r = sr.Reader
	}
	var head, tail bytes.Buffer
	mw := multipart.NewWriter(&head)
	if _, err := mw.CreateFormFile("file", fileName); err != nil {
		return nil, nil, fmt.Errorf("zohodesk: upload: build multipart header: %w", err)
	}
	headLen := head.Len()
	if err := mw.Close(); err != nil {
		return nil, nil, fmt.Errorf("zohodesk: upload: build multipart trailer: %w", err)
	}
	tail.Write(head.Bytes()[headLen:])
	head.Truncate(headLen)
	contentType := mw.FormDataContentType()
	length := int64(-1)
	if known {
		length = int64(head.Len()) + size + int64(tail.Len())
	}
	var (
		pr   *io.PipeReader
		done chan struct{}
	)
	open = func() (io.ReadCloser, string, int64) {
		var pw *io.PipeWriter
		pr, pw = io.Pipe()
		done = make(chan struct{})
		go func() {
			defer close(done)
			_, err := pw.Write(head.Bytes())
			if err == nil {
				err = copyContent(pw, r, size, known)
			}
			if err == nil {
				_, err = pw.Write(tail.Bytes())
			}
			pw.CloseWithError(err)
		}()
		return pr, contentType, length
	}
	stop = func() {
		if pr == nil {
			return // never opened
		}
		pr.CloseWithError(errUploadEnded)
		<-done
	}
	return open, stop, nil
}

// copyContent copies r to w: all of it when the size is unknown, else
// exactly size bytes, failing with errUploadSize when r holds fewer or more.
func copyContent(w io.Writer, r io.Reader, size int64, known bool) error {
	if !known {
		_, err := io.Copy(w, r)
		return err
	}
	n, err := io.CopyN(w, r, size)
	if err == io.EOF {
		return fmt.Errorf("%w: %d bytes, %d declared", errUploadSize, n, size)
	}
	if err != nil {
		return err
	}
	var probe [1]byte
	for {
		m, err := r.Read(probe[:])
		if m > 0 {
			return fmt.Errorf("%w: more than %d bytes", errUploadSize, size)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
