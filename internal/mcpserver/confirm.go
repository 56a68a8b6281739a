package mcpserver

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

// confirmSchema is what the elicitation asks the person for: one yes/no.
var confirmSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"confirm": map[string]any{"type": "boolean", "title": "Go ahead", "description": "Yes: do it now. It cannot be undone from here."},
	},
	"required": []string{"confirm"},
}

// canElicit reports whether the client of ss said it can ask its user
// (the elicitation capability).
func canElicit(ss *mcp.ServerSession) bool {
	if ss == nil {
		return false
	}
	p := ss.InitializeParams()
	return p != nil && p.Capabilities != nil && p.Capabilities.Elicitation != nil
}

// confirmInputID names the confirmation in a tool call's input requests.
const confirmInputID = "confirm"

// confirmByElicitation handles a call refused under the confirm policy
// when the client can ask its user. The first time, it answers with an
// input request (MCP multi-round-trip requests; the SDK turns it into an
// elicitation/create request for clients on older protocol versions) that
// names what the call would do. When the client calls again with the
// person's answer, it runs the call with "confirm": true if they
// accepted with confirm: true, and otherwise answers a forbidden error
// saying nothing was done. A client that cannot ask keeps the refusal, so
// the model can still resend with confirm. Either way the input the call
// runs with is the one the person was asked about: the arguments of the
// retried call are validated and described again.
//
// It returns either a result to send as is (the input request) or the
// action's output or error.
func (h *handler) confirmByElicitation(ctx context.Context, req *mcp.CallToolRequest, target action.Target, args json.RawMessage, refusal error) (*mcp.CallToolResult, json.RawMessage, error) {
	var ce *action.ConfirmationError
	if !errors.As(refusal, &ce) || !canElicit(req.Session) {
		return nil, nil, refusal
	}
	answer, answered := req.Params.InputResponses[confirmInputID].(*mcp.ElicitResult)
	if !answered {
		return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{confirmInputID: &mcp.ElicitParams{
			Message: "An AI agent wants to " + ce.What + " in Zoho Desk (connection " + ce.Connection + ", action " + ce.Action +
				"). The connection's policy asks a person to confirm this.",
			RequestedSchema: confirmSchema,
		}}}, nil, nil
	}
	if answer.Action != "accept" || answer.Content["confirm"] != true {
		return nil, nil, &deskconn.Error{Code: deskconn.CodeForbidden, Err: action.ErrConfirmationRequired,
			Message: "the person did not confirm (" + answer.Action + "): nothing was done. Do not retry unless they ask you to."}
	}
	confirmed, err := withConfirm(args)
	if err != nil {
		return nil, nil, refusal
	}
	out, err := h.reg.Invoke(ctx, target, h.act.Name(), confirmed, action.InvokeOptions{})
	return nil, out, err
}

// withConfirm returns the tool arguments with "confirm": true.
func withConfirm(args json.RawMessage) (json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(args) > 0 && string(args) != "null" {
		if err := json.Unmarshal(args, &m); err != nil {
			return nil, err
		}
	}
	m["confirm"] = json.RawMessage("true")
	return json.Marshal(m)
}
