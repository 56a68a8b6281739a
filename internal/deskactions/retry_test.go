package deskactions

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/zohodesk"
)

// emuTokens refreshes through the emulator's real token endpoint, as the
// connection manager does; badRefresh makes every refresh hand out a token
// Zoho does not know.
type emuTokens struct {
	oauth      *zohodesk.OAuthConfig
	accounts   string
	refresh    string
	badRefresh bool

	mu        sync.Mutex
	access    string
	refreshes int
}

func newEmuTokens(accounts, refresh, access string) *emuTokens {
	return &emuTokens{
		oauth:    &zohodesk.OAuthConfig{ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret},
		accounts: accounts, refresh: refresh, access: access,
	}
}

func (e *emuTokens) Token(context.Context) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.access, nil
}

func (e *emuTokens) Refresh(ctx context.Context, stale string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refreshes++
	if e.badRefresh {
		e.access = "1000.00000000000000000000000000000000.00000000000000000000000000000000"
		return e.access, nil
	}
	if stale != e.access {
		return e.access, nil // refreshed by someone else meanwhile
	}
	tok, err := e.oauth.Refresh(ctx, e.accounts, e.refresh)
	if err != nil {
		return "", err
	}
	e.access = tok.AccessToken
	return e.access, nil
}

func (e *emuTokens) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.refreshes
}

// uploadCalls counts the Desk upload requests (attachments and /uploads)
// the emulator received, and those refused with INVALID_OAUTH.
func uploadCalls(env *testEnv) (all, refused int) {
	for _, r := range env.emu.Requests() {
		if r.Method == "POST" && (strings.HasSuffix(r.Path, "/attachments") || strings.HasSuffix(r.Path, "/uploads")) {
			all++
			if r.ErrorCode == zohodesk.CodeInvalidOAuth {
				refused++
			}
		}
	}
	return all, refused
}

// TestUploadsSurviveTokenExpiry: when the access token dies at Zoho between
// calls, the client refreshes once but cannot resend a streamed upload; the
// action opens the file again and retries once, so the first call succeeds.
func TestUploadsSurviveTokenExpiry(t *testing.T) {
	t.Parallel()
	content := []byte("the file's bytes, sent twice")
	b64 := base64.StdEncoding.EncodeToString(content)
	files := fileServer(t, map[string][]byte{"/files/shot.png": pngBytes}, 0)
	tests := []struct {
		name, action, input, wantSize string
		wantUploads                   int // upload requests, the refused one included
	}{
		{"attachment base64", "create_ticket_attachment",
			`{"orgId":"2389290","ticketId":"1892000000042032","fileName":"a.txt","fileData":"` + b64 + `"}`, itoa(len(content)), 2},
		{"attachment url", "create_ticket_attachment",
			`{"orgId":"2389290","ticketId":"1892000000042032","fileName":"shot.png","fileData":"https://example.com/files/shot.png"}`, itoa(len(pngBytes)), 2},
		{"ticket uploads", "create_ticket",
			`{"orgId":"2389290","payload":{"subject":"With files","departmentId":"1892000000006907","contactId":"1892000000042032",` +
				`"uploads":[{"fileName":"a.txt","fileData":"` + b64 + `"},{"fileName":"shot.png","fileData":"https://example.com/files/shot.png"}]}}`, "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ts *emuTokens
			env := newTestEnvTokens(t, Deps{Files: files}, emulator.Options{}, func(accounts, refresh, access string) zohodesk.TokenSource {
				ts = newEmuTokens(accounts, refresh, access)
				return ts
			})
			env.emu.ExpireAccessTokens()
			out := env.mustInvoke(t, tt.action, tt.input)
			if tt.wantSize != "" && str(out, "size") != tt.wantSize {
				t.Errorf("size = %q, want %q (the retried upload must carry the whole file): %v", str(out, "size"), tt.wantSize, out)
			}
			all, refused := uploadCalls(env)
			if all != tt.wantUploads || refused != 1 || ts.count() != 1 {
				t.Errorf("uploads %d (refused %d), refreshes %d; want %d uploads, 1 refused, 1 refresh", all, refused, ts.count(), tt.wantUploads)
			}
		})
	}
}

// TestUploadRetriedOnlyOnce: a token that Zoho keeps refusing after every
// refresh ends in unauthenticated after exactly two upload attempts; a
// refresh that fails is not retried at all.
func TestUploadRetriedOnlyOnce(t *testing.T) {
	t.Parallel()
	in := `{"orgId":"2389290","ticketId":"1892000000042032","fileName":"a.txt","fileData":"aGVsbG8="}`

	var ts *emuTokens
	env := newTestEnvTokens(t, Deps{}, emulator.Options{}, func(accounts, refresh, access string) zohodesk.TokenSource {
		ts = newEmuTokens(accounts, refresh, access)
		ts.badRefresh = true
		return ts
	})
	env.emu.ExpireAccessTokens()
	_, err := env.invoke(t, "create_ticket_attachment", in)
	domainErr(t, err, deskconn.CodeUnauthenticated)
	if all, refused := uploadCalls(env); all != 2 || refused != 2 {
		t.Errorf("uploads %d (refused %d); want 2, both refused", all, refused)
	}

	static := newTestEnv(t, Deps{}, emulator.Options{})
	static.emu.ExpireAccessTokens()
	_, err = static.invoke(t, "create_ticket_attachment", in)
	if err == nil {
		t.Fatal("an expired static token succeeded")
	}
	if all, _ := uploadCalls(static); all != 1 {
		t.Errorf("uploads %d after a failed refresh; want 1 (no retry)", all)
	}
}
