package connection_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/store"
)

func TestConnectFlowSingleOrg(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	c := e.connect("support")
	if c.Status != store.StatusActive {
		t.Fatalf("status = %s, want active (last error %q)", c.Status, c.LastError)
	}
	if c.OrgID != emulator.DemoOrgID || c.Location != "us" || c.DeskBaseURL != e.srv.URL+"/api/v1" || c.AccountsServer != e.srv.URL {
		t.Errorf("connection = org %q loc %q desk %q accounts %q", c.OrgID, c.Location, c.DeskBaseURL, c.AccountsServer)
	}
	if c.UserEmail != emulator.SingleOrgUser || c.UserID == "" {
		t.Errorf("self-test user = %q %q", c.UserID, c.UserEmail)
	}
	// The client works with the stored token.
	client, _, err := e.m.Client(t.Context(), e.tenant.ID, "support")
	if err != nil {
		t.Fatal(err)
	}
	me, _, err := client.MyInfo(t.Context(), c.OrgID, nil)
	if err != nil || me.EmailID != emulator.SingleOrgUser {
		t.Fatalf("myinfo = %v, %v", me, err)
	}
	if n := e.emu.Counters().CodeExchanges; n != 1 {
		t.Errorf("code exchanges = %d, want 1", n)
	}
}

// A user of several organisations picks one on Zoho's consent screen and the
// token is bound to it (facts §1.2): deskconn must take that org, not the
// first of the user's organisations.
func TestConnectFlowMultiOrgBoundAtConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.DemoUser, AutoConsentOrgID: emulator.SecondOrgID}})
	c := e.connect("multi")
	if c.Status != store.StatusActive || c.OrgID != emulator.SecondOrgID {
		t.Fatalf("status %s org %q, want active with the org chosen at consent %q", c.Status, c.OrgID, emulator.SecondOrgID)
	}
}

// When Zoho does not say which org the token is bound to
// (accessibleOrganizations fails) and the user has several, the person picks
// on the page: deskconn never takes [0].
func TestConnectFlowMultiOrgChoice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.DemoUser}})
	e.emu.SetFaults(emulator.Fault{Kind: emulator.FaultStatus, PathPrefix: "/api/v1/accessibleOrganizations", Status: 403, ErrorCode: "FORBIDDEN"})
	c := e.connect("multi")
	if c.Status != store.StatusChooseOrg {
		t.Fatalf("status = %s, want choose_org", c.Status)
	}
	if c.OrgID != "" {
		t.Fatalf("an org was picked without the person: %q", c.OrgID)
	}
	choices := connection.OrgChoices(c)
	if len(choices) != 2 {
		t.Fatalf("choices = %v", choices)
	}
	if _, err := e.m.ChooseOrg(t.Context(), e.tenant.ID, "multi", "999"); deskconn.ErrorCode(err) != deskconn.CodeInvalid {
		t.Fatalf("choosing an org not offered: %v", err)
	}
	got, err := e.m.ChooseOrg(t.Context(), e.tenant.ID, "multi", emulator.DemoOrgID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusActive || got.OrgID != emulator.DemoOrgID || got.UserEmail != emulator.DemoUser {
		t.Fatalf("after choice: %s %s %s", got.Status, got.OrgID, got.UserEmail)
	}
}

func TestCallbackFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	e.create("c1")
	start := func() url.Values {
		u, err := e.m.AuthorizeURL(t.Context(), e.tenant.ID, "c1", "/")
		if err != nil {
			t.Fatal(err)
		}
		au, _ := url.Parse(u)
		q := au.Query()
		if q.Get("access_type") != "offline" || q.Get("prompt") != "consent" || len(q.Get("state")) < 22 || q.Get("redirect_uri") != testBase+"/oauth/callback" {
			t.Fatalf("authorize url query = %v", q)
		}
		if !strings.HasPrefix(u, e.srv.URL+"/oauth/v2/auth?") {
			t.Fatalf("authorize url %q not at the entry accounts server", u)
		}
		return q
	}
	t.Run("denied", func(t *testing.T) {
		st := start().Get("state")
		_, err := e.m.Callback(t.Context(), url.Values{"state": {st}, "error": {"access_denied"}})
		if !errors.Is(err, connection.ErrConsentDenied) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("replayed", func(t *testing.T) {
		u, _ := e.m.AuthorizeURL(t.Context(), e.tenant.ID, "c1", "")
		q := e.authorize(u)
		if _, err := e.m.Callback(t.Context(), q); err != nil {
			t.Fatal(err)
		}
		before := e.emu.Counters().CodeExchanges
		_, err := e.m.Callback(t.Context(), q)
		if !errors.Is(err, connection.ErrStateInvalid) {
			t.Fatalf("replay err = %v", err)
		}
		if e.emu.Counters().CodeExchanges != before {
			t.Fatal("a replayed state reached the token endpoint")
		}
	})
	t.Run("unknown state", func(t *testing.T) {
		_, err := e.m.Callback(t.Context(), url.Values{"state": {"nope"}, "code": {"x"}})
		if !errors.Is(err, connection.ErrStateInvalid) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		u, _ := e.m.AuthorizeURL(t.Context(), e.tenant.ID, "c1", "")
		q := e.authorize(u)
		e.clock.Add(11 * time.Minute)
		defer e.clock.Add(-11 * time.Minute)
		before := e.emu.Counters().CodeExchanges
		_, err := e.m.Callback(t.Context(), q)
		if !errors.Is(err, connection.ErrStateExpired) {
			t.Fatalf("err = %v", err)
		}
		if e.emu.Counters().CodeExchanges != before {
			t.Fatal("an expired state reached the token endpoint")
		}
	})
	for _, bad := range []string{"https://evil.example", "http://127.0.0.2:1", e.srv.URL + "/x", "https://accounts.zoho.com.evil.example", ""} {
		t.Run("foreign accounts server "+bad, func(t *testing.T) {
			u, _ := e.m.AuthorizeURL(t.Context(), e.tenant.ID, "c1", "")
			q := e.authorize(u)
			q.Set("accounts-server", bad)
			q.Set("location", "zz")
			before := e.emu.Counters().CodeExchanges
			_, err := e.m.Callback(t.Context(), q)
			if !errors.Is(err, connection.ErrUnknownAccountsServer) {
				t.Fatalf("err = %v", err)
			}
			if e.emu.Counters().CodeExchanges != before {
				t.Fatal("the code was sent somewhere")
			}
		})
	}
	t.Run("location mismatch", func(t *testing.T) {
		u, _ := e.m.AuthorizeURL(t.Context(), e.tenant.ID, "c1", "")
		q := e.authorize(u)
		q.Set("location", "eu")
		_, err := e.m.Callback(t.Context(), q)
		if !errors.Is(err, connection.ErrUnknownAccountsServer) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("zoho refuses the code", func(t *testing.T) {
		good := e.connectAgain(t, "c1")
		u, _ := e.m.AuthorizeURL(t.Context(), e.tenant.ID, "c1", "")
		q := e.authorize(u)
		q.Set("code", "1000.bad.code")
		_, err := e.m.Callback(t.Context(), q)
		if !errors.Is(err, connection.ErrZoho) {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "1000.bad.code") {
			t.Fatal("the code leaked into the error")
		}
		after, _ := e.m.Get(t.Context(), e.tenant.ID, "c1")
		if after.Status != store.StatusActive || string(after.SealedRefreshToken) != string(good.SealedRefreshToken) {
			t.Fatal("a failed reconnect changed the good connection")
		}
	})
}

// connectAgain runs the flow for an existing connection.
func (e *env) connectAgain(t *testing.T, name string) *store.Connection {
	t.Helper()
	u, err := e.m.AuthorizeURL(t.Context(), e.tenant.ID, name, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.m.Callback(t.Context(), e.authorize(u))
	if err != nil {
		t.Fatal(err)
	}
	return res.Connection
}

func TestReconnectRevokesSupersededToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	e.connect("rc")
	if n := e.emu.RefreshTokenCount(testClientID, emulator.SingleOrgUser); n != 1 {
		t.Fatalf("refresh tokens = %d", n)
	}
	for range 3 {
		e.connectAgain(t, "rc")
	}
	if n := e.emu.RefreshTokenCount(testClientID, emulator.SingleOrgUser); n != 1 {
		t.Fatalf("after 3 reconnects the user holds %d refresh tokens, want 1", n)
	}
	if err := e.m.Delete(t.Context(), e.tenant.ID, "rc"); err != nil {
		t.Fatal(err)
	}
	if n := e.emu.RefreshTokenCount(testClientID, emulator.SingleOrgUser); n != 0 {
		t.Fatalf("after delete the user holds %d refresh tokens, want 0", n)
	}
	if _, err := e.m.Get(t.Context(), e.tenant.ID, "rc"); deskconn.ErrorCode(err) != deskconn.CodeNotFound {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestCreateValidationAndTenancy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	_, err := e.m.Create(t.Context(), e.tenant.ID, connection.CreateInput{Name: "bad name!", Scopes: []string{"Desk.tickets.ALL", "bad scope"}})
	de := wantCode(t, err, deskconn.CodeInvalid)
	var ptrs []string
	for _, f := range de.Fields {
		ptrs = append(ptrs, f.Pointer)
	}
	if got := strings.Join(ptrs, " "); got != "/name /clientId /clientSecret /scopes/1" {
		t.Fatalf("field pointers = %q", got)
	}
	c := e.create("x")
	if strings.Join(c.Scopes, ",") != strings.Join(connection.DefaultScopes, ",") {
		t.Fatalf("default scopes = %v", c.Scopes)
	}
	if _, err := e.m.Create(t.Context(), e.tenant.ID, connection.CreateInput{Name: "x", ClientID: "a", ClientSecret: "b"}); deskconn.ErrorCode(err) != deskconn.CodeConflict {
		t.Fatalf("duplicate: %v", err)
	}
	other, err := connection.EnsureTenant(t.Context(), e.st, "other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Get(t.Context(), other.ID, "x"); deskconn.ErrorCode(err) != deskconn.CodeNotFound {
		t.Fatalf("other tenant by name: %v", err)
	}
	if _, err := e.m.Get(t.Context(), other.ID, c.ID); deskconn.ErrorCode(err) != deskconn.CodeNotFound {
		t.Fatalf("other tenant by id: %v", err)
	}
	if _, err := e.m.AuthorizeURL(t.Context(), other.ID, c.ID, ""); deskconn.ErrorCode(err) != deskconn.CodeNotFound {
		t.Fatalf("other tenant authorize: %v", err)
	}
	if _, _, err := e.m.Client(t.Context(), e.tenant.ID, "x"); deskconn.ErrorCode(err) != deskconn.CodeInvalid {
		t.Fatalf("client of a pending connection: %v", err)
	}
}

// TestNamesCannotShadowIDs checks that a name shaped like a connection id is
// refused, naming the field, and that an id resolves to its own connection
// even when an older row carries that id as its name.
func TestNamesCannotShadowIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	victim := e.create("victim")
	for _, name := range []string{victim.ID, "conn_000000000000000000000000", "CONN_x"} {
		_, err := e.m.Create(t.Context(), e.tenant.ID, connection.CreateInput{Name: name, ClientID: testClientID, ClientSecret: testSecret})
		de := wantCode(t, err, deskconn.CodeInvalid)
		if len(de.Fields) != 1 || de.Fields[0].Pointer != "/name" || !strings.Contains(de.Fields[0].Message, "conn_") {
			t.Fatalf("name %q: fields = %+v", name, de.Fields)
		}
	}
	// A row stored before names were checked: its name is the victim's id.
	shadow := &store.Connection{TenantID: e.tenant.ID, Name: victim.ID, ClientID: testClientID, Status: store.StatusPending}
	if err := e.st.CreateConnection(t.Context(), shadow); err != nil {
		t.Fatal(err)
	}
	got, err := e.m.Get(t.Context(), e.tenant.ID, victim.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != victim.ID {
		t.Fatalf("id %s resolved to connection %s (%q)", victim.ID, got.ID, got.Name)
	}
	if got, err := e.m.Get(t.Context(), e.tenant.ID, "victim"); err != nil || got.ID != victim.ID {
		t.Fatalf("by name: %v, %v", got, err)
	}
}
