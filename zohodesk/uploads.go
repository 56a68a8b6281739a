package zohodesk

import (
	"context"
	"encoding/json"
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
// once.
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
	resp, err := s.client.do(ctx, &request{method: http.MethodPost, tmpl: "uploads", path: "uploads", orgID: orgID, withOrg: true, stream: multipartFile(fileName, r)}, u)
	if err != nil {
		return nil, resp, err
	}
	return u, resp, nil
}

// multipartFile returns a one-shot body: a pipe fed by a goroutine that
// writes r as the form part "file". The goroutine ends when r is drained or
// when the transport closes the pipe (request done or failed).
func multipartFile(fileName string, r io.Reader) func() (io.ReadCloser, string) {
	return func() (io.ReadCloser, string) {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		contentType := mw.FormDataContentType()
		go func() {
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
}
