package seal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// Key is one named AES-256 key. Its String and LogValue methods print only
// the id, so a Key never leaks through fmt or slog. The zero value is not a
// valid key.
type Key struct {
	id       string
	material [KeySize]byte
}

// NewKey returns a key with the given id and 32 bytes of material. An empty
// id is replaced by a fingerprint of the material (see ParseKey).
func NewKey(id string, material []byte) (Key, error) {
	if len(material) != KeySize {
		return Key{}, fmt.Errorf("new key: key must be %d bytes, got %d", KeySize, len(material))
	}
	var k Key
	copy(k.material[:], material)
	if id == "" {
		id = fingerprint(k.material[:])
	}
	k.id = id
	if err := k.check(); err != nil {
		return Key{}, fmt.Errorf("new key: %w", err)
	}
	return k, nil
}

// GenerateKey returns a fresh random key named by its fingerprint.
func GenerateKey() (Key, error) {
	var m [KeySize]byte
	if _, err := rand.Read(m[:]); err != nil {
		return Key{}, fmt.Errorf("generate key: %w", err)
	}
	return NewKey("", m[:])
}

// ID returns the key's id, written into every value it seals.
func (k Key) ID() string { return k.id }

// String returns "seal.Key(id)": never the material.
func (k Key) String() string { return "seal.Key(" + k.id + ")" }

// LogValue implements slog.LogValuer: only the id is logged.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Encode returns the key as "id:base64url", the form ParseKey reads and
// LoadOrCreateKeyFile writes. The result is secret.
func (k Key) Encode() string {
	return k.id + ":" + base64.RawURLEncoding.EncodeToString(k.material[:])
}

func (k Key) check() error {
	if !validKeyID(k.id) {
		return fmt.Errorf("key id %q must be 1-%d characters of A-Z a-z 0-9 . _ -", k.id, MaxKeyIDLen)
	}
	return nil
}

// fingerprint names an unnamed key: "k" and 8 hex digits of a domain-separated
// SHA-256 of the material. Stable, so the same env value always yields the
// same id; it reveals nothing usable about the key.
func fingerprint(material []byte) string {
	sum := sha256.Sum256(append([]byte("deskconn seal key id\x00"), material...))
	return "k" + hex.EncodeToString(sum[:4])
}

func validKeyID(id string) bool {
	if id == "" || len(id) > MaxKeyIDLen {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

// ParseKey reads one key: the base64 (standard or URL alphabet, padded or
// not) encoding of 32 bytes, optionally prefixed by "id:" to name it.
// Without a name the key is named by its fingerprint. Surrounding space is
// ignored. Errors never echo the input.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	id, b64, named := strings.Cut(s, ":")
	if !named {
		id, b64 = "", s
	} else if !validKeyID(id) {
		return Key{}, errors.New("parse key: the key id before ':' must be 1-64 characters of A-Z a-z 0-9 . _ -")
	}
	material, ok := decodeBase64(strings.TrimSpace(b64))
	if !ok {
		return Key{}, errors.New("parse key: not valid base64")
	}
	if len(material) != KeySize {
		return Key{}, fmt.Errorf("parse key: key must decode to %d bytes, got %d", KeySize, len(material))
	}
	return NewKey(id, material)
}

func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// ParseKeys reads a comma-separated list of keys in ParseKey's format, as
// DESKCONN_SECRET_KEY holds them: the first is the active key, the rest are
// older keys kept to open values sealed before a rotation.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for i, part := range strings.Split(s, ",") {
		k, err := ParseKey(part)
		if err != nil {
			return nil, fmt.Errorf("key %d of %d: %w", i+1, strings.Count(s, ",")+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// ParseKeyring builds a keyring from a comma-separated key list (see
// ParseKeys), the first key active.
func ParseKeyring(s string) (*Keyring, error) {
	keys, err := ParseKeys(s)
	if err != nil {
		return nil, err
	}
	return NewKeyring(keys[0], keys[1:]...)
}

// LoadOrCreateKeyFile reads the key stored at path (ParseKey format). When
// the file does not exist it creates one with mode 0600 holding a fresh
// random key, and reports created = true so the caller can log a warning
// that secrets are protected by a key stored next to the data. Creation is
// atomic: concurrent callers (several processes) end up with the same key.
// On Unix a key file readable by group or others is refused.
func LoadOrCreateKeyFile(path string) (key Key, created bool, err error) {
	key, err = loadKeyFile(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Key{}, false, err
	}
	key, err = GenerateKey()
	if err != nil {
		return Key{}, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Key{}, false, fmt.Errorf("create key file: %w", err)
	}
	// Write a complete temporary file, then hard-link it into place: the
	// link fails if another process won the race, and no reader ever sees
	// a half-written key.
	tmp, err := os.CreateTemp(dir, ".deskconn-key-*")
	if err != nil {
		return Key{}, false, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return Key{}, false, fmt.Errorf("create key file: %w", err)
	}
	if _, err := tmp.WriteString(key.Encode() + "\n"); err != nil {
		tmp.Close()
		return Key{}, false, fmt.Errorf("create key file: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return Key{}, false, fmt.Errorf("create key file: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Key{}, false, fmt.Errorf("create key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			key, err = loadKeyFile(path)
			return key, false, err
		}
		return Key{}, false, fmt.Errorf("create key file: %w", err)
	}
	return key, true, nil
}

func loadKeyFile(path string) (Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return Key{}, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	if runtime.GOOS != "windows" {
		fi, err := f.Stat()
		if err != nil {
			return Key{}, fmt.Errorf("read key file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return Key{}, fmt.Errorf("read key file %s: mode %04o lets others read it; run chmod 600", path, fi.Mode().Perm())
		}
	}
	buf, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return Key{}, fmt.Errorf("read key file %s: %w", path, err)
	}
	key, err := ParseKey(string(buf))
	if err != nil {
		return Key{}, fmt.Errorf("read key file %s: %w", path, err)
	}
	return key, nil
}

// EnvVar is the environment variable holding deskconn's sealing keys.
const EnvVar = "DESKCONN_SECRET_KEY"

// LoadKeyring returns the keyring deskconn seals with. When envValue (the
// value of DESKCONN_SECRET_KEY) is non-empty it is parsed with
// ParseKeyring, the first key active. Otherwise the key stored at keyFile
// is used, created if absent; created reports that, so the caller logs a
// warning that the key sits next to the data it protects.
func LoadKeyring(envValue, keyFile string) (kr *Keyring, created bool, err error) {
	if strings.TrimSpace(envValue) != "" {
		kr, err := ParseKeyring(envValue)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", EnvVar, err)
		}
		return kr, false, nil
	}
	key, created, err := LoadOrCreateKeyFile(keyFile)
	if err != nil {
		return nil, false, err
	}
	kr, err = NewKeyring(key)
	if err != nil {
		return nil, false, err
	}
	return kr, created, nil
}
