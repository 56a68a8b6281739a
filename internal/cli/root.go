// Package cli is deskconn's command tree (cobra). Commands only parse flags,
// wire packages together and render results; the work happens elsewhere.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// Env is what every command gets from the process: streams and environment.
// Tests build one with buffers and a map-backed Getenv.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string

	// Global flags.
	DataDir string // DESKCONN_DATA_DIR
	DB      string // DESKCONN_DB: a SQLite path or a postgres:// URL
	// UnsafeZohoRegions are --unsafe-zoho-region values (default from
	// DESKCONN_UNSAFE_ZOHO_REGIONS): non-production Zoho endpoints added
	// to the regions table. See parseUnsafeRegion.
	UnsafeZohoRegions []string
}

// ExitError makes a command exit with Code after printing nothing more.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv}
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil && ee.Err.Error() != "" {
			fmt.Fprintln(stderr, "deskconn:", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(stderr, "deskconn:", err)
	return 1
}

func newRootCmd(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "deskconn",
		Short:         "Connect AI agents to Zoho Desk, safely",
		Long:          "deskconn lets AI agents, platforms and people act on a Zoho Desk: over MCP, a REST API and this CLI.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&env.DataDir, "data-dir", defaultDataDir(env.Getenv), "directory for the embedded database and key file (env DESKCONN_DATA_DIR)")
	root.PersistentFlags().StringVar(&env.DB, "db", env.Getenv("DESKCONN_DB"), "database: a SQLite file path or a postgres:// URL (env DESKCONN_DB; default DATA_DIR/deskconn.db)")
	unsafeRegionsFlag(root.PersistentFlags(), env)
	root.AddCommand(newVersionCmd(env))
	root.AddCommand(newEmulatorCmd(env))
	root.AddCommand(newServeCmd(env))
	root.AddCommand(newConnectionsCmd(env))
	root.AddCommand(newAPIKeysCmd(env))
	root.AddCommand(newGrantsCmd(env))
	root.AddCommand(newPoliciesCmd(env))
	root.AddCommand(newLoginCmd(env))
	root.AddCommand(newAuditCmd(env))
	root.AddCommand(newKeysCmd(env))
	root.AddCommand(newActionsCmd(env))
	root.AddCommand(newRunCmd(env))
	root.AddCommand(newMCPCmd(env))
	root.AddCommand(newBenchCmd(env))
	root.AddCommand(newEventsCmd(env), newSubscriptionsCmd(env))
	return root
}

func newVersionCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(env.Stdout, "deskconn", Version)
			return err
		},
	}
}

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "dev"

func defaultDataDir(getenv func(string) string) string {
	if d := getenv("DESKCONN_DATA_DIR"); d != "" {
		return d
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "deskconn")
	}
	return ".deskconn"
}
