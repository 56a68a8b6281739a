package action_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

// replyAction is a customer-visible write that is not destructive.
func replyAction() *action.Action {
	return action.Define("toy_reply", action.Info{
		Title: "Toy reply", Description: "Sends a toy reply to the customer.", Write: true, CustomerVisible: true,
	}, func(ctx context.Context, call *action.Call, in trashIn) (trashOut, error) {
		return trashOut{Moved: in.TicketIDs}, nil
	})
}

func policyCatalogue() []*action.Action {
	var n atomic.Int64
	return []*action.Action{readAction(&n), (&toy{}).define("toy_create", action.Hints{}), replyAction(), trashAction(&n)}
}

func TestEffectivePoliciesDefaults(t *testing.T) {
	t.Parallel()
	got := action.EffectivePolicies(policyCatalogue(), map[string]string{"toy_create": "deny"})
	want := []action.PolicyEntry{
		{Action: "toy_read", Kind: "read", Policy: action.PolicyAllow, Default: action.PolicyAllow},
		{Action: "toy_create", Kind: "write", Policy: action.PolicyDeny, Default: action.PolicyAllow, Set: true},
		{Action: "toy_reply", Kind: "customer_visible", Policy: action.PolicyConfirm, Default: action.PolicyConfirm},
		{Action: "toy_trash", Kind: "destructive", Policy: action.PolicyConfirm, Default: action.PolicyConfirm},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("EffectivePolicies (-want +got):\n%s", d)
	}
}

func TestPresetPolicies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		preset string
		want   map[string]string
	}{
		{action.PresetReadOnly, map[string]string{"toy_create": "deny", "toy_reply": "deny", "toy_trash": "deny"}},
		{action.PresetNoCustomerVisibleWrites, map[string]string{"toy_reply": "deny"}},
	} {
		got, err := action.PresetPolicies(tc.preset, policyCatalogue())
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.preset, d)
		}
	}
	if _, err := action.PresetPolicies("all-open", policyCatalogue()); err == nil {
		t.Error("an unknown preset was accepted")
	}
}

func TestCheckPolicies(t *testing.T) {
	t.Parallel()
	if err := action.CheckPolicies(policyCatalogue(), map[string]string{"toy_read": "deny", "toy_trash": "allow"}, "/policies"); err != nil {
		t.Errorf("valid policies refused: %v", err)
	}
	err := action.CheckPolicies(policyCatalogue(), map[string]string{"toy/x": "allow", "toy_read": "Allow", "toy_trash": "confirm"}, "/policies")
	var de *deskconn.Error
	if !errors.As(err, &de) || de.Code != deskconn.CodeInvalid {
		t.Fatalf("err = %v, want invalid", err)
	}
	var ptrs []string
	for _, f := range de.Fields {
		ptrs = append(ptrs, f.Pointer)
	}
	if d := cmp.Diff([]string{"/policies/toy~1x", "/policies/toy_read"}, ptrs); d != "" {
		t.Errorf("pointers (-want +got):\n%s", d)
	}
	err = action.CheckPolicies(policyCatalogue(), map[string]string{"toy_read": "confirm"}, "/policies")
	if !errors.As(err, &de) || len(de.Fields) != 1 || !strings.Contains(de.Fields[0].Message, "nothing to confirm") {
		t.Errorf("confirm on a read: %v", err)
	}
}

func TestCustomerVisibleNeedsWrite(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("Define accepted a customer-visible read")
		}
	}()
	action.Define("bad", action.Info{Title: "Bad", Description: "A read that claims to be customer-visible.", CustomerVisible: true},
		func(ctx context.Context, call *action.Call, in readIn) (toyOut, error) { return toyOut{}, nil })
}

func TestCustomerVisibleWriteNeedsConfirm(t *testing.T) {
	t.Parallel()
	reg := action.NewRegistry(action.Options{})
	reg.Add(replyAction())
	_, err := reg.Invoke(t.Context(), target(), "toy_reply", []byte(`{"ticketIds":["1"]}`), action.InvokeOptions{})
	if !errors.Is(err, action.ErrConfirmationRequired) {
		t.Errorf("unconfirmed customer-visible write: %v, want confirmation required", err)
	}
	if _, err := reg.Invoke(t.Context(), target(), "toy_reply", []byte(`{"ticketIds":["1"],"confirm":true}`), action.InvokeOptions{}); err != nil {
		t.Errorf("confirmed: %v", err)
	}
}
