package deskactions

import (
	"bytes"
	"encoding/json"
	"fmt"

	segjson "github.com/segmentio/encoding/json"
)

// AppendJSON encodes the output with its rows copied as they are, each
// checked to be valid JSON, instead of re-scanned by encoding/json (which
// compacts every json.RawMessage: most of a list call's encoding, and a
// 5,000-row all: true export's largest single cost). Only the few other
// members go through encoding/json. The result means what json.Marshal's
// does; characters such as '<' inside rows stay as Zoho sent them instead
// of being escaped (TestListOutputAppendJSON).
func (o ListOutput) AppendJSON(b []byte) ([]byte, error) {
	rows := o.Data
	o.Data = nil
	rest, err := json.Marshal(o) // {"data":null,"from":...}: Data is the first member
	if err != nil {
		return nil, err
	}
	const head = `{"data":null`
	if !bytes.HasPrefix(rest, []byte(head)) {
		return nil, fmt.Errorf("list output: encoded as %.40s, want it to start with %s", rest, head)
	}
	if rows == nil {
		return append(b, rest...), nil // data: null, as json.Marshal
	}
	size := len(rest) + len(rows)
	for _, r := range rows {
		size += len(r)
	}
	b = append(make([]byte, 0, len(b)+size), b...)
	b = append(b, `{"data":[`...)
	for i, r := range rows {
		if !segjson.Valid(r) {
			return nil, fmt.Errorf("list output: row %d is not valid JSON", i)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	b = append(b, ']')
	return append(b, rest[len(head):]...), nil
}
