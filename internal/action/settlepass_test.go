package action_test

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// keyringSealer seals settle inputs as the server does (bound to the key).
type keyringSealer struct{ kr *seal.Keyring }

func (s keyringSealer) aad(k store.IdemKey) seal.AAD {
	return seal.AAD{Table: "idempotency_records", RowID: k.Action + "." + k.Key, Column: "settle_input"}
}
func (s keyringSealer) SealInput(k store.IdemKey, p []byte) ([]byte, error) {
	return s.kr.Seal(p, s.aad(k))
}
func (s keyringSealer) OpenInput(k store.IdemKey, b []byte) ([]byte, error) {
	return s.kr.Open(b, s.aad(k))
}

func newSealer(t *testing.T) keyringSealer {
	t.Helper()
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return keyringSealer{kr}
}

// SettleAbandoned decides unknown outcomes without a retry: found, not
// written (the key is freed), undecided (looked at again later), or
// undecidable (left unknown for good); the settle input is stored sealed.
func TestSettleAbandoned(t *testing.T) {
	t.Parallel()
	lost := &zohodesk.APIError{StatusCode: 502, Code: "", Message: "bad gateway", Method: "POST", Path: "/tickets"}
	transient := &zohodesk.APIError{StatusCode: 500, Code: "INTERNAL_SERVER_ERROR", Message: "m", Method: "GET", Path: "/tickets"}
	tests := []struct {
		name       string
		settle     func(n int64) (toyOut, bool, error) // n: settler call, from 1
		resolveErr error
		want       action.SettleReport
		wantState  store.IdemState // "" for no record
		wantInput  bool            // the settle input is still kept
		retryOut   string          // a retry's output ("" for an error)
		retryCode  deskconn.Code
		wantWrites int64 // after the retry
	}{
		{name: "found", settle: func(int64) (toyOut, bool, error) { return toyOut{ID: "Z9", Subject: "Hello"}, true, nil },
			want: action.SettleReport{Found: 1}, wantState: store.IdemSucceeded, wantInput: true,
			retryOut: `{"id":"Z9","subject":"Hello"}`},
		{name: "not written", settle: func(int64) (toyOut, bool, error) { return toyOut{}, false, nil },
			want: action.SettleReport{NotSent: 1}, retryOut: `{"id":"T2","subject":"Hello"}`, wantWrites: 1},
		{name: "lookup fails", settle: func(int64) (toyOut, bool, error) { return toyOut{}, false, transient },
			want: action.SettleReport{Deferred: 1}, wantState: store.IdemUnknown, wantInput: true, retryCode: deskconn.CodeOutcomeUnknown},
		{name: "cannot tell", settle: func(int64) (toyOut, bool, error) {
			return toyOut{}, false, deskconn.Errorf(deskconn.CodeOutcomeUnknown, "2 tickets match")
		}, want: action.SettleReport{GaveUp: 1}, wantState: store.IdemUnknown, retryCode: deskconn.CodeOutcomeUnknown},
		{name: "connection gone", settle: func(int64) (toyOut, bool, error) { panic("no connection to look in") },
			resolveErr: deskconn.Errorf(deskconn.CodeNotFound, "no connection"),
			want:       action.SettleReport{GaveUp: 1}, wantState: store.IdemUnknown, retryCode: deskconn.CodeOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, clk, sealer := newFakeStore(), newClock(), newSealer(t)
			var settles atomic.Int64
			var since time.Time
			ty := &toy{
				fail: func(n int64) error {
					if n == 1 {
						return lost // the answer to the first write is lost
					}
					return nil
				},
				settle: func(_ context.Context, _ *action.Call, in toyIn, s time.Time) (toyOut, bool, error) {
					since = s
					if in.Payload.Subject != "Hello" {
						t.Errorf("settler got subject %q, want the input's", in.Payload.Subject)
					}
					return tt.settle(settles.Add(1))
				},
			}
			r := action.NewRegistry(action.Options{Idempotency: st, Audit: st, Now: clk.Now, Lease: 10 * time.Second, InputSealer: sealer})
			r.Add(ty.action("toy_create", action.Hints{}))
			if _, err := invokeK(t, r); deskconn.ErrorCode(err) != deskconn.CodeUnavailable {
				t.Fatalf("first call = %v, want unavailable (outcome unknown)", err)
			}
			rec, _ := st.record(keyOf("k"))
			dispatched := rec.DispatchedAt
			if rec.State != store.IdemUnknown || rec.SettleInput == nil || bytes.Contains(rec.SettleInput, []byte("Hello")) {
				t.Fatalf("record after a lost answer: state %q, settle input %q; want unknown with a sealed input", rec.State, rec.SettleInput)
			}
			resolve := func(_ context.Context, tenant, conn string) (action.Target, error) {
				if tenant != "ten1" || conn != "c1" {
					t.Errorf("resolve(%q, %q), want the record's tenant and connection", tenant, conn)
				}
				return target(), tt.resolveErr
			}

			// Too soon after the dispatch: nothing is looked at.
			clk.Advance(10 * time.Second)
			if rep, err := r.SettleAbandoned(t.Context(), resolve); err != nil || rep != (action.SettleReport{}) {
				t.Fatalf("before SettleAfter: %+v, %v; want nothing done", rep, err)
			}
			clk.Advance(time.Minute)
			rep, err := r.SettleAbandoned(t.Context(), resolve)
			if err != nil || rep != tt.want {
				t.Fatalf("SettleAbandoned = %+v, %v; want %+v", rep, err, tt.want)
			}
			if settles.Load() > 0 && !since.Equal(dispatched) {
				t.Errorf("settler since %v, want the dispatch time %v", since, dispatched)
			}
			rec, ok := st.record(keyOf("k"))
			if got := rec.State; !ok && tt.wantState != "" || ok && got != tt.wantState {
				t.Fatalf("record after the pass: %+v (found %v); want state %q", rec, ok, tt.wantState)
			}
			if ok && (rec.SettleInput != nil) != tt.wantInput {
				t.Errorf("settle input kept = %v, want %v", rec.SettleInput != nil, tt.wantInput)
			}
			if ok && !rec.HeartbeatAt.IsZero() {
				t.Errorf("the pass left the record held: %+v", rec)
			}
			if tt.want.Found+tt.want.NotSent == 1 {
				audits := st.audits()
				if last := audits[len(audits)-1]; !strings.Contains(last.Detail, "settled in the background") || last.Action != "toy_create" {
					t.Errorf("last audit record = %+v, want the background settlement", last)
				}
			}

			// A pass right after does nothing more: an undecided record
			// waits for its backoff, a decided one is done.
			n := settles.Load()
			if rep, _ := r.SettleAbandoned(t.Context(), resolve); rep != (action.SettleReport{}) || settles.Load() != n {
				t.Errorf("second pass at once = %+v, settler calls %d→%d; want nothing", rep, n, settles.Load())
			}
			if tt.want.Deferred == 1 {
				clk.Advance(2 * time.Hour)
				if rep, _ := r.SettleAbandoned(t.Context(), resolve); rep.Deferred != 1 || settles.Load() != n+1 {
					t.Errorf("after the backoff = %+v, settler calls %d; want it looked at again", rep, settles.Load())
				}
			}

			// The client's retry agrees, and nothing is ever sent twice.
			out, err := invokeK(t, r)
			if string(out) != tt.retryOut || deskconn.ErrorCode(err) != tt.retryCode {
				t.Errorf("retry = %s, %v; want %s, code %q", out, err, tt.retryOut, tt.retryCode)
			}
			if got := ty.sent.Load(); got != tt.wantWrites {
				t.Errorf("%d writes reached Zoho after the first, want %d", got, tt.wantWrites)
			}
		})
	}
}

// Without a sealer the records keep no input and no pass settles them.
func TestSettleAbandonedNeedsSealer(t *testing.T) {
	t.Parallel()
	st, clk := newFakeStore(), newClock()
	ty := &toy{fail: func(int64) error { return &zohodesk.APIError{StatusCode: 502, Method: "POST", Path: "/tickets"} },
		settle: func(context.Context, *action.Call, toyIn, time.Time) (toyOut, bool, error) { panic("settled") }}
	r := action.NewRegistry(action.Options{Idempotency: st, Now: clk.Now})
	r.Add(ty.action("toy_create", action.Hints{}))
	_, _ = invokeK(t, r)
	if rec, _ := st.record(keyOf("k")); rec.State != store.IdemUnknown || rec.SettleInput != nil {
		t.Fatalf("record = %+v, want unknown without a settle input", rec)
	}
	clk.Advance(time.Hour)
	if rep, err := r.SettleAbandoned(t.Context(), nil); err != nil || rep != (action.SettleReport{}) {
		t.Errorf("SettleAbandoned = %+v, %v; want nothing", rep, err)
	}
}
