package restapi

import (
	"net/http"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/store"
)

// The routes of a connection's policies (mounted by MountActions, which
// holds the catalogue they are checked against).
const (
	RouteGetPolicies = "GET /v1/connections/{connection}/policies"
	RoutePutPolicies = "PUT /v1/connections/{connection}/policies"
)

// PolicyList is the body of GET and PUT /v1/connections/{connection}/policies:
// every action of the catalogue with the policy it runs under on the
// connection.
type PolicyList struct {
	Connection string               `json:"connection"` // the connection's name
	Policies   []action.PolicyEntry `json:"policies"`
}

// PolicyUpdate is the body of PUT /v1/connections/{connection}/policies:
// either Policies, the connection's complete set of explicit policies
// (action name to "allow", "deny" or "confirm"; an action left out runs
// under its default), or Preset, a named set (action.Presets) that
// replaces them.
type PolicyUpdate struct {
	Policies map[string]string `json:"policies,omitempty"`
	Preset   string            `json:"preset,omitempty"`
}

// PolicyView returns the policies of c over the catalogue actions.
func PolicyView(c *store.Connection, actions []*action.Action) PolicyList {
	return PolicyList{Connection: c.Name, Policies: action.EffectivePolicies(actions, c.Policies)}
}

func (h *actionHandlers) getPolicies(w http.ResponseWriter, r *http.Request) {
	c, err := h.s.opts.Manager.Get(r.Context(), TenantID(r.Context()), r.PathValue("connection"))
	if err == nil {
		err = KeyScope(r.Context()).CheckConnection(c.ID, c.Name)
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, PolicyView(c, h.reg.List()))
}

func (h *actionHandlers) putPolicies(w http.ResponseWriter, r *http.Request) {
	if err := requireFullKey(r.Context(), "change policies"); err != nil {
		WriteError(w, r, err)
		return
	}
	var req PolicyUpdate
	if err := DecodeJSON(w, r, h.s.opts.MaxBodyBytes, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	actions := h.reg.List()
	next, err := policiesOf(req, actions)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	c, err := h.s.opts.Manager.SetPolicies(r.Context(), TenantID(r.Context()), r.PathValue("connection"),
		func(map[string]string) (map[string]string, error) { return next, nil })
	if err != nil {
		WriteError(w, r, err)
		return
	}
	h.s.log.Info("policies changed over REST", "tenant", TenantID(r.Context()), "api_key", APIKeyID(r.Context()), "connection", c.ID)
	WriteJSON(w, http.StatusOK, PolicyView(c, actions))
}

// policiesOf returns the complete policy set an update asks for, or an
// invalid error naming the field to fix.
func policiesOf(req PolicyUpdate, actions []*action.Action) (map[string]string, error) {
	switch {
	case req.Preset != "" && req.Policies != nil:
		return nil, deskconn.Invalid("send either policies or preset, not both",
			deskconn.FieldError{Pointer: "/preset", Code: "invalid", Message: "leave out preset when sending policies"})
	case req.Preset != "":
		p, err := action.PresetPolicies(req.Preset, actions)
		if err != nil {
			return nil, deskconn.Invalid("unknown preset", deskconn.FieldError{Pointer: "/preset", Code: "invalid", Message: err.Error()})
		}
		return p, nil
	case req.Policies == nil:
		return nil, deskconn.Invalid("send policies (an object of action name to allow, deny or confirm; {} resets every action to its default) or preset",
			deskconn.FieldError{Pointer: "/policies", Code: "missing", Message: "required unless preset is given"})
	}
	if err := action.CheckPolicies(actions, req.Policies, "/policies"); err != nil {
		return nil, err
	}
	return req.Policies, nil
}
