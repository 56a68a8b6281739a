package mcpserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// Connections finds a tenant's connection and its Zoho Desk client.
// *connection.Manager satisfies it. Both methods take a connection id or
// name and return not_found for another tenant's connection.
type Connections interface {
	Get(ctx context.Context, tenantID, idOrName string) (*store.Connection, error)
	Client(ctx context.Context, tenantID, idOrName string) (*zohodesk.Client, *store.Connection, error)
	// ClientOf is Client for a connection just read with Get, without
	// reading it again.
	ClientOf(c *store.Connection) (*zohodesk.Client, *store.Connection, error)
}

// ConnectionResolver returns a Resolver that runs every call on one fixed
// connection (id or name) of tenantID, as `deskconn mcp` does over stdio.
// The connection is looked up on every call, so a reconnect or a policy
// change takes effect at once.
func ConnectionResolver(conns Connections, tenantID, idOrName string) Resolver {
	return func(ctx context.Context, _ *mcp.CallToolRequest) (action.Target, error) {
		desk, c, err := conns.Client(ctx, tenantID, idOrName)
		if err != nil {
			return action.Target{}, err
		}
		return restapi.ActionTarget(tenantID, "", c, desk), nil
	}
}

// HTTPOptions configure HTTPHandler. The zero value works.
type HTTPOptions struct {
	// Server configures the MCP server (name, version, logger).
	Server Options
	// Identity returns the authenticated tenant and API key id of a request;
	// "" tenant means unauthenticated. Default: restapi.TenantID and
	// restapi.APIKeyID, which the server's API-key middleware sets (mount
	// the handler with restapi.Server.Mount).
	Identity func(r *http.Request) (tenantID, apiKeyID string)
	// SessionTimeout closes MCP sessions idle this long (default 30
	// minutes).
	SessionTimeout time.Duration
	// AllowedOrigins are the origins ("https://host[:port]") browsers may
	// call from, normally the server's own base URL. A request whose Origin
	// header is any other (including "null") is refused with 403 before
	// anything else, the DNS-rebinding protection the MCP specification
	// asks of HTTP servers; a request without Origin (not a browser) passes.
	AllowedOrigins []string
}

// identity is what the HTTP handler attaches to each request for the tool
// calls it carries.
type identity struct {
	tenant, apiKey, conn string
	view                 view
	scope                action.KeyScope   // the API key's scope
	c                    *store.Connection // the connection as this HTTP request read it
	splices              *splices          // where this POST's tool results are parked (splice.go)
}

type identityKey struct{}

// HTTPPattern is the route HTTPHandler serves, relative to the server root:
// the connection (its id or its name) is the last path segment, e.g.
// POST /mcp/demo. The query may limit the tools: toolsets=tickets,lookups
// (see ParseToolsets) and readonly=true (only read-only tools). Mount it with restapi.Server.Mount(HTTPPattern, h).
const HTTPPattern = "/mcp/{connection}"

