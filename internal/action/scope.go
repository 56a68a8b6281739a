package action

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/deskconn/deskconn"
)

// KeyScope limits what the API key behind a call may do. The zero value
// limits nothing (the CLI, the web page and unscoped keys).
type KeyScope struct {
	// ReadOnly: only read actions.
	ReadOnly bool
	// ConnectionID, if set, is the only connection the key reaches;
	// ConnectionName names it in messages.
	ConnectionID   string
	ConnectionName string
	// Actions, if set, are the only actions the key may run.
	Actions []string
	// Toolsets, if set, are the only toolsets (see Toolsets) whose actions
	// the credential may run (an MCP sign-in grant limited to a toolset).
	Toolsets []string
	// ListInScope asks MCP to list only the tools the scope allows (an MCP
	// sign-in grant): a read-only grant sees read tools only. API keys
	// leave it false, and see every tool, refused when called.
	ListInScope bool
}

// ErrOutOfScope is in the Err of the forbidden error for a call outside the
// API key's scope, so adapters can tell it apart with errors.Is.
var ErrOutOfScope = errors.New("action: outside the API key's scope")

// Limited reports whether the scope limits anything.
func (s KeyScope) Limited() bool {
	return s.ReadOnly || s.ConnectionID != "" || len(s.Actions) > 0 || len(s.Toolsets) > 0
}

// String describes the scope for people ("read-only, connection support,
// actions get_ticket, list_tickets"), or "full" when it limits nothing.
func (s KeyScope) String() string {
	var parts []string
	if s.ReadOnly {
		parts = append(parts, "read-only")
	}
	if s.ConnectionID != "" {
		name := s.ConnectionName
		if name == "" {
			name = s.ConnectionID
		}
		parts = append(parts, "connection "+name)
	}
	if len(s.Actions) > 0 {
		parts = append(parts, "actions "+strings.Join(s.Actions, ", "))
	}
	if len(s.Toolsets) > 0 {
		parts = append(parts, "toolsets "+strings.Join(s.Toolsets, ", "))
	}
	if len(parts) == 0 {
		return "full"
	}
	return strings.Join(parts, "; ")
}

// CheckConnection returns a forbidden error naming the scope when the key
// may not use the connection with this id and name.
func (s KeyScope) CheckConnection(id, name string) error {
	if s.ConnectionID == "" || s.ConnectionID == id {
		return nil
	}
	limit := s.ConnectionName
	if limit == "" {
		limit = s.ConnectionID
	}
	return &deskconn.Error{Code: deskconn.CodeForbidden, Err: ErrOutOfScope,
		Message: fmt.Sprintf("this API key is limited to connection %q: it cannot use connection %q; use a key created for that connection", limit, name)}
}

// check returns a forbidden error naming the scope that refuses a on conn.
func (s KeyScope) check(conn Conn, a *Action) error {
	if err := s.CheckConnection(conn.ID, conn.Name); err != nil {
		return err
	}
	if s.ReadOnly && a.info.Write {
		return &deskconn.Error{Code: deskconn.CodeForbidden, Err: ErrOutOfScope,
			Message: fmt.Sprintf("this API key is read-only: it cannot run %s, which changes data in Zoho Desk; use a key created without --read-only", a.name)}
	}
	if len(s.Actions) > 0 && !slices.Contains(s.Actions, a.name) {
		return &deskconn.Error{Code: deskconn.CodeForbidden, Err: ErrOutOfScope,
			Message: fmt.Sprintf("this API key may run only %s: it cannot run %s", strings.Join(s.Actions, ", "), a.name)}
	}
	if len(s.Toolsets) > 0 && !slices.Contains(s.Toolsets, a.info.Toolset) {
		return &deskconn.Error{Code: deskconn.CodeForbidden, Err: ErrOutOfScope,
			Message: fmt.Sprintf("this credential may use only the toolsets %s: it cannot run %s", strings.Join(s.Toolsets, ", "), a.name)}
	}
	return nil
}
