package restapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/filedata"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/zohodesk"
)

// actBase is the server's public URL in these tests; it is never dialled.
const actBase = "http://127.0.0.1:9"

// echoIn / echoOut: a read action that reports who called it and where.
type echoIn struct {
	Text  string `json:"text" jsonschema:"text to echo" schema:"minLength=1,maxLength=20"`
	Count int    `json:"count,omitempty" schema:"minimum=1,maximum=10"`
}

type echoOut struct {
	Text     string `json:"text"`
	Tenant   string `json:"tenant"`
	APIKeyID string `json:"apiKeyId"`
	ConnID   string `json:"connectionId"`
	OrgID    string `json:"orgId"`
}

// noteIn / noteOut: a write action counting its (simulated) Zoho writes.
type noteIn struct {
	action.WriteOptions
	Note string `json:"note" schema:"minLength=1"`
}

type noteOut struct {
	Note string `json:"note"`
	Seq  int64  `json:"seq"`
}

// failIn: a read action that fails with the requested domain error.
type failIn struct {
	Code string `json:"code"`
}

type blobIn struct {
	Data string `json:"data"`
}

type blobOut struct {
	Size int `json:"size"`
}

// attachIn / attachOut: a write action that reads an inline file through
// filedata, as create_ticket_attachment does, and reports what it read.
type attachIn struct {
	action.WriteOptions
	FileName string `json:"fileName" schema:"minLength=1"`
	FileData string `json:"fileData" schema:"minLength=1"`
}

type attachOut struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Seq    int64  `json:"seq"`
}

// attachMaxBytes is the toy attach action's own file cap.
const attachMaxBytes = 128 << 20

// actEnv is a server with toy actions, two tenants (each with an API key
// and active connections) and the store behind it.
type actEnv struct {
	srv     *httptest.Server
	handler http.Handler // the server, for in-process requests
	st      store.Store
	writes  atomic.Int64
	// attaches counts the attach action's runs.
	attaches atomic.Int64
	// held receives a value when the hold action starts; it then waits
	// for release to be closed (or its request to end).
	held    chan struct{}
	release chan struct{}
	keyA    deskconn.Secret // tenant A
	keyB    deskconn.Secret // tenant B
	tenantA *store.Tenant
	tenantB *store.Tenant
	connA   *store.Connection // tenant A's "main"
	connB   *store.Connection // tenant B's "other"
	reg     *action.Registry
}

func toyActions(e *actEnv) []*action.Action {
	return []*action.Action{
		action.Define("echo", action.Info{
			Title: "Echo", Description: "Echoes the text with the caller's tenant and connection.",
			Hints: action.Hints{ReadOnly: true},
		}, func(ctx context.Context, call *action.Call, in echoIn) (echoOut, error) {
			return echoOut{Text: in.Text, Tenant: call.Tenant, APIKeyID: call.APIKeyID, ConnID: call.Conn.ID, OrgID: call.Conn.DefaultOrgID}, nil
		}),
		action.Define("make_note", action.Info{
			Title: "Make note", Description: "Writes a note (simulated); counts writes.", Write: true,
		}, func(ctx context.Context, call *action.Call, in noteIn) (noteOut, error) {
			if call.DryRun {
				return noteOut{}, call.Plan(action.PlannedRequest{Method: "POST", Path: "/notes", Body: map[string]string{"note": in.Note}})
			}
			return noteOut{Note: in.Note, Seq: e.writes.Add(1)}, nil
		}),
		action.Define("burn_note", action.Info{
			Title: "Burn note", Description: "Destroys a note (simulated).", Write: true,
			Hints: action.Hints{Destructive: true},
		}, func(ctx context.Context, call *action.Call, in noteIn) (noteOut, error) {
			if call.DryRun {
				return noteOut{}, call.Plan()
			}
			return noteOut{Note: in.Note, Seq: e.writes.Add(1)}, nil
		}),
		action.Define("fail", action.Info{
			Title: "Fail", Description: "Fails with the domain error code given as input.",
			Hints: action.Hints{ReadOnly: true},
		}, func(ctx context.Context, call *action.Call, in failIn) (echoOut, error) {
			return echoOut{}, failure(deskconn.Code(in.Code))
		}),
		action.Define("attach", action.Info{
			Title: "Attach", Description: "Reads an inline file (URL refused, base64) and reports its size and SHA-256.", Write: true,
		}, func(ctx context.Context, call *action.Call, in attachIn) (attachOut, error) {
			f, err := filedata.Open(ctx, in.FileData, in.FileName, filedata.Options{MaxBytes: attachMaxBytes})
			if err != nil {
				if fe, ok := filedata.FieldError("/fileData", err); ok {
					return attachOut{}, deskconn.Invalid(fe.Message, fe)
				}
				return attachOut{}, err
			}
			defer f.Body.Close()
			if call.DryRun {
				return attachOut{}, call.Plan(action.PlannedRequest{Method: "POST", Path: "/uploads",
					Body: map[string]any{"fileName": f.Name, "size": f.Size, "contentType": f.ContentType}})
			}
			h := sha256.New()
			n, err := io.Copy(h, f.Body)
			if err != nil {
				return attachOut{}, err
			}
			return attachOut{Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Seq: e.attaches.Add(1)}, nil
		}),
		action.Define("hold", action.Info{
			Title: "Hold", Description: "Signals that it started, then waits until the test releases it.",
			Hints: action.Hints{ReadOnly: true},
		}, func(ctx context.Context, call *action.Call, in blobIn) (blobOut, error) {
			e.held <- struct{}{}
			select {
			case <-e.release:
			case <-ctx.Done():
			}
			return blobOut{Size: len(in.Data)}, nil
		}),
		action.Define("blob", action.Info{
			Title: "Blob", Description: "Reports the size of its data field.",
			Hints: action.Hints{ReadOnly: true},
		}, func(ctx context.Context, call *action.Call, in blobIn) (blobOut, error) {
			return blobOut{Size: len(in.Data)}, nil
		}),
	}
}

