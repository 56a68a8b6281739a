package action

import (
	"fmt"
	"sort"
	"strings"

	"github.com/deskconn/deskconn"
)

// Presets name ready-made policy sets for a connection (see PresetPolicies).
const (
	// PresetReadOnly denies every write: agents may only read.
	PresetReadOnly = "read-only"
	// PresetNoCustomerVisibleWrites denies the writes a customer sees
	// (Info.CustomerVisible, e.g. reply_to_ticket); other actions keep
	// their defaults.
	PresetNoCustomerVisibleWrites = "no-customer-visible-writes"
)

// Presets lists the preset names PresetPolicies accepts.
var Presets = []string{PresetReadOnly, PresetNoCustomerVisibleWrites}

// ParsePolicy returns the policy named s ("allow", "deny" or "confirm"), or
// an error saying which values are accepted.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicyAllow, PolicyDeny, PolicyConfirm:
		return p, nil
	}
	return "", fmt.Errorf("unknown policy %q: use allow, deny or confirm", s)
}

// PresetPolicies returns the policies of the named preset over actions: a
// complete set of a connection's policies (it replaces any set before).
func PresetPolicies(name string, actions []*Action) (map[string]string, error) {
	out := map[string]string{}
	switch name {
	case PresetReadOnly:
		for _, a := range actions {
			if a.IsWrite() {
				out[a.name] = string(PolicyDeny)
			}
		}
	case PresetNoCustomerVisibleWrites:
		for _, a := range actions {
			if a.IsCustomerVisible() {
				out[a.name] = string(PolicyDeny)
			}
		}
	default:
		return nil, fmt.Errorf("unknown preset %q: use %s", name, strings.Join(Presets, " or "))
	}
	return out, nil
}

// CheckPolicies validates a connection's policies against the catalogue:
// every key must name an action and every value be a policy, and confirm
// is for writes only (a read has nothing to confirm). The error is
// an invalid *deskconn.Error naming each bad entry as a JSON Pointer under
// pointer (e.g. "/policies"), in name order.
func CheckPolicies(actions []*Action, policies map[string]string, pointer string) error {
	known := make(map[string]*Action, len(actions))
	for _, a := range actions {
		known[a.name] = a
	}
	names := make([]string, 0, len(policies))
	for n := range policies {
		names = append(names, n)
	}
	sort.Strings(names)
	var problems []deskconn.FieldError
	for _, n := range names {
		ptr := pointer + "/" + pointerToken(n)
		a := known[n]
		if a == nil {
			problems = append(problems, deskconn.FieldError{Pointer: ptr, Code: problemInvalid,
				Message: fmt.Sprintf("no action %q: use a name listed by GET /v1/actions or `deskconn actions`", n)})
			continue
		}
		p, err := ParsePolicy(policies[n])
		switch {
		case err != nil:
			problems = append(problems, deskconn.FieldError{Pointer: ptr, Code: problemInvalid, Message: err.Error()})
		case p == PolicyConfirm && !a.info.Write:
			problems = append(problems, deskconn.FieldError{Pointer: ptr, Code: problemInvalid,
				Message: fmt.Sprintf("%s only reads, so there is nothing to confirm: use allow or deny", n)})
		}
	}
	if len(problems) > 0 {
		return deskconn.Invalid("the policies are not valid", problems...)
	}
	return nil
}

// PolicyEntry is one action's effective policy on a connection.
type PolicyEntry struct {
	Action string `json:"action"`
	// Kind is "read", "write", "customer_visible" or "destructive".
	Kind string `json:"kind"`
	// Policy is what applies: the connection's setting, else Default.
	Policy Policy `json:"policy"`
	// Default is the action's default policy (Action.DefaultPolicy).
	Default Policy `json:"default"`
	// Set: the connection sets Policy explicitly.
	Set bool `json:"set"`
}

// Kind returns "destructive", "customer_visible", "write" or "read".
func (a *Action) Kind() string {
	switch {
	case a.info.Hints.Destructive:
		return "destructive"
	case a.info.CustomerVisible:
		return "customer_visible"
	case a.info.Write:
		return "write"
	default:
		return "read"
	}
}

// EffectivePolicies returns, in catalogue order, the policy each action
// runs under on a connection with these policies.
func EffectivePolicies(actions []*Action, policies map[string]string) []PolicyEntry {
	out := make([]PolicyEntry, 0, len(actions))
	for _, a := range actions {
		e := PolicyEntry{Action: a.name, Kind: a.Kind(), Default: a.DefaultPolicy(), Policy: a.DefaultPolicy()}
		if p, ok := policies[a.name]; ok {
			e.Policy, e.Set = Policy(p), true
		}
		out = append(out, e)
	}
	return out
}
