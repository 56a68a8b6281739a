package zohodesk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Each HTTP attempt is bounded in time by the Client itself, in one of two
// ways (Config.AttemptTimeout, Config.StallTimeout):
//
//   - A call whose request and answer are small and read whole (every call
//     but uploads and attachment downloads) must be answered, to its last
//     byte, within AttemptTimeout of being sent.
//   - An upload or a download is bounded only by progress: it fails when no
//     byte of it moves for StallTimeout, however long it takes in total, so
//     that a 20 MiB attachment on a slow link is not cut off while a
//     connection that went silent still is. Waiting for the answer's
//     headers counts as a stall; so does time the caller of Download spends
//     between reads of the body.
//
// An http.Client.Timeout set in Config.HTTPClient still applies to every
// attempt as well.

// Default attempt bounds.
const (
	// DefaultAttemptTimeout is Config.AttemptTimeout's default.
	DefaultAttemptTimeout = 30 * time.Second
	// DefaultStallTimeout is Config.StallTimeout's default: as long as the
	// default transport waits for an answer's headers (NewTransport).
	DefaultStallTimeout = 60 * time.Second
)

// ErrAttemptTimeout is matched (errors.Is) by the error of an attempt that
// ran out of time: see TimeoutError.
var ErrAttemptTimeout = errors.New("zohodesk: attempt timed out")

// TimeoutError is the error of an HTTP attempt the Client gave up on: a
// call not answered in full within Config.AttemptTimeout, or an upload or
// download that made no progress for Config.StallTimeout. It reaches the
// caller inside a *TransportError (or from a Read of a downloaded body),
// and is a timeout in the sense of net.Error.
type TimeoutError struct {
	// Stalled is true for an upload or download that stopped moving, false
	// for a call that was not answered in time.
	Stalled bool
	// After is the bound that was reached.
	After time.Duration
}

func (e *TimeoutError) Error() string {
	if e.Stalled {
		return fmt.Sprintf("zohodesk: transfer stalled: nothing sent or received for %s", e.After)
	}
	return fmt.Sprintf("zohodesk: no complete answer within %s", e.After)
}

// Timeout reports true, as net.Error's Timeout does for a timed-out call.
func (e *TimeoutError) Timeout() bool { return true }

// Is makes errors.Is(err, ErrAttemptTimeout) true.
func (e *TimeoutError) Is(target error) bool { return target == ErrAttemptTimeout }

// attemptClock bounds one attempt: it cancels the attempt's context (ctx,
// derived from the call's, parent) with a *TimeoutError when its timer
// fires. For a transfer, progress pushes the timer back.
type attemptClock struct {
	parent context.Context
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	limit  time.Duration
	stall  bool
}

// startAttempt returns the context of one attempt of r, derived from ctx,
// and its clock; the attempt must end with clock.end.
func (c *Client) startAttempt(ctx context.Context, r *request) *attemptClock {
	actx, cancel := context.WithCancelCause(ctx)
	k := &attemptClock{parent: ctx, ctx: actx, cancel: cancel, limit: c.attemptTimeout, stall: r.transfers()}
	if k.stall {
		k.limit = c.stallTimeout
	}
	k.timer = time.AfterFunc(k.limit, func() { cancel(&TimeoutError{Stalled: k.stall, After: k.limit}) })
	return k
}

// progress records that a byte of a transfer moved.
func (k *attemptClock) progress() {
	if k.stall {
		k.timer.Reset(k.limit)
	}
}

// end stops the clock and releases the attempt's context.
func (k *attemptClock) end() {
	k.timer.Stop()
	k.cancel(context.Canceled)
}

// cause returns the clock's *TimeoutError if it fired, else err. The
// caller's own cancellation is reported as such, never as a timeout.
func (k *attemptClock) cause(err error) error {
	if k.parent.Err() != nil {
		return err
	}
	var te *TimeoutError
	if errors.As(context.Cause(k.ctx), &te) {
		return te
	}
	return err
}

// watchedBody is a request or response body whose reads are an attempt's
// progress, and whose errors say so when the attempt's clock ended it.
type watchedBody struct {
	io.ReadCloser
	clock *attemptClock
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.clock.progress()
	}
	if err != nil && err != io.EOF {
		err = b.clock.cause(err)
	}
	return n, err
}
