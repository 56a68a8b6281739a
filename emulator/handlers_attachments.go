package emulator

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
)

// filePart is the "file" part of a multipart body, or why there is none.
type filePart struct {
	name, contentType string
	data              []byte
	err               error // errUnsupportedMedia, errTooLarge, errNoFile or a parse error
}

// readFilePart reads the multipart part named "file" of r's body, enforcing
// limit (MaxAttachmentBytes). It does I/O and must be called without the
// state lock held.
func readFilePart(r *http.Request, limit int64) filePart {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return filePart{err: errUnsupportedMedia}
	}
	name, contentType, data, err := parseFilePart(io.LimitReader(r.Body, limit+64<<10), params["boundary"], limit)
	return filePart{name: name, contentType: contentType, data: data, err: err}
}

// filePart returns the file read by readRequestBody; when there is none it
// writes Zoho's error (415, 413, 422 or 400) and returns false. It does no
// I/O, so handlers call it under the state lock.
func (c *call) filePart() (name, contentType string, data []byte, ok bool) {
	switch err := c.file.err; {
	case errors.Is(err, errLengthRequired):
		// [I] Zoho documents no such answer; this is the HTTP status of a
		// front end that wants a length (Options.RequireUploadLength).
		writeZohoError(c.out, http.StatusLengthRequired, "LENGTH_REQUIRED", "The request must carry a Content-Length.", nil)
		return "", "", nil, false
	case errors.Is(err, errUnsupportedMedia):
		writeZohoError(c.out, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "", nil)
		return "", "", nil, false
	case errors.Is(err, errTooLarge):
		writeZohoError(c.out, http.StatusRequestEntityTooLarge, "RESOURCE_SIZE_EXCEEDED", "", nil)
		return "", "", nil, false
	case errors.Is(err, errNoFile):
		invalidData(c.out, []fieldError{{FieldName: "/file", ErrorType: "missing"}})
		return "", "", nil, false
	case err != nil:
		writeZohoError(c.out, http.StatusBadRequest, "BAD_REQUEST", "The multipart body is malformed.", nil)
		return "", "", nil, false
	}
	return c.file.name, c.file.contentType, c.file.data, true
}

var (
	errTooLarge         = errors.New("body too large")
	errNoFile           = errors.New("no file part")
	errUnsupportedMedia = errors.New("not a multipart/form-data body")
	errLengthRequired   = errors.New("no Content-Length")
)

// parseFilePart returns the first part named "file" of a multipart body.
func parseFilePart(r io.Reader, boundary string, limit int64) (name, contentType string, data []byte, err error) {
	mr := multipart.NewReader(r, boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return "", "", nil, errNoFile
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return "", "", nil, errTooLarge
			}
			return "", "", nil, err
		}
		if p.FormName() != "file" {
			continue
		}
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(p, limit+1))
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return "", "", nil, errTooLarge
			}
			return "", "", nil, err
		}
		if n > limit {
			return "", "", nil, errTooLarge
		}
		name = p.FileName()
		if name == "" {
			name = "file"
		}
		ct := p.Header.Get("Content-Type")
		if ct == "" {
			ct = "application/octet-stream"
		}
		return name, ct, buf.Bytes(), nil
	}
}

func (c *call) attachmentJSON(a *attachment, creator bool) map[string]any {
	m := map[string]any{"id": a.ID, "name": a.Name, "size": strconv.Itoa(len(a.Data)), "creatorId": a.CreatorID,
		"createdTime": ts(a.Created), "isPublic": a.IsPublic, "previewurl": nil,
		"href": c.deskBase() + "/api/v1/tickets/" + a.TicketID + "/attachments/" + a.ID + "/content"}
	if creator {
		var v any
		if ag := c.org.agents[a.CreatorID]; ag != nil {
			v = map[string]any{"id": ag.ID, "firstName": ns(ag.FirstName), "lastName": ag.LastName, "email": ag.Email, "photoURL": nil}
		}
		m["creator"] = v
	}
	return m
}

func (e *Emulator) createAttachment(c *call) {
	public, _, ok := c.boolParam("isPublic")
	if !ok {
		return
	}
	t := c.org.tickets[c.vars["id"]]
	if t == nil || t.Trashed {
		notFound(c.out)
		return
	}
	name, ct, data, ok := c.filePart() // read before the lock was taken
	if !ok {
		return
	}
	a := &attachment{ID: c.org.newID(), TicketID: t.ID, Name: name, ContentType: ct, CreatorID: c.agentID(), IsPublic: public, Created: c.now, Data: data}
	c.org.attachments[t.ID] = append(c.org.attachments[t.ID], a)
	c.org.attByID[a.ID] = a
	t.Modified = c.now
	c.out.json(http.StatusOK, c.attachmentJSON(a, false))
}

func (e *Emulator) listAttachments(c *call) {
	from, limit, ok := c.paging(10, 100, false)
	if !ok {
		return
	}
	pub, pubSet, ok := c.boolParam("isPublic")
	if !ok {
		return
	}
	sortBy, ok := c.enumParam("sortBy", "createdTime", "-createdTime")
	if !ok {
		return
	}
	inc, ok := c.includeParam("creator")
	if !ok {
		return
	}
	t := c.org.tickets[c.vars["id"]]
	if t == nil || t.Trashed {
		notFound(c.out)
		return
	}
	var list []*attachment
	for _, a := range c.org.attachments[t.ID] {
		if !pubSet || a.IsPublic == pub {
			list = append(list, a)
		}
	}
	if sortBy == "-createdTime" {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	lo, hi := window(len(list), from, limit)
	items := make([]any, 0, hi-lo)
	for _, a := range list[lo:hi] {
		items = append(items, c.attachmentJSON(a, inc["creator"]))
	}
	writePage(c.out, items, nil)
}

func (e *Emulator) attachmentContent(c *call) {
	t := c.org.tickets[c.vars["id"]]
	a := c.org.attByID[c.vars["att"]]
	if t == nil || t.Trashed || a == nil || a.TicketID != t.ID {
		notFound(c.out)
		return
	}
	c.out.status = http.StatusOK
	c.out.header.Set("Content-Type", a.ContentType)
	c.out.header.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
	c.out.body = append([]byte{}, a.Data...)
}

func (e *Emulator) upload(c *call) {
	name, ct, data, ok := c.filePart() // read before the lock was taken
	if !ok {
		return
	}
	a := &attachment{ID: c.org.newID(), Name: name, ContentType: ct, CreatorID: c.agentID(), Created: c.now, Data: data}
	c.org.uploads[a.ID] = a
	// [GAP] the upload object's href; ours points at the Desk uploads path.
	c.out.json(http.StatusOK, map[string]any{"id": a.ID, "name": a.Name, "size": strconv.Itoa(len(data)), "creatorId": a.CreatorID,
		"createdTime": ts(a.Created), "previewurl": nil, "href": c.deskBase() + "/api/v1/uploads/" + a.ID + "/content"})
}
