package zohodesk

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// eventLog records, in order, what the limiter, the hook and the server saw.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.events
	l.events = nil
	return e
}

type loggingLimiter struct{ log *eventLog }

func (l loggingLimiter) Acquire(context.Context, string) (func(), error) {
	l.log.add("acquire")
	return func() { l.log.add("release") }, nil
}

func TestDispatchHook(t *testing.T) {
	t.Parallel()
	log := &eventLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add("server " + r.Method)
		w.Write([]byte(fixture(t, "ticket.json")))
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + basePath, Tokens: StaticToken(testToken), Limiter: loggingLimiter{log}})
	if err != nil {
		t.Fatal(err)
	}
	var hookErr error
	ctx := WithDispatchHook(t.Context(), func(context.Context) error {
		log.add("hook")
		return hookErr
	})
	create := &TicketCreateRequest{Subject: "s", DepartmentID: "1", ContactID: "2"}

	// A write: the hook runs after the limiter admitted it, before it is sent.
	if _, _, err := c.Tickets.Create(ctx, testOrg, create); err != nil {
		t.Fatalf("Create = %v", err)
	}
	if got, want := log.take(), []string{"acquire", "hook", "server POST", "release"}; !slices.Equal(got, want) {
		t.Errorf("write: events %q, want %q", got, want)
	}

	// A read never calls the hook.
	if _, _, err := c.Tickets.Get(ctx, testOrg, "1", nil); err != nil {
		t.Fatalf("Get = %v", err)
	}
	if got, want := log.take(), []string{"acquire", "server GET", "release"}; !slices.Equal(got, want) {
		t.Errorf("read: events %q, want %q", got, want)
	}

	// A hook that fails stops the write before anything is sent.
	hookErr = errors.New("lease lost")
	_, _, err = c.Tickets.Create(ctx, testOrg, create)
	var te *TransportError
	if !errors.As(err, &te) || te.MaybeSent || !errors.Is(err, hookErr) || !errors.Is(err, ErrRequestNotSent) {
		t.Errorf("Create with a failing hook = %#v; want a not-sent TransportError wrapping the hook's error", err)
	}
	if got, want := log.take(), []string{"acquire", "hook", "release"}; !slices.Equal(got, want) {
		t.Errorf("failing hook: events %q, want %q", got, want)
	}
}
