package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/filedata"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/usage"
)

// Exit codes of `deskconn run` by domain error code. 0 is success and 1
// also covers failures outside the action (a database that cannot be
// opened, a bad flag).
var exitCodes = map[deskconn.Code]int{
	deskconn.CodeInternal:        1,
	deskconn.CodeInvalid:         2,
	deskconn.CodeNotFound:        3,
	deskconn.CodeConflict:        4,
	deskconn.CodeAmbiguous:       4,
	deskconn.CodeUnauthenticated: 5,
	deskconn.CodeNeedsReauth:     5,
	deskconn.CodeForbidden:       5,
	deskconn.CodeRateLimited:     6,
	deskconn.CodeUnavailable:     6,
	// The write may have happened: check Zoho Desk before running it again.
	deskconn.CodeOutcomeUnknown: 7,
}

// ExitCode returns the exit code of `deskconn run` for a domain error code
// (1 for an unknown one).
func ExitCode(code deskconn.Code) int {
	if c, ok := exitCodes[code]; ok {
		return c
	}
	return 1
}

// actionError prints a domain error for a person: the code and message,
// then one line per field problem, candidate, retry hint and upstream
// detail.
type actionError struct{ e *deskconn.Error }

func (a actionError) Unwrap() error { return a.e }

func (a actionError) Error() string {
	e := a.e
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Code, e.Message)
	for _, f := range e.Fields {
		ptr := f.Pointer
		if ptr == "" {
			ptr = "(the input)"
		}
		fmt.Fprintf(&b, "\n  %s: %s (%s)", ptr, f.Message, f.Code)
	}
	for _, c := range e.Candidates {
		fmt.Fprintf(&b, "\n  candidate %s: %s", c.ID, c.Label)
		if c.Details != "" {
			fmt.Fprintf(&b, " (%s)", c.Details)
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "\n  retry after %s", e.RetryAfter.Round(time.Second))
	}
	if u := e.Upstream; u != nil {
		fmt.Fprintf(&b, "\n  Zoho Desk answered HTTP %d", u.Status)
		if u.ErrorCode != "" {
			fmt.Fprintf(&b, " %s", u.ErrorCode)
		}
		if u.RequestID != "" {
			fmt.Fprintf(&b, " (request id %s)", u.RequestID)
		}
	}
	return b.String()
}

// failRun turns err into the command's exit: the error on stderr (printed
// once by Run) and the exit code of its domain code.
func failRun(err error) error {
	de := deskconn.AsError(err)
	return &ExitError{Code: ExitCode(de.Code), Err: actionError{de}}
}

type runFlags struct {
	connection, input, idemKey, tenant string
	dryRun, confirm                    bool
}

func newRunCmd(env *Env) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run ACTION",
		Short: "Run an action on a connection and print its output as JSON",
		Long: `run runs one action (see "deskconn actions") on a connection of the tenant,
with the action's JSON input read from --input FILE, or from stdin with
--input -. Without --input the input is {}. The output JSON goes to stdout;
an error goes to stderr, and the exit code says what kind it is:

  0  success
  1  internal error (a bug; details are in the log), or a failure outside
     the action such as a database that cannot be opened
  2  invalid: the input is wrong (each problem is listed with its JSON Pointer)
  3  not_found: the action, the connection or the Zoho object does not exist
  4  conflict or ambiguous: the idempotency key was used with another input,
     or a selector matched several objects (the candidates are listed)
  5  unauthenticated, needs_reauth or forbidden: reconnect the connection, or
     the connection's policy or Zoho permissions forbid it
  6  rate_limited or unavailable: try again later (a retry hint is printed)

It uses the same database and key as "deskconn serve" (--data-dir, --db,
DESKCONN_SECRET_KEY), so idempotency keys and the audit log are shared with a
running server. Without --connection it uses the tenant's only connection.`,
		Example: `  deskconn run list_tickets --input - <<<'{"params":{"limit":5}}'
  deskconn run create_ticket --input ticket.json --idempotency-key 7f1c0e52
  deskconn run move_tickets_to_trash --input trash.json --dry-run`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return failRun(deskconn.Errorf(deskconn.CodeInvalid, "run takes exactly one ACTION; list them with `deskconn actions`"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAction(cmd.Context(), env, args[0], f)
		},
	}
	cmd.Flags().StringVar(&f.connection, "connection", "", "connection name or id (default: the tenant's only connection)")
	cmd.Flags().StringVar(&f.input, "input", "", "file with the action's JSON input, or - for stdin (default: {})")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "for a write: check and resolve the input and print the Zoho requests it would send, sending nothing")
	cmd.Flags().BoolVar(&f.confirm, "confirm", false, `confirm a destructive action (sets "confirm": true in the input)`)
	cmd.Flags().StringVar(&f.idemKey, "idempotency-key", "", "idempotency key for a write: a retry with the same key replays the first result for 24 hours")
	tenantFlag(cmd, &f.tenant)
	return cmd
}

