// Package seal encrypts deskconn's secrets at rest (client secrets, access and
// refresh tokens) with AES-256-GCM.
//
// A sealed value is self-describing:
//
//	[version byte = 1][key id length byte][key id][12-byte random nonce][ciphertext + 16-byte tag]
//
// The key id names the key that sealed it, so a Keyring holding the active
// key and older ones can open values sealed before a rotation, and KeyID tells
// which rows still need re-sealing. The additional authenticated data binds
// every ciphertext to one column of one row (Vault's path-as-AAD lesson): a
// ciphertext copied into another row, column or tenant fails to open. The
// header (version and key id) is authenticated too.
//
// Errors never contain key material or plaintext.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
)

// Version is the format version written as the first byte of every sealed value.
const Version byte = 1

const (
	nonceSize = 12
	tagSize   = 16
	// MaxKeyIDLen is the longest key id: it is stored behind a one-byte length.
	MaxKeyIDLen = 64
)

// Errors returned by Open and KeyID, matched with errors.Is. None of them
// carries key material or plaintext.
var (
	// ErrMalformed means the bytes are not a sealed value of a known version.
	ErrMalformed = errors.New("seal: malformed ciphertext")
	// ErrUnknownKey means the value was sealed with a key the keyring lacks.
	ErrUnknownKey = errors.New("seal: unknown key id")
	// ErrAuth means authentication failed: wrong key, tampered bytes, or a
	// ciphertext bound to another row or column.
	ErrAuth = errors.New("seal: message authentication failed")
	// ErrInvalidAAD means an AAD component is empty or contains '/'.
	ErrInvalidAAD = errors.New("seal: invalid AAD")
)

// AAD names the place a sealed value lives: one column of one row of one
// table. Every component must be non-empty and free of '/', so that distinct
// places never share a string form.
type AAD struct {
	Table  string
	RowID  string
	Column string
}

// String returns "deskconn/v1/" + table + "/" + row + "/" + column.
func (a AAD) String() string {
	return "deskconn/v1/" + a.Table + "/" + a.RowID + "/" + a.Column
}

func (a AAD) validate() error {
	for _, part := range []string{a.Table, a.RowID, a.Column} {
		if part == "" || strings.Contains(part, "/") {
			return fmt.Errorf("%w: components must be non-empty and contain no '/' (%q)", ErrInvalidAAD, a.String())
		}
	}
	return nil
}

// additionalData is what GCM authenticates besides the ciphertext: the
// header (so the version and key id cannot be altered) and the place.
func additionalData(header []byte, aad AAD) []byte {
	s := aad.String()
	ad := make([]byte, 0, len(header)+len(s))
	ad = append(ad, header...)
	return append(ad, s...)
}

// Keyring seals with its active key and opens with any of its keys.
// A Keyring is immutable and safe for concurrent use. Build one with
// NewKeyring or ParseKeyring; the zero value is not usable.
type Keyring struct {
	active string
	aeads  map[string]cipher.AEAD
	order  []string // active first
}

