package filedata

import (
	"encoding/base64"
	"fmt"
	"io"
)

// whitespace is what base64 input may contain anywhere.
const whitespace = " \t\n\r\f\v"

// Classes in b64Table besides alphabet characters (which map to themselves
// in the standard alphabet).
const (
	classInvalid byte = 0
	classSpace   byte = 1
	classPad     byte = '='
)

// b64Table maps each input byte to its standard-alphabet character, or to
// a class. '-' and '_' (URL-safe) map to '+' and '/'.
var b64Table = func() (t [256]byte) {
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(std) {
		t[std[i]] = std[i]
	}
	t['-'], t['_'] = '+', '/'
	for i := range len(whitespace) {
		t[whitespace[i]] = classSpace
	}
	t['='] = classPad
	return t
}()

// b64Reader yields the alphabet characters of s, mapped to the standard
// alphabet, without whitespace or padding, and validates as it goes: a
// foreign character, data after padding, too much or wrong padding, or a
// truncated length is an *Error naming the byte offset (base + index in s).
type b64Reader struct {
	s     string
	base  int64
	i     int
	n     int64 // alphabet characters emitted
	pad   int   // '=' seen
	padAt int   // index of the first '='
	err   error
}

// newDecoder streams the bytes that the base64 text s decodes to; base is
// s's offset in fileData, for error messages.
func newDecoder(s string, base int64) io.Reader {
	return base64.NewDecoder(base64.RawStdEncoding, &b64Reader{s: s, base: base})
}

// decodedSize validates s completely and returns how many bytes it decodes
// to. It reads s in place: nothing proportional to s is allocated.
func decodedSize(s string, base int64) (int64, error) {
	r := &b64Reader{s: s, base: base}
	var buf [4096]byte
	for {
		_, err := r.Read(buf[:])
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	return r.n/4*3 + [4]int64{0, 0, 1, 2}[r.n%4], nil
}

func (r *b64Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	k := 0
	for k < len(p) && r.i < len(r.s) {
		c := r.s[r.i]
		switch m := b64Table[c]; m {
		case classSpace:
		case classPad:
			if r.pad == 0 {
				r.padAt = r.i
			}
			r.pad++
			if r.pad > 2 {
				return k, r.fail(r.i, "more than two '=' padding characters")
			}
		case classInvalid:
			return k, r.fail(r.i, "unexpected "+describe(c))
		default:
			if r.pad > 0 {
				return k, r.fail(r.i, "data after the '=' padding (padding may only end the text)")
			}
			p[k] = m
			k++
			r.n++
		}
		r.i++
	}
	if k > 0 || r.i < len(r.s) {
		return k, nil
	}
	switch {
	case r.n%4 == 1:
		return 0, r.fail(len(r.s), fmt.Sprintf("the text ends after %d base64 characters, which no complete base64 text does (is it truncated?)", r.n))
	case r.pad > 0 && (r.n+int64(r.pad))%4 != 0:
		return 0, r.fail(r.padAt, "wrong '=' padding")
	}
	r.err = io.EOF
	return 0, io.EOF
}

func (r *b64Reader) fail(i int, what string) error {
	r.err = invalidBase64(r.base+int64(i), what)
	return r.err
}

// invalidBase64 is the ErrInvalidBase64 error for a problem at byte offset
// off of fileData.
func invalidBase64(off int64, what string) *Error {
	return &Error{Kind: ErrInvalidBase64, Offset: off,
		Message: fmt.Sprintf("fileData is not valid base64: %s at byte offset %d; send the file as standard or URL-safe base64 (a data:<type>;base64, prefix is optional), or as an http(s) URL", what, off)}
}

// describe names a byte without echoing arbitrary input.
func describe(c byte) string {
	if c >= 0x21 && c < 0x7f {
		return fmt.Sprintf("character %q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
