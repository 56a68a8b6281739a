package mcpserver

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

// ParseToolsets parses a comma-separated list of toolset names (see
// action.Toolsets), as given to `deskconn mcp --toolsets` and to
// /mcp/{connection}?toolsets=. Blanks around names and empty items are
// ignored and duplicates dropped; "" gives nil, every toolset. An unknown
// name is an invalid error that lists the known ones.
func ParseToolsets(s string) ([]string, error) {
	var out []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" || slices.Contains(out, name) {
			continue
		}
		if !slices.Contains(action.Toolsets, name) {
			return nil, deskconn.Errorf(deskconn.CodeInvalid, "unknown toolset %q: choose among %s, separated by commas",
				truncate(name, 40), strings.Join(action.Toolsets, ", "))
		}
		out = append(out, name)
	}
	return out, nil
}

// serves reports whether a server with options o serves a: its toolset is
// one of o.Toolsets (any action when there are none) and, in read-only
// mode, it is read-only (Hints.ReadOnly).
func (o *Options) serves(a *action.Action) bool {
	if o.ReadOnly && !a.Hints().ReadOnly {
		return false
	}
	if len(o.Actions) > 0 && !slices.Contains(o.Actions, a.Name()) {
		return false
	}
	return len(o.Toolsets) == 0 || slices.Contains(o.Toolsets, a.Toolset())
}

// view is the part of the catalogue one HTTP endpoint serves: a canonical
// (sorted, comma-joined) list of toolsets, "" for all, and read-only mode.
type view struct {
	toolsets string
	readOnly bool
	actions  string // sorted, comma-joined; "" for all (an API key's named actions)
}

// viewOf reads the view of an HTTP MCP request from its query:
// toolsets=tickets,conversations and readonly=true.
func viewOf(q url.Values) (view, error) {
	sets, err := ParseToolsets(strings.Join(q["toolsets"], ","))
	if err != nil {
		return view{}, err
	}
	slices.Sort(sets)
	v := view{toolsets: strings.Join(sets, ",")}
	if s := q.Get("readonly"); s != "" {
		if v.readOnly, err = strconv.ParseBool(s); err != nil {
			return view{}, deskconn.Errorf(deskconn.CodeInvalid, "readonly=%q is not a boolean: pass readonly=true or readonly=false", truncate(s, 20))
		}
	}
	return v, nil
}

// options returns base limited to v.
func (v view) options(base Options) *Options {
	o := base
	o.Toolsets = nil
	if v.toolsets != "" {
		o.Toolsets = strings.Split(v.toolsets, ",")
	}
	o.ReadOnly = v.readOnly
	o.Actions = nil
	if v.actions != "" {
		o.Actions = strings.Split(v.actions, ",")
	}
	return &o
}

func (v view) String() string {
	return fmt.Sprintf("toolsets=%s readonly=%t actions=%s", v.toolsets, v.readOnly, v.actions)
}