// HTTPHandler returns the streamable HTTP MCP endpoint for HTTPPattern. It
// must run behind the API-key middleware (restapi.Server.Mount): every
// request's tenant comes from its API key and the connection from the
// {connection} path value. A connection of another tenant, or none, gets a
// 404 problem that says no more than for a missing one. A session belongs to
// the API key and connection that opened it: any other key, or the same
// session id under another connection's path, is refused with 403.
//
// The query chooses the tools (HTTPOptions.Server's Toolsets and ReadOnly
// are ignored): toolsets=tickets,conversations serves those toolsets only,
// readonly=true only read-only tools. An unknown toolset or a readonly
// that is not a boolean gets a 400 problem naming it. A session keeps the
// tools it was opened with: the same session id with another query is
// refused with 403.
func HTTPHandler(reg *action.Registry, conns Connections, opts *HTTPOptions) http.Handler {
	var o HTTPOptions
	if opts != nil {
		o = *opts
	}
	if o.Identity == nil {
		o.Identity = func(r *http.Request) (string, string) {
			return restapi.TenantID(r.Context()), restapi.APIKeyID(r.Context())
		}
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 30 * time.Minute
	}
	log := o.Server.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	resolve := func(ctx context.Context, req *mcp.CallToolRequest) (action.Target, error) {
		var ti *auth.TokenInfo
		if req.Extra != nil {
			ti = req.Extra.TokenInfo
		}
		id, ok := identityOf(ti)
		if !ok {
			return action.Target{}, &deskconn.Error{Code: deskconn.CodeInternal, Message: "internal error", Err: errNoIdentity}
		}
		// The HTTP request carrying this call read the connection (to
		// check the key may use it); its Zoho client is built from that
		// read instead of a second one. A call without it (none today)
		// reads the store.
		var desk *zohodesk.Client
		var c *store.Connection
		var err error
		if id.c != nil && id.c.ID == id.conn {
			desk, c, err = conns.ClientOf(id.c)
		} else {
			desk, c, err = conns.Client(ctx, id.tenant, id.conn)
		}
		if err != nil {
			return action.Target{}, err
		}
		t := restapi.ActionTarget(id.tenant, id.apiKey, c, desk)
		t.Scope = id.scope
		return t, nil
	}
	// One server per view (toolsets and read-only mode), made on first use:
	// at most 2^len(action.Toolsets) * 2 of them.
	var mu sync.Mutex
	servers := map[view]*mcp.Server{}
	serverFor := func(r *http.Request) *mcp.Server {
		v := r.Context().Value(identityKey{}).(identity).view
		mu.Lock()
		defer mu.Unlock()
		if servers[v] == nil {
			servers[v] = New(reg, resolve, v.options(o.Server))
		}
		return servers[v]
	}
	// No EventStore: it would keep tool results as their placeholders
	// (spliceWriter, splice.go) for replay.
	sdk := mcp.NewStreamableHTTPHandler(serverFor, &mcp.StreamableHTTPOptions{
		Logger:              log,
		SessionTimeout:      o.SessionTimeout,
		MaxRequestBodyBytes: MaxMessageBytes,
	})
	allowed := map[string]bool{}
	for _, o := range o.AllowedOrigins {
		if n, ok := normalOrigin(o); ok {
			allowed[n] = true
		}
	}
	// The SDK binds a session to TokenInfo.UserID and reads the identity of
	// each call from TokenInfo: RequireBearerToken is the SDK's way to
	// attach it. The bearer token itself was checked by the API-key
	// middleware; the verifier only copies the identity resolved below.
	verify := func(ctx context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
		id, ok := r.Context().Value(identityKey{}).(identity)
		if !ok {
			return nil, auth.ErrInvalidToken
		}
		return &auth.TokenInfo{
			// The view is part of the session's owner: a session opened
			// read-only, or with some toolsets, stays so.
			UserID: id.tenant + "\x00" + id.apiKey + "\x00" + id.conn + "\x00" + id.view.String(),
			Extra: map[string]any{"tenant": id.tenant, "apiKey": id.apiKey, "connection": id.conn, "scope": id.scope, "conn": id.c,
				splicesExtra: id.splices},
		}, nil
	}
	withToken := auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(sdk)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			if n, ok := normalOrigin(origin); !ok || !allowed[n] {
				log.Warn("mcp: refused a request from a browser origin that is not allowed", "origin", truncate(origin, 100))
				restapi.WriteError(w, r, deskconn.Errorf(deskconn.CodeForbidden,
					"requests from origin %q are not allowed: MCP over HTTP accepts browser requests only from the server's own base URL", truncate(origin, 100)))
				return
			}
		}
		tenant, keyID := o.Identity(r)
		if tenant == "" {
			restapi.WriteError(w, r, deskconn.Errorf(deskconn.CodeUnauthenticated, "send an API key as \"Authorization: Bearer dk_...\""))
			return
		}
		v, err := viewOf(r.URL.Query())
		if err != nil {
			restapi.WriteError(w, r, err)
			return
		}
		scope := restapi.KeyScope(r.Context())
		if v, err = v.within(scope); err != nil {
			restapi.WriteError(w, r, err)
			return
		}
		name := r.PathValue("connection")
		c, err := conns.Get(r.Context(), tenant, name)
		if err != nil {
			restapi.WriteError(w, r, err)
			return
		}
		// A key limited to another connection is refused here, before a
		// session opens; its other limits apply to each tool call.
		if err := scope.CheckConnection(c.ID, c.Name); err != nil {
			restapi.WriteError(w, r, err)
			return
		}
		// A read-only key sees only read tools in tools/list, as if it
		// asked for readonly=true, and a key limited to named actions only
		// those: it could not run the others.
		if scope.ReadOnly {
			v.readOnly = true
		}
		if len(scope.Actions) > 0 {
			names := slices.Clone(scope.Actions)
			slices.Sort(names)
			v.actions = strings.Join(slices.Compact(names), ",")
		}
		id := identity{tenant: tenant, apiKey: keyID, conn: c.ID, view: v, scope: scope, c: c}
		if r.Method == http.MethodPost {
			// Tool calls are answered on the POST that carried them.
			id.splices = newSplices()
			w = &spliceWriter{ResponseWriter: w, splices: id.splices}
		}
		withToken.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// within narrows v to what scope allows when the scope asks for it (an MCP
// sign-in grant): a read-only grant sees only read tools, one limited to
// toolsets only theirs.
func (v view) within(scope action.KeyScope) (view, error) {
	if !scope.ListInScope {
		return v, nil
	}
	if scope.ReadOnly {
		v.readOnly = true
	}
	if len(scope.Toolsets) == 0 {
		return v, nil
	}
	sets := slices.Clone(scope.Toolsets)
	if v.toolsets != "" {
		sets = slices.DeleteFunc(strings.Split(v.toolsets, ","), func(t string) bool { return !slices.Contains(scope.Toolsets, t) })
	}
	if len(sets) == 0 {
		return v, &deskconn.Error{Code: deskconn.CodeForbidden, Err: action.ErrOutOfScope,
			Message: fmt.Sprintf("this credential may use only the toolsets %s: drop toolsets= from the URL or name one of them", strings.Join(scope.Toolsets, ", "))}
	}
	slices.Sort(sets)
	v.toolsets = strings.Join(slices.Compact(sets), ",")
	return v, nil
}

// normalOrigin returns origin as "scheme://host[:port]" in lower case,
// without a default port, or false when it is not an http(s) origin
// (e.g. "null").
func normalOrigin(origin string) (string, bool) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(origin), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Path != "" {
		return "", false
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// identityOf reads the identity HTTPHandler put in a call's TokenInfo.
func identityOf(ti *auth.TokenInfo) (identity, bool) {
	if ti == nil {
		return identity{}, false
	}
	tenant, _ := ti.Extra["tenant"].(string)
	key, _ := ti.Extra["apiKey"].(string)
	conn, _ := ti.Extra["connection"].(string)
	scope, _ := ti.Extra["scope"].(action.KeyScope)
	c, _ := ti.Extra["conn"].(*store.Connection)
	if tenant == "" || conn == "" || strings.ContainsRune(tenant, 0) {
		return identity{}, false
	}
	return identity{tenant: tenant, apiKey: key, conn: conn, scope: scope, c: c}, true
}
