package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/mcpauth"
	"github.com/deskconn/deskconn/internal/mcpserver"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/usage"
	"github.com/deskconn/deskconn/internal/web"
)

// mountMCP mounts the streamable HTTP MCP endpoint behind the API-key
// middleware, with the same registry (idempotency records and audit log in
// st) as the REST actions. Browsers may call it only from the server's own
// base URL.
func mountMCP(s *restapi.Server, m *connection.Manager, st store.Store) error {
	log := slog.Default()
	s.Mount(mcpserver.HTTPPattern, mcpserver.HTTPHandler(newActionRegistry(st, m.Keyring(), log, s.ObserveAction), m, &mcpserver.HTTPOptions{
		Server:         mcpserver.Options{Version: Version, Logger: log},
		AllowedOrigins: []string{s.BaseURL()},
	}))
	return mountMCPAuth(s, st, log)
}

// mountMCPAuth makes the server the OAuth authorization server of MCP
// clients (internal/mcpauth): its metadata and OAuth endpoints, its access
// tokens accepted beside API keys, and the grants under /v1/mcp-grants.
// The consent page reuses the web console's sessions.
func mountMCPAuth(s *restapi.Server, st store.Store, log *slog.Logger) error {
	auth, err := mcpauth.New(mcpauth.Options{
		Store:   st,
		BaseURL: s.BaseURL(),
		Sessions: mcpauth.SessionsFunc(func(r *http.Request) (mcpauth.Session, bool, error) {
			sess, err := web.SignedIn(r, st, s.Now())
			if sess == nil || err != nil {
				return mcpauth.Session{}, false, err
			}
			return mcpauth.Session{TenantID: sess.TenantID, CSRF: sess.CSRF}, true, nil
		}),
		Toolsets: action.Toolsets,
		Logger:   log,
	})
	if err != nil {
		return err
	}
	for pattern, h := range auth.Routes() {
		s.Handle(pattern, h)
	}
	s.SetBearerTokens(auth)
	s.MountMCPGrants(auth.ListGrantsHandler(), auth.RevokeGrantHandler())
	return nil
}

func newMCPCmd(env *Env) *cobra.Command {
	var conn, tenant, toolsets string
	var readOnly bool
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve one connection's actions as MCP tools over stdio, for desktop MCP clients",
		Long: `mcp serves the actions (see "deskconn actions") as Model Context Protocol tools
over stdio, on one connection of the tenant. Stdout carries only the protocol;
logs go to stderr. Without --connection it uses the tenant's only connection.

Desktop clients start it themselves; for example, in Claude Desktop's
claude_desktop_config.json:

  {
    "mcpServers": {
      "zoho-desk": {
        "command": "deskconn",
        "args": ["mcp", "--connection", "support"],
        "env": {"DESKCONN_DATA_DIR": "/path/to/data", "DESKCONN_SECRET_KEY": "..."}
      }
    }
  }

--toolsets limits the tools to some toolsets (comma-separated: tickets,
conversations, customers, knowledge, agents, events, lookups) and --read-only
to the tools that change nothing; other tools are neither listed nor callable.

Over HTTP, "deskconn serve" serves the same tools at /mcp/{connection}
(the connection's name or id), authenticated with an API key:
"Authorization: Bearer dk_...", and limited the same way by the query:
/mcp/support?toolsets=tickets,conversations&readonly=true.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sets, err := mcpserver.ParseToolsets(toolsets)
			if err != nil {
				return &ExitError{Code: ExitCode(deskconn.CodeInvalid), Err: fmt.Errorf("--toolsets: %w", err)}
			}
			return runMCP(cmd.Context(), env, tenant, conn, sets, readOnly)
		},
	}
	cmd.Flags().StringVar(&conn, "connection", "", "connection name or id (default: the tenant's only connection)")
	cmd.Flags().StringVar(&toolsets, "toolsets", "", "serve only these toolsets, comma-separated: tickets, conversations, customers, knowledge, agents, events, lookups (default: all)")
	cmd.Flags().BoolVar(&readOnly, "read-only", false, "serve only the tools that change nothing")
	tenantFlag(cmd, &tenant)
	return cmd
}

// stdioGCPercent is the garbage collector's target of `deskconn mcp` (see
// runtime/debug.SetGCPercent) unless GOGC is set.
const stdioGCPercent = 400

func runMCP(ctx context.Context, env *Env, tenantName, conn string, toolsets []string, readOnly bool) error {
	app, err := openApp(ctx, env)
	if err != nil {
		return err
	}
	defer app.Close()
	m, err := app.manager(defaultBaseURL(env))
	if err != nil {
		return err
	}
	tenant, err := app.store.GetTenantByName(ctx, tenantName)
	if errors.Is(err, store.ErrNotFound) {
		return &ExitError{Code: ExitCode(deskconn.CodeNotFound), Err: fmt.Errorf("there is no tenant %q in this database; pass --tenant (the demo's is \"demo\")", tenantName)}
	}
	if err != nil {
		return fmt.Errorf("read tenant: %w", err)
	}
	if conn == "" {
		if conn, err = onlyConnection(ctx, app.store, tenant); err != nil {
			return &ExitError{Code: ExitCode(deskconn.ErrorCode(err)), Err: err}
		}
	}
	// Fail fast on a connection that does not exist; a connection that
	// needs reconnecting still serves, and each call says what to do.
	c, err := m.Get(ctx, tenant.ID, conn)
	if err != nil {
		return &ExitError{Code: ExitCode(deskconn.ErrorCode(err)), Err: err}
	}
	m.Warm(c) // the first tool call needs neither the refresh lock nor another read
	if env.Getenv("GOGC") == "" {
		// A stdio server holds little (its resident set is about 35 MB),
		// and each call allocates about 250 KB that dies at once: collecting
		// at 5× the live heap instead of 2× spends about 15% less CPU per
		// call for about 13 MB more. GOGC set in the environment wins.
		debug.SetGCPercent(stdioGCPercent)
	}
	// Tool calls count in the connection's health like the server's:
	// flushed every minute and when the session ends.
	counter := usage.NewCounter(app.store, nil, app.log)
	cctx, stopCounting := context.WithCancel(context.WithoutCancel(ctx))
	counted := make(chan struct{})
	go func() { defer close(counted); counter.Run(cctx, nil) }()
	defer func() { stopCounting(); <-counted }()
	server := mcpserver.New(newActionRegistry(app.store, app.keyring, app.log, counter.Observe), mcpserver.ConnectionResolver(m, tenant.ID, c.ID),
		&mcpserver.Options{Version: Version, Logger: app.log, Toolsets: toolsets, ReadOnly: readOnly})
	app.log.Info("serving MCP over stdio", "tenant", tenant.Name, "connection", c.Name, "toolsets", toolsets, "read_only", readOnly)
	err = mcpserver.ServeStdio(ctx, server, env.Stdin, env.Stdout, app.log)
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, mcp.ErrConnectionClosed) || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("serve MCP over stdio: %w", err)
}
