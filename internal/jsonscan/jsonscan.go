// Package jsonscan finds the ends of JSON values and whitespace in bytes
// that are already known to be JSON (a decoder or json.Valid accepted
// them), without decoding or validating what it skips: the byte-level
// steps that deskconn's hot paths share.
package jsonscan

// SkipSpace returns the offset of the first byte at or after i that is not
// JSON whitespace (len(raw) if none is).
func SkipSpace(raw []byte, i int) int {
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	return i
}

// StringEnd returns the offset just past the string literal whose opening
// quote is raw[i], skipping escaped bytes; false if it does not close.
func StringEnd(raw []byte, i int) (int, bool) {
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// ValueEnd returns the offset just past the value that starts at raw[i]: a
// string (by its quotes and escapes), an object or array (by its brackets,
// strings inside skipped), or anything else up to the next delimiter or
// whitespace. It reports false when there is no value there or it does
// not end.
func ValueEnd(raw []byte, i int) (int, bool) {
	if i >= len(raw) {
		return 0, false
	}
	switch raw[i] {
	case '"':
		return StringEnd(raw, i)
	case '{', '[':
		depth := 0
		for i < len(raw) {
			switch raw[i] {
			case '"':
				end, ok := StringEnd(raw, i)
				if !ok {
					return 0, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	}
	j := i
	for j < len(raw) && raw[j] != ',' && raw[j] != '}' && raw[j] != ']' && !isSpace(raw[j]) {
		j++
	}
	return j, j > i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
