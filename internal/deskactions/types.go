package deskactions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// StringList is a list of strings that accepts, on input, either a JSON array
// of strings or one string of comma-separated values ("contacts,assignee").
// It always marshals as an array. Empty items (",,") are dropped.
type StringList []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*l = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = splitList(s)
		return nil
	}
	var items []string
	if err := json.Unmarshal(b, &items); err != nil {
		return errors.New("must be an array of strings or a comma-separated string")
	}
	out := make(StringList, 0, len(items))
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	*l = out
	return nil
}

// Join returns the items joined by commas, the form Zoho's query parameters
// take.
func (l StringList) Join() string { return strings.Join(l, ",") }

func splitList(s string) StringList {
	var out StringList
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// FileInput is a file given inline: a name and its content as an http(s) URL
// or base64 (standard or URL-safe alphabet, with or without a data: prefix).
type FileInput struct {
	FileName string `json:"fileName" jsonschema:"Name of the file as it should appear in Zoho Desk, with its extension (e.g. error_screenshot.png)."`
	FileData string `json:"fileData" jsonschema:"The file: an http(s) URL to fetch it from, or its content in base64 (a data: URL prefix is allowed)."`
}

// UploadRef is one entry of create_ticket's payload.uploads: either the id of
// a file uploaded to Zoho Desk earlier (a JSON string), or a file to upload
// first (a JSON object {fileName, fileData}).
type UploadRef struct {
	// ID is set when the entry was a string.
	ID string
	// File is set when the entry was an object.
	File *FileInput
}

// UnmarshalJSON implements json.Unmarshaler; unknown keys of the object form
// are refused.
func (u *UploadRef) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*u = UploadRef{}
		return json.Unmarshal(b, &u.ID)
	}
	if len(b) == 0 || b[0] != '{' {
		return errors.New("must be an upload id (string) or an object {fileName, fileData}")
	}
	var f FileInput
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("upload object: %w", err)
	}
	*u = UploadRef{File: &f}
	return nil
}

// MarshalJSON implements json.Marshaler: the id as a string, or the file
// object, so that the input round-trips (the registry hashes inputs for
// idempotency: two different files must not look alike).
func (u UploadRef) MarshalJSON() ([]byte, error) {
	if u.File != nil {
		return json.Marshal(u.File)
	}
	return json.Marshal(u.ID)
}

// typeSchemas returns the schemas of this package's union types, for the
// registry (action.Info.TypeSchemas). The action validator implements no
// anyOf, so each union is one schema with several types whose keywords only
// apply to their own type.
func typeSchemas() map[reflect.Type]*jsonschema.Schema {
	return map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[StringList](): {
			Types:       []string{"array", "string"},
			Items:       &jsonschema.Schema{Type: "string", MinLength: jsonschema.Ptr(1)},
			Description: "An array of strings, or one string of comma-separated values.",
		},
		reflect.TypeFor[UploadRef](): {
			Types: []string{"string", "object"},
			Properties: map[string]*jsonschema.Schema{
				"fileName": {Type: "string", MinLength: jsonschema.Ptr(1), MaxLength: jsonschema.Ptr(255), Description: "File name with extension."},
				"fileData": {Type: "string", MinLength: jsonschema.Ptr(1), Description: "http(s) URL of the file, or its content in base64 (a data: prefix is allowed)."},
			},
			Required:             []string{"fileName", "fileData"},
			AdditionalProperties: &jsonschema.Schema{Not: &jsonschema.Schema{}},
			MinLength:            jsonschema.Ptr(1),
			Description:          "The id of a file already uploaded to Zoho Desk, or a file to upload first: {fileName, fileData}.",
		},
		reflect.TypeFor[json.RawMessage](): {},
		reflect.TypeFor[Nullable]():        {Types: []string{"null", "string"}},
		reflect.TypeFor[map[string]any]():  {Type: "object"},
	}
}

// Nullable is a string field of an update that may be set, cleared with an
// explicit JSON null, or left out. Set reports whether the field was present
// at all; Null whether it was null.
type Nullable struct {
	Set   bool
	Null  bool
	Value string
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Nullable) UnmarshalJSON(b []byte) error {
	*n = Nullable{Set: true}
	if string(bytes.TrimSpace(b)) == "null" {
		n.Null = true
		return nil
	}
	if err := json.Unmarshal(b, &n.Value); err != nil {
		return errors.New("must be a string or null")
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (n Nullable) MarshalJSON() ([]byte, error) {
	if !n.Set || n.Null {
		return []byte("null"), nil
	}
	return json.Marshal(n.Value)
}

// IsZero reports whether the field was absent, so that `omitzero` leaves it
// out.
func (n Nullable) IsZero() bool { return !n.Set }

// wireValue returns the value to send to Zoho: nil for an explicit null.
func (n Nullable) wireValue() any {
	if n.Null {
		return nil
	}
	return n.Value
}