// NewKeyring returns a keyring that seals with active and opens values sealed
// with active or any of older. Key ids must be distinct.
func NewKeyring(active Key, older ...Key) (*Keyring, error) {
	kr := &Keyring{active: active.id, aeads: make(map[string]cipher.AEAD)}
	for _, k := range append([]Key{active}, older...) {
		if err := k.check(); err != nil {
			return nil, fmt.Errorf("new keyring: %w", err)
		}
		if _, dup := kr.aeads[k.id]; dup {
			return nil, fmt.Errorf("new keyring: key id %q appears twice", k.id)
		}
		block, err := aes.NewCipher(k.material[:])
		if err != nil {
			return nil, fmt.Errorf("new keyring: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("new keyring: %w", err)
		}
		kr.aeads[k.id] = aead
		kr.order = append(kr.order, k.id)
	}
	return kr, nil
}

// ActiveKeyID returns the id of the key Seal uses.
func (kr *Keyring) ActiveKeyID() string { return kr.active }

// KeyIDs returns the ids of every key in the ring, the active one first.
func (kr *Keyring) KeyIDs() []string { return append([]string(nil), kr.order...) }

// Seal encrypts plaintext with the active key, bound to aad. Each call uses
// a fresh random nonce, so sealing the same plaintext twice gives different
// bytes.
func (kr *Keyring) Seal(plaintext []byte, aad AAD) ([]byte, error) {
	if err := aad.validate(); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	id := kr.active
	headerLen := 2 + len(id)
	out := make([]byte, headerLen+nonceSize, headerLen+nonceSize+len(plaintext)+tagSize)
	out[0] = Version
	out[1] = byte(len(id))
	copy(out[2:], id)
	nonce := out[headerLen : headerLen+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: read nonce: %w", err)
	}
	return kr.aeads[id].Seal(out, nonce, plaintext, additionalData(out[:headerLen], aad)), nil
}

// Open decrypts a value made by Seal with any key of the ring, checking that
// it was sealed for aad. It returns ErrMalformed, ErrUnknownKey, ErrAuth or
// ErrInvalidAAD (wrapped), never a partial plaintext.
func (kr *Keyring) Open(ciphertext []byte, aad AAD) ([]byte, error) {
	if err := aad.validate(); err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	id, headerLen, err := parseHeader(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	aead, ok := kr.aeads[id]
	if !ok {
		return nil, fmt.Errorf("open: %w %q", ErrUnknownKey, id)
	}
	nonce := ciphertext[headerLen : headerLen+nonceSize]
	body := ciphertext[headerLen+nonceSize:]
	plaintext, err := aead.Open(nil, nonce, body, additionalData(ciphertext[:headerLen], aad))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", aad, ErrAuth)
	}
	return plaintext, nil
}

// Reseal opens ciphertext and, when it was sealed with a key other than the
// active one, seals it again with the active key. It reports whether the
// value changed; an up-to-date value is returned as is (still verified).
func (kr *Keyring) Reseal(ciphertext []byte, aad AAD) ([]byte, bool, error) {
	plaintext, err := kr.Open(ciphertext, aad)
	if err != nil {
		return nil, false, fmt.Errorf("reseal: %w", err)
	}
	id, err := KeyID(ciphertext)
	if err != nil { // unreachable: Open parsed the header
		return nil, false, fmt.Errorf("reseal: %w", err)
	}
	if id == kr.active {
		return ciphertext, false, nil
	}
	out, err := kr.Seal(plaintext, aad)
	if err != nil {
		return nil, false, fmt.Errorf("reseal: %w", err)
	}
	return out, true, nil
}

// KeyID returns the id of the key that sealed ciphertext, without decrypting
// it. Use it to find rows that need re-sealing after a rotation.
func KeyID(ciphertext []byte) (string, error) {
	id, _, err := parseHeader(ciphertext)
	if err != nil {
		return "", fmt.Errorf("key id: %w", err)
	}
	return id, nil
}

// parseHeader checks the framing and returns the key id and header length.
func parseHeader(ct []byte) (id string, headerLen int, err error) {
	if len(ct) < 2 {
		return "", 0, ErrMalformed
	}
	if ct[0] != Version {
		return "", 0, fmt.Errorf("%w: version %d", ErrMalformed, ct[0])
	}
	n := int(ct[1])
	if n == 0 || n > MaxKeyIDLen {
		return "", 0, fmt.Errorf("%w: key id length %d", ErrMalformed, n)
	}
	headerLen = 2 + n
	if len(ct) < headerLen+nonceSize+tagSize {
		return "", 0, fmt.Errorf("%w: too short", ErrMalformed)
	}
	id = string(ct[2:headerLen])
	if !validKeyID(id) {
		return "", 0, fmt.Errorf("%w: bad key id", ErrMalformed)
	}
	return id, headerLen, nil
}
