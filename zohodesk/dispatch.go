package zohodesk

import (
	"context"
	"net/http"
)

type dispatchHookKey struct{}

// DispatchHook is called by the Client just before a write request may leave
// the process. See WithDispatchHook.
type DispatchHook func(ctx context.Context) error

// WithDispatchHook returns a copy of ctx under which the Client calls hook
// before it sends any request whose method is not GET or HEAD (a write):
// after the per-org limiter admitted the request and the access token was
// obtained, immediately before the first byte may leave the process. It is
// called again before every retry of the request, so it must be idempotent.
//
// If hook returns an error, the request is not sent: the call fails with a
// *TransportError whose MaybeSent is false (unless an earlier attempt of
// the same call may have been sent) and which wraps hook's error.
//
// A caller that must know whether a write could have reached Zoho (to
// record it before a crash can lose that fact) records it in hook.
func WithDispatchHook(ctx context.Context, hook DispatchHook) context.Context {
	return context.WithValue(ctx, dispatchHookKey{}, hook)
}

// dispatchHook returns the hook of ctx for a request with this method, or
// nil.
func dispatchHook(ctx context.Context, method string) DispatchHook {
	if method == http.MethodGet || method == http.MethodHead {
		return nil
	}
	h, _ := ctx.Value(dispatchHookKey{}).(DispatchHook)
	return h
}

// BeforeDispatch calls the dispatch hook of ctx (see WithDispatchHook), if
// any, and returns its error. Code that sends a write to Zoho Desk by other
// means than a Client calls it first, and does not send when it fails.
func BeforeDispatch(ctx context.Context) error {
	if h := dispatchHook(ctx, http.MethodPost); h != nil {
		return h(ctx)
	}
	return nil
}
