package mcpserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/filedata"
)

type uploadIn struct {
	action.WriteOptions
	FileData string `json:"fileData" schema:"minLength=1"`
	FileName string `json:"fileName" schema:"minLength=1"`
}

type uploadOut struct {
	Spooled bool  `json:"spooled"`
	Size    int64 `json:"size"`
	Same    bool  `json:"same"`
}

// A large base64 fileData in a tool call reaches the action as a spooled
// file (a short reference), not as a string held with the arguments; a
// small one stays inline; both open to the same bytes.
func TestToolCallSpoolsLargeFileData(t *testing.T) {
	t.Parallel()
	var want []byte
	reg := action.NewRegistry(action.Options{})
	reg.Add(action.Define("upload_thing", action.Info{Title: "Upload", Description: "Uploads a file.", Write: true},
		func(ctx context.Context, _ *action.Call, in uploadIn) (uploadOut, error) {
			f, err := filedata.Open(ctx, in.FileData, in.FileName, filedata.Options{})
			if fe, ok := filedata.FieldError("/fileData", err); ok {
				return uploadOut{}, deskconn.Invalid("the file cannot be read", fe)
			}
			if err != nil {
				return uploadOut{}, err
			}
			defer f.Body.Close()
			got, err := io.ReadAll(f.Body)
			if err != nil {
				return uploadOut{}, err
			}
			return uploadOut{Spooled: filedata.IsRef(in.FileData), Size: int64(len(got)), Same: bytes.Equal(got, want)}, nil
		}))
	cs := connect(t, New(reg, fixedResolver(toyTarget), nil))

	for _, tc := range []struct {
		size    int
		spooled bool
	}{{size: 1 << 10, spooled: false}, {size: 256 << 10, spooled: true}} {
		want = make([]byte, tc.size)
		rand.Read(want)
		args, _ := json.Marshal(uploadIn{FileData: base64.StdEncoding.EncodeToString(want), FileName: "a.bin"})
		res := call(t, cs, "upload_thing", string(args))
		if res.IsError {
			t.Fatalf("size %d: %s", tc.size, text(t, res))
		}
		var out uploadOut
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("size %d: %v in %s", tc.size, err, text(t, res))
		}
		if out.Spooled != tc.spooled || out.Size != int64(tc.size) || !out.Same {
			t.Errorf("size %d: got %+v, want spooled=%v and the same %d bytes", tc.size, out, tc.spooled, tc.size)
		}
	}

	// A malformed large value is refused with its offset, as over REST.
	bad := strings.Repeat("A", filedata.SpoolThreshold) + "!!!!"
	res := call(t, cs, "upload_thing", `{"fileData":"`+bad+`","fileName":"a.bin"}`)
	if !res.IsError || !strings.Contains(text(t, res), "fileData") {
		t.Errorf("malformed base64: got %s, want an error naming fileData", text(t, res))
	}
}
