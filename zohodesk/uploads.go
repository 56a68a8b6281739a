package zohodesk

import (
	"context"
	"encoding/json"
	"errors"
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
// part "file" (the file is never held in memory). The request is never
// retried, and not resent after a token refresh, because r can be read only
// once: after a 401 INVALID_OAUTH followed by a successful refresh the
// *APIError has Refreshed set, and the caller may call Create again with
// the content opened afresh. Create has stopped reading r when it returns.
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
	open, stop := multipartFile(fileName, r)
	defer stop()
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "uploads", path: "uploads", orgID: orgID, withOrg: true, stream: open}, u)
	if err != nil {
		return nil, resp, err
	}
	return u, resp, nil
}

// errUploadEnded closes an upload's pipe once the call is over.
var errUploadEnded = errors.New("zohodesk: upload request ended")

// multipartFile returns a one-shot body (open: a pipe fed by a goroutine
// that writes r as the form part "file") and stop, which the caller runs
// when the request is over: it closes the pipe and waits for the goroutine,
// so that r is never read after the call returns (the caller may then
// close r's source or open it again for a retry). If a Read of r is
// blocked, stop waits for it to return.
func multipartFile(fileName string, r io.Reader) (open func() (io.ReadCloser, string), stop func()) {
	var (
		pr   *io.PipeReader
		done chan struct{}
	)
	open = func() (io.ReadCloser, string) {
		var pw *io.PipeWriter
		pr, pw = io.Pipe()
		done = make(chan struct{})
		mw := multipart.NewWriter(pw)
		contentType := mw.FormDataContentType()
		go func() {
			defer close(done)
			part, err := mw.CreateFormFile("file", fileName)
			if err == nil {
				_, err = io.Copy(part, r)
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr, contentType
	}
	stop = func() {
		if pr == nil {
			return // never opened
		}
		pr.CloseWithError(errUploadEnded)
		<-done
	}
	return open, stop
}
