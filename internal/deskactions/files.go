package deskactions

import (
	"context"
	"errors"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/filedata"
)

// openFile opens an inline file (URL through the SSRF guard, or base64) and
// checks its size against the cap before anything is uploaded. Problems
// with the file are invalid errors on at+"/fileData". The caller closes the
// body.
func openFile(ctx context.Context, deps Deps, f FileInput, at string) (*filedata.File, error) {
	file, err := filedata.Open(ctx, f.FileData, f.FileName, deps.Files)
	if err != nil {
		return nil, fileError(err, at+"/fileData")
	}
	file.Name = f.FileName
	return file, nil
}

// fileError turns a filedata error (also one raised mid-stream, inside a
// failed upload) into an invalid error on pointer; other errors pass.
func fileError(err error, pointer string) error {
	fe, ok := filedata.FieldError(pointer, err)
	if !ok {
		return err
	}
	var de *filedata.Error
	errors.As(err, &de)
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
	u, resp, err := call.Desk.Uploads.Create(ctx, org, f.Name, f.Body)
	if resp != nil {
		call.SetRequestID(resp.RequestID)
	}
	if err != nil {
		return "", fileError(err, at+"/fileData")
	}
	return u.ID, nil
}