func runAction(ctx context.Context, env *Env, name string, f runFlags) error {
	var a *action.Action
	for _, c := range catalogue() {
		if c.Name() == name {
			a = c
		}
	}
	if a == nil {
		return failRun(deskconn.Errorf(deskconn.CodeNotFound, "there is no action named %q; list them with `deskconn actions`", name))
	}
	// Large base64 files in the input are decoded to temporary files as
	// it is read, as the REST API does, and removed when the run ends.
	sp := filedata.NewSpooler(0, "")
	defer sp.Close()
	ctx = filedata.WithSpooler(ctx, sp)
	raw, err := readInput(env, f.input, sp)
	if err != nil {
		return failRun(err)
	}
	if f.dryRun || f.confirm {
		if !a.IsWrite() {
			return failRun(deskconn.Errorf(deskconn.CodeInvalid, "%s is a read action: it changes nothing, so --dry-run and --confirm do not apply", name))
		}
		if raw, err = setFlags(raw, f.dryRun, f.confirm); err != nil {
			return failRun(err)
		}
	}
	app, err := openApp(ctx, env)
	if err != nil {
		return err
	}
	defer app.Close()
	m, err := app.manager(defaultBaseURL(env))
	if err != nil {
		return err
	}
	tenant, err := app.store.GetTenantByName(ctx, f.tenant)
	if errors.Is(err, store.ErrNotFound) {
		return failRun(deskconn.Errorf(deskconn.CodeNotFound, "there is no tenant %q in this database; pass --tenant (the demo's is \"demo\")", f.tenant))
	}
	if err != nil {
		return fmt.Errorf("read tenant: %w", err)
	}
	conn := f.connection
	if conn == "" {
		if conn, err = onlyConnection(ctx, app.store, tenant); err != nil {
			return failRun(err)
		}
	}
	desk, c, err := m.Client(ctx, tenant.ID, conn)
	if err != nil {
		return failRun(err)
	}
	// The call counts in the connection's health include CLI calls: one
	// count, written once the call is done.
	counter := usage.NewCounter(app.store, nil, app.log)
	reg := newActionRegistry(app.store, app.keyring, app.log, counter.Observe)
	out, err := reg.Invoke(ctx, restapi.ActionTarget(tenant.ID, "", c, desk), name, raw, action.InvokeOptions{IdempotencyKey: f.idemKey})
	if ferr := counter.Flush(context.WithoutCancel(ctx)); ferr != nil {
		app.log.Warn("the call was not counted in the connection's health", "err", ferr)
	}
	if err != nil {
		if deskconn.ErrorCode(err) == deskconn.CodeInternal {
			app.log.Error("action failed", "action", name, "connection", c.ID, "err", err)
		}
		return failRun(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "  "); err != nil {
		return fmt.Errorf("format output: %w", err)
	}
	pretty.WriteByte('\n')
	if _, err := env.Stdout.Write(pretty.Bytes()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// defaultBaseURL is the server's public URL as `serve` defaults it; run
// only needs it to build the connection manager.
func defaultBaseURL(env *Env) string {
	if u := env.Getenv("DESKCONN_BASE_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:8080"
}

// readInput reads the action input from path ("-" is stdin, "" is {}),
// capped like a REST body, with its large base64 files spooled to sp
// (filedata.SpoolFileData).
func readInput(env *Env, path string, sp *filedata.Spooler) (json.RawMessage, error) {
	var r io.Reader
	switch path {
	case "":
		return json.RawMessage("{}"), nil
	case "-":
		r = env.Stdin
	default:
		fh, err := os.Open(path)
		if err != nil {
			return nil, deskconn.Errorf(deskconn.CodeInvalid, "--input: %v", err)
		}
		defer fh.Close()
		r = fh
	}
	const max = restapi.DefaultMaxActionBodyBytes
	b, err := filedata.SpoolFileData(http.MaxBytesReader(nil, io.NopCloser(r), max), sp)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, deskconn.Errorf(deskconn.CodeInvalid, "--input is larger than %d bytes; send large files as an http(s) URL in fileData", max)
	case deskconn.ErrorCode(err) == deskconn.CodeInvalid:
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("read input: %w", err)
	}
	return b, nil
}

// setFlags sets "dryRun" and/or "confirm" to true in the input object.
func setFlags(raw json.RawMessage, dryRun, confirm bool) (json.RawMessage, error) {
	obj := map[string]json.RawMessage{}
	if t := bytes.TrimSpace(raw); len(t) > 0 && string(t) != "null" {
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return nil, deskconn.Errorf(deskconn.CodeInvalid, "the input must be a JSON object to add --dry-run or --confirm")
		}
	}
	if dryRun {
		obj["dryRun"] = json.RawMessage("true")
	}
	if confirm {
		obj["confirm"] = json.RawMessage("true")
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("add flags to the input: %w", err)
	}
	return b, nil
}

// onlyConnection returns the name of the tenant's only connection: none is
// not_found, several are ambiguous (with the candidates).
func onlyConnection(ctx context.Context, st store.Store, t *store.Tenant) (string, error) {
	cs, err := st.ListConnections(ctx, t.ID)
	if err != nil {
		return "", fmt.Errorf("list connections: %w", err)
	}
	switch len(cs) {
	case 0:
		return "", deskconn.Errorf(deskconn.CodeNotFound, "tenant %q has no connection; create one with `deskconn connections create`", t.Name)
	case 1:
		return cs[0].Name, nil
	}
	e := deskconn.Errorf(deskconn.CodeAmbiguous, "tenant %q has %d connections: choose one with --connection", t.Name, len(cs))
	for _, c := range cs {
		e.Candidates = append(e.Candidates, deskconn.Candidate{ID: c.ID, Label: c.Name, Details: string(c.Status)})
	}
	return "", e
}
