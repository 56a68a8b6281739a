package deskactions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/filedata"
	"github.com/deskconn/deskconn/zohodesk"
)

// openFile opens an inline file (URL through the SSRF guard, or base64) and
// checks its size against the cap before anything is uploaded. Problems
// with the file are invalid errors on at+"/fileData". The caller closes the
// body. The returned file's Size is always known (base64: from the encoded
// length; URL: the server's Content-Length, or the file is spooled to disk),
// so every upload sends a Content-Length (zohodesk.Sized): Zoho's front end
// may refuse a body without one (fidelity audit row 3).
func openFile(ctx context.Context, deps Deps, f FileInput, at string) (*filedata.File, error) {
	file, err := filedata.Open(ctx, f.FileData, f.FileName, deps.Files)
	if err != nil {
		return nil, fileError(err, at+"/fileData")
	}
	file.Name = f.FileName
	if file.Size < 0 {
		// The server did not say how large the file is: spool it to a
		// temporary file (on disk, never whole in memory) so that a file
		// over the cap is refused before any byte is uploaded.
		if err := spool(file, deps.Files.MaxBytes); err != nil {
			return nil, fileError(err, at+"/fileData")
		}
	}
	return file, nil
}

// spool copies f's body to a temporary file, at most maxBytes (0: the
// filedata default), and makes f read from it with its size known. The
// temporary file is removed when f.Body is closed.
func spool(f *filedata.File, maxBytes int64) error {
	defer f.Body.Close()
	if maxBytes <= 0 {
		maxBytes = egress.DefaultMaxBytes
	}
	tmp, err := filedata.CreateTemp("", "deskconn-upload-*")
	if err != nil {
		return fmt.Errorf("spool upload: %w", err)
	}
	// The body enforces the cap itself (a read error once it is passed);
	// the limit here is a second guard.
	n, err := io.Copy(tmp, io.LimitReader(f.Body, maxBytes+1))
	if err == nil && n > maxBytes {
		err = &filedata.Error{Kind: filedata.ErrTooLarge, Offset: -1,
			Message: fmt.Sprintf("fileData is larger than the %d-byte limit: send a smaller file", maxBytes)}
	}
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	f.Body = &tempFile{File: tmp}
	f.Size = n
	return nil
}

// tempFile removes itself when closed.
type tempFile struct{ *os.File }

func (t *tempFile) Close() error {
	err := t.File.Close()
	if rerr := os.Remove(t.Name()); err == nil {
		err = rerr
	}
	return err
}

// fileError turns a filedata error (also one raised mid-stream, inside a
// failed upload) into an invalid error on pointer; other errors pass.
func fileError(err error, pointer string) error {
	fe, ok := filedata.FieldError(pointer, err)
	if !ok {
		return err
	}
	return &deskconn.Error{Code: deskconn.CodeInvalid, Message: fe.Message, Fields: []deskconn.FieldError{fe}, Err: err}
}

// filePlan describes a multipart file part for a dry run: its name, size,
// type and source, never its content.
func filePlan(f *filedata.File) map[string]any {
	return map[string]any{"multipart": map[string]any{"file": map[string]any{
		"fileName": f.Name, "size": f.Size, "contentType": f.ContentType, "source": f.Source,
	}}}
}

// uploadPlan is the dry-run form of an upload for create_ticket.
func uploadPlan(org string, f *filedata.File) action.PlannedRequest {
	return action.PlannedRequest{Method: "POST", Path: "/uploads", Header: orgHeader(org), Body: filePlan(f)}
}

// uploadFile uploads an inline file to /uploads and returns its id.
func uploadFile(ctx context.Context, deps Deps, call *action.Call, org string, in FileInput, at string) (string, error) {
	f, err := openFile(ctx, deps, in, at)
	if err != nil {
		return "", err
	}
	defer f.Body.Close()
	u, err := sendFile(ctx, deps, in, at, f, func(f *filedata.File) (*zohodesk.Upload, error) {
		u, resp, err := call.Desk.Uploads.Create(ctx, org, f.Name, zohodesk.Sized(f.Body, f.Size))
		if resp != nil {
			call.SetRequestID(resp.RequestID)
		}
		return u, err
	})
	if err != nil {
		return "", fileError(err, at+"/fileData")
	}
	return u.ID, nil
}

// sendFile calls send with the opened file f. The client cannot resend a
// streamed upload after refreshing an access token that died mid-call, so
// when send fails with 401 INVALID_OAUTH after the client refreshed the
// token (zohodesk.APIError.Refreshed; Zoho refused the request, so nothing
// was stored), the file is opened again from in (base64 is re-read, a URL
// is fetched again through the SSRF guard) and send runs exactly once more.
// The caller still closes f; the reopened file is closed here.
func sendFile[T any](ctx context.Context, deps Deps, in FileInput, at string, f *filedata.File, send func(*filedata.File) (T, error)) (T, error) {
	out, err := send(f)
	var ae *zohodesk.APIError
	if err == nil || !errors.As(err, &ae) || !ae.Refreshed {
		return out, err
	}
	g, oerr := openFile(ctx, deps, in, at)
	if oerr != nil {
		return out, oerr
	}
	defer g.Body.Close()
	return send(g)
}
