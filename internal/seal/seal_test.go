package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func testKey(t testing.TB, id string, fill byte) Key {
	t.Helper()
	k, err := NewKey(id, bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatalf("NewKey(%q) = %v", id, err)
	}
	return k
}

func testRing(t testing.TB, active Key, older ...Key) *Keyring {
	t.Helper()
	kr, err := NewKeyring(active, older...)
	if err != nil {
		t.Fatalf("NewKeyring = %v", err)
	}
	return kr
}

var aadA = AAD{Table: "connections", RowID: "conn_1", Column: "refresh_token"}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	kr := testRing(t, testKey(t, "k1", 1))
	for _, pt := range [][]byte{nil, {}, []byte("x"), []byte("1000.refresh.token.value"), bytes.Repeat([]byte("a"), 1<<16)} {
		ct, err := kr.Seal(pt, aadA)
		if err != nil {
			t.Fatalf("Seal(%d bytes) = %v", len(pt), err)
		}
		// Short plaintexts occur in random bytes by chance (a 1-byte one in
		// about 1 of 9 ciphertexts), so only long ones can be checked.
		if len(pt) >= 8 && bytes.Contains(ct, pt) {
			t.Errorf("Seal(%d bytes) contains the plaintext", len(pt))
		}
		if ct[0] != Version || ct[1] != 2 || string(ct[2:4]) != "k1" {
			t.Errorf("Seal header = %x, want version 1, key id k1", ct[:4])
		}
		if got, want := len(ct), 2+2+nonceSize+len(pt)+tagSize; got != want {
			t.Errorf("len(Seal(%d bytes)) = %d, want %d", len(pt), got, want)
		}
		got, err := kr.Open(ct, aadA)
		if err != nil {
			t.Fatalf("Open(Seal(%d bytes)) = %v", len(pt), err)
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("Open(Seal(x)) != x for %d bytes", len(pt))
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	t.Parallel()
	kr := testRing(t, testKey(t, "k1", 1))
	a, _ := kr.Seal([]byte("same"), aadA)
	b, _ := kr.Seal([]byte("same"), aadA)
	if bytes.Equal(a, b) {
		t.Fatal("two Seals of the same plaintext are identical; nonce reused")
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	k1, k2 := testKey(t, "k1", 1), testKey(t, "k2", 2)
	kr := testRing(t, k1)
	ct, err := kr.Seal([]byte("secret-value"), aadA)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return c
	}
	// The same id bound to different material: authentication must fail.
	impostor := testRing(t, testKey(t, "k1", 9))
	tests := []struct {
		name string
		kr   *Keyring
		ct   []byte
		aad  AAD
		want error
	}{
		{"other row", kr, ct, AAD{"connections", "conn_2", "refresh_token"}, ErrAuth},
		{"other column", kr, ct, AAD{"connections", "conn_1", "access_token"}, ErrAuth},
		{"other table", kr, ct, AAD{"tenants", "conn_1", "refresh_token"}, ErrAuth},
		{"flipped tag", kr, flip(len(ct) - 1), aadA, ErrAuth},
		{"flipped nonce", kr, flip(4), aadA, ErrAuth},
		{"flipped body", kr, flip(4 + nonceSize), aadA, ErrAuth},
		{"wrong material same id", impostor, ct, aadA, ErrAuth},
		{"unknown key", testRing(t, k2), ct, aadA, ErrUnknownKey},
		{"renamed key id", testRing(t, k1, testKey(t, "k0", 1)), append([]byte{1, 2, 'k', '0'}, ct[4:]...), aadA, ErrAuth},
		{"bad version", kr, append([]byte{2}, ct[1:]...), aadA, ErrMalformed},
		{"empty", kr, nil, aadA, ErrMalformed},
		{"truncated", kr, ct[:4+nonceSize+tagSize-1], aadA, ErrMalformed},
		{"zero id length", kr, append([]byte{1, 0}, ct[2:]...), aadA, ErrMalformed},
		{"slash in row", kr, ct, AAD{"connections", "a/b", "refresh_token"}, ErrInvalidAAD},
		{"empty column", kr, ct, AAD{"connections", "conn_1", ""}, ErrInvalidAAD},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.kr.Open(tt.ct, tt.aad)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Errorf("Open returned %d bytes with an error", len(got))
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Errorf("error %q contains the plaintext", err)
			}
		})
	}
}