// failure returns a representative domain error for code; a code that is
// not a domain code returns a plain Go error (a bug: internal).
func failure(code deskconn.Code) error {
	up := &deskconn.Upstream{Status: 400, ErrorCode: "UNPROCESSABLE_ENTITY", RequestID: "zreq-1"}
	switch code {
	case deskconn.CodeInvalid:
		return &deskconn.Error{Code: code, Message: "fix the fields", Upstream: up,
			Fields: []deskconn.FieldError{{Pointer: "/payload/subject", Code: "missing", Message: "is required"}}}
	case deskconn.CodeAmbiguous:
		return &deskconn.Error{Code: code, Message: "several tickets match",
			Candidates: []deskconn.Candidate{{ID: "1", Label: "#101 Login"}, {ID: "2", Label: "#102 Login"}}}
	case deskconn.CodeRateLimited:
		return &deskconn.Error{Code: code, Message: "slow down", RetryAfter: 1500 * time.Millisecond,
			Upstream: &deskconn.Upstream{Status: 429, RequestID: "zreq-2"}}
	case "":
		return io.ErrUnexpectedEOF // not a domain error
	default:
		return deskconn.Errorf(code, "failed with %s", code)
	}
}

type actOpts struct {
	maxBody  int64
	maxFile  int64
	spoolDir string
	limits   restapi.Limits
	now      func() time.Time
}

func newActEnv(t testing.TB, o actOpts) *actEnv {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "deskconn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := connection.New(connection.Options{Store: st, Keyring: kr, Regions: zohodesk.DefaultRegions(), BaseURL: actBase})
	if err != nil {
		t.Fatal(err)
	}
	keys := apikey.New(st)
	s, err := restapi.New(restapi.Options{Manager: m, APIKeys: keys, BaseURL: actBase, Limits: o.limits, Now: o.now})
	if err != nil {
		t.Fatal(err)
	}
	e := &actEnv{st: st, held: make(chan struct{}, 8), release: make(chan struct{})}
	e.reg = action.NewRegistry(action.Options{Idempotency: st, Audit: st})
	e.reg.Add(toyActions(e)...)
	if err := s.MountActions(restapi.ActionsOptions{Registry: e.reg, MaxBodyBytes: o.maxBody, MaxFileBytes: o.maxFile, SpoolDir: o.spoolDir}); err != nil {
		t.Fatal(err)
	}
	e.tenantA, e.keyA, e.connA = actTenant(t, st, keys, "tenant-a", "main", "111")
	e.tenantB, e.keyB, e.connB = actTenant(t, st, keys, "tenant-b", "other", "222")
	e.handler = s
	e.srv = httptest.NewServer(s)
	t.Cleanup(e.srv.Close)
	return e
}

// actTenant creates a tenant with an API key and one active connection.
// The connection's Desk base URL is never dialled by the toy actions.
func actTenant(t testing.TB, st store.Store, keys *apikey.Service, name, conn, org string) (*store.Tenant, deskconn.Secret, *store.Connection) {
	t.Helper()
	ctx := t.Context()
	ten, err := connection.EnsureTenant(ctx, st, name)
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := keys.Create(ctx, ten.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Connection{TenantID: ten.ID, Name: conn, ClientID: "1000.X", Status: store.StatusActive,
		Location: "us", AccountsServer: "https://accounts.zoho.com", DeskBaseURL: "https://desk.zoho.com/api/v1",
		OrgID: org, UserID: "9", UserEmail: "me@example.com"}
	if err := st.CreateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	return ten, k, c
}

// actResp is a decoded response.
type actResp struct {
	status int
	header http.Header
	body   []byte
}

func (r actResp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// problem decodes a problem document, checking its media type and that
// its status member equals the HTTP status.
func (r actResp) problem(t *testing.T) restapi.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (status %d, body %s)", ct, r.status, r.body)
	}
	var p restapi.Problem
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decode problem: %v\n%s", err, r.body)
	}
	if p.Status != r.status {
		t.Errorf("problem status %d != HTTP status %d", p.Status, r.status)
	}
	if p.Type == "" || p.Title == "" || p.Detail == "" || p.Code == "" || p.RequestID == "" {
		t.Errorf("problem lacks a required member: %+v", p)
	}
	if p.RequestID != r.header.Get("X-Request-Id") {
		t.Errorf("problem requestId %q != X-Request-Id %q", p.RequestID, r.header.Get("X-Request-Id"))
	}
	return p
}

// do sends a request with key (none if empty) and returns the response.
func (e *actEnv) do(t *testing.T, method, path string, key deskconn.Secret, body io.Reader, hdr map[string]string) actResp {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key.Reveal())
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return actResp{status: resp.StatusCode, header: resp.Header, body: b}
}

// run POSTs input to an action on a connection as tenant A.
func (e *actEnv) run(t *testing.T, conn, name, input string, hdr map[string]string) actResp {
	t.Helper()
	return e.do(t, http.MethodPost, "/v1/connections/"+conn+"/actions/"+name, e.keyA, strings.NewReader(input), hdr)
}