func TestSealRejectsBadAAD(t *testing.T) {
	t.Parallel()
	kr := testRing(t, testKey(t, "k1", 1))
	for _, aad := range []AAD{{}, {"t", "", "c"}, {"t/x", "r", "c"}, {"t", "r", "c/"}} {
		if _, err := kr.Seal([]byte("x"), aad); !errors.Is(err, ErrInvalidAAD) {
			t.Errorf("Seal(%+v) = %v, want ErrInvalidAAD", aad, err)
		}
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	old, cur := testKey(t, "old", 1), testKey(t, "new", 2)
	before := testRing(t, old)
	ct, err := before.Seal([]byte("tok"), aadA)
	if err != nil {
		t.Fatal(err)
	}
	after := testRing(t, cur, old)
	if got := after.ActiveKeyID(); got != "new" {
		t.Errorf("ActiveKeyID() = %q, want new", got)
	}
	if got := after.KeyIDs(); strings.Join(got, ",") != "new,old" {
		t.Errorf("KeyIDs() = %v, want [new old]", got)
	}
	if pt, err := after.Open(ct, aadA); err != nil || string(pt) != "tok" {
		t.Fatalf("Open(old ciphertext) = %q, %v; want tok", pt, err)
	}
	if id, err := KeyID(ct); err != nil || id != "old" {
		t.Fatalf("KeyID = %q, %v; want old", id, err)
	}
	re, changed, err := after.Reseal(ct, aadA)
	if err != nil || !changed {
		t.Fatalf("Reseal = changed %v, %v; want changed", changed, err)
	}
	if id, _ := KeyID(re); id != "new" {
		t.Errorf("KeyID(resealed) = %q, want new", id)
	}
	if pt, err := testRing(t, cur).Open(re, aadA); err != nil || string(pt) != "tok" {
		t.Errorf("Open(resealed) with only the new key = %q, %v", pt, err)
	}
	same, changed, err := after.Reseal(re, aadA)
	if err != nil || changed || !bytes.Equal(same, re) {
		t.Errorf("Reseal(current) = changed %v, %v; want unchanged", changed, err)
	}
	if _, _, err := after.Reseal(re, AAD{"connections", "conn_9", "refresh_token"}); !errors.Is(err, ErrAuth) {
		t.Errorf("Reseal with wrong AAD = %v, want ErrAuth", err)
	}
}

func TestNewKeyringRejectsDuplicateIDs(t *testing.T) {
	t.Parallel()
	if _, err := NewKeyring(testKey(t, "a", 1), testKey(t, "a", 2)); err == nil {
		t.Fatal("NewKeyring with a duplicate id succeeded")
	}
	if _, err := NewKeyring(Key{}); err == nil {
		t.Fatal("NewKeyring(zero Key) succeeded")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = byte(250 + i) // exercises '+', '/', '-' and '_' in base64
	}
	std := base64.StdEncoding.EncodeToString(raw)
	tests := []struct {
		name, in, wantID string
		wantErr          bool
	}{
		{"std", std, fingerprint(raw), false},
		{"std raw", base64.RawStdEncoding.EncodeToString(raw), fingerprint(raw), false},
		{"url", base64.URLEncoding.EncodeToString(raw), fingerprint(raw), false},
		{"url raw", base64.RawURLEncoding.EncodeToString(raw), fingerprint(raw), false},
		{"named", "prod-2026:" + std, "prod-2026", false},
		{"spaces", "  prod:" + std + "\n", "prod", false},
		{"short", base64.StdEncoding.EncodeToString(raw[:31]), "", true},
		{"long", base64.StdEncoding.EncodeToString(append(raw, 0)), "", true},
		{"not base64", "not base64 at all!!", "", true},
		{"bad id", "a b:" + std, "", true},
		{"empty id", ":" + std, "", true},
		{"empty", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseKey(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseKey(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if tt.in != "" && strings.Contains(err.Error(), tt.in) {
					t.Errorf("error %q echoes the input", err)
				}
				return
			}
			if k.ID() != tt.wantID || !bytes.Equal(k.material[:], raw) {
				t.Errorf("ParseKey(%q) = id %q, want %q with the same material", tt.in, k.ID(), tt.wantID)
			}
		})
	}
}

func TestParseKeyringFromEnvList(t *testing.T) {
	t.Parallel()
	k1, k2 := testKey(t, "one", 1), testKey(t, "two", 2)
	kr, err := ParseKeyring(k2.Encode() + ", " + k1.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if kr.ActiveKeyID() != "two" {
		t.Errorf("active = %q, want two (the first)", kr.ActiveKeyID())
	}
	ct, _ := testRing(t, k1).Seal([]byte("x"), aadA)
	if _, err := kr.Open(ct, aadA); err != nil {
		t.Errorf("Open with the second key = %v", err)
	}
	if _, err := ParseKeyring(k1.Encode() + ",garbage"); err == nil || strings.Contains(err.Error(), k1.Encode()) {
		t.Errorf("ParseKeyring(bad second key) = %v, want an error without key material", err)
	}
}

func TestKeyNeverPrintsMaterial(t *testing.T) {
	t.Parallel()
	k := testKey(t, "k1", 7)
	secret := base64.RawURLEncoding.EncodeToString(k.material[:])
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("loaded", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %s", k, k, k), buf.String()} {
		if strings.Contains(s, secret) || !strings.Contains(s, "k1") {
			t.Errorf("printed key = %q, want the id and no material", s)
		}
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateKeyFile = created %v, %v; want created", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", fi.Mode().Perm())
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreateKeyFile = created %v, %v; want loaded", created, err)
	}
	if k1.Encode() != k2.Encode() {
		t.Error("the reloaded key differs from the created one")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("key dir holds %d entries, want only the key file", len(entries))
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Error("LoadOrCreateKeyFile accepted a world-readable key file")
	}

	bad := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(bad, []byte("nonsense"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(bad); err == nil || strings.Contains(err.Error(), "nonsense") {
		t.Errorf("LoadOrCreateKeyFile(garbage) = %v, want an error that does not echo the file", err)
	}
}

func TestLoadOrCreateKeyFileConcurrent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret.key")
	const n = 16
	keys := make([]string, n)
	createdCount := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, created, err := LoadOrCreateKeyFile(path)
			if err != nil {
				t.Errorf("LoadOrCreateKeyFile = %v", err)
				return
			}
			keys[i] = k.Encode()
			mu.Lock()
			if created {
				createdCount++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if createdCount != 1 {
		t.Errorf("%d callers created the key, want exactly 1", createdCount)
	}
	for i := range keys {
		if keys[i] != keys[0] {
			t.Fatalf("caller %d got a different key", i)
		}
	}
}

func FuzzOpen(f *testing.F) {
	k1 := testKey(f, "k1", 1)
	kr := testRing(f, k1, testKey(f, "k2", 2))
	valid, err := kr.Seal([]byte("refresh-token"), aadA)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, "connections", "conn_1", "refresh_token")
	f.Add(valid, "connections", "conn_2", "refresh_token")
	f.Add([]byte{}, "t", "r", "c")
	f.Add([]byte{1, 2, 'k', '2'}, "t", "r", "c")
	f.Add([]byte{1, 255}, "t", "r", "c")
	f.Add(bytes.Repeat([]byte{1}, 64), "t", "r/x", "c")
	f.Fuzz(func(t *testing.T, ct []byte, table, row, column string) {
		aad := AAD{table, row, column}
		pt, err := kr.Open(ct, aad)
		if err != nil {
			if pt != nil {
				t.Fatalf("Open returned plaintext with error %v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrAuth) && !errors.Is(err, ErrInvalidAAD) {
				t.Fatalf("Open error %v is not one of the documented errors", err)
			}
			return
		}
		// Only genuine ciphertexts open. The seed was sealed (with a random
		// nonce) in whichever process built the corpus, so compare what it
		// holds rather than its bytes.
		if string(pt) != "refresh-token" || aad != aadA {
			t.Fatalf("Open accepted a forged ciphertext")
		}
	})
}

func FuzzSealRoundTrip(f *testing.F) {
	kr := testRing(f, testKey(f, "k1", 1))
	f.Add([]byte("token"), "connections", "conn_1", "access_token")
	f.Add([]byte{}, "a", "b", "c")
	f.Add([]byte{0, 1, 2}, "a/b", "c", "d")
	f.Fuzz(func(t *testing.T, pt []byte, table, row, column string) {
		aad := AAD{table, row, column}
		ct, err := kr.Seal(pt, aad)
		if err != nil {
			if !errors.Is(err, ErrInvalidAAD) {
				t.Fatalf("Seal = %v", err)
			}
			return
		}
		got, err := kr.Open(ct, aad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open(Seal(pt)) = %v, %v", got, err)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	kr := testRing(b, testKey(b, "k1", 1))
	pt := bytes.Repeat([]byte("t"), 128) // about a Zoho token
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := kr.Seal(pt, aadA); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	kr := testRing(b, testKey(b, "k1", 1))
	pt := bytes.Repeat([]byte("t"), 128)
	ct, err := kr.Seal(pt, aadA)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := kr.Open(ct, aadA); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLoadKeyring(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "secret.key")
	env := testKey(t, "env1", 1).Encode() + "," + testKey(t, "env0", 2).Encode()

	kr, created, err := LoadKeyring(env, file)
	if err != nil || created || kr.ActiveKeyID() != "env1" || len(kr.KeyIDs()) != 2 {
		t.Fatalf("LoadKeyring(env) = %v, created %v, %v; want env1 active of 2", kr.KeyIDs(), created, err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadKeyring(env) touched the key file: %v", err)
	}

	kr1, created, err := LoadKeyring("", file)
	if err != nil || !created {
		t.Fatalf("LoadKeyring(no env) = created %v, %v; want a created key file", created, err)
	}
	kr2, created, err := LoadKeyring("  ", file)
	if err != nil || created || kr2.ActiveKeyID() != kr1.ActiveKeyID() {
		t.Fatalf("LoadKeyring again = %q, created %v, %v; want the same file key", kr2.ActiveKeyID(), created, err)
	}
	ct, _ := kr1.Seal([]byte("x"), aadA)
	if _, err := kr2.Open(ct, aadA); err != nil {
		t.Errorf("reloaded keyring cannot open: %v", err)
	}

	if _, _, err := LoadKeyring("bogus", file); err == nil || !strings.Contains(err.Error(), EnvVar) || strings.Contains(err.Error(), "bogus") {
		t.Errorf("LoadKeyring(bad env) = %v, want an error naming %s without the value", err, EnvVar)
	}
}
