package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/events"
	"github.com/deskconn/deskconn/internal/filedata"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
)

// mountActions mounts the REST action endpoints on s, with idempotency
// records and the audit log kept in st (the same ones `deskconn run` uses).
// Its registry also settles, in the background, writes whose outcome was
// left unknown (see settleInBackground).
func mountActions(s *restapi.Server, m *connection.Manager, st store.Store) error {
	log := slog.Default()
	reg := newActionRegistry(st, m.Keyring(), log, s.ObserveAction)
	s.RunInBackground(func(ctx context.Context) { settleInBackground(ctx, reg, m, log, settleEvery) })
	return s.MountActions(restapi.ActionsOptions{Registry: reg})
}

// settleEvery is how often serve looks for unknown outcomes to settle.
const settleEvery = 30 * time.Second

// settleInBackground runs reg.SettleAbandoned at once and then every
// interval until ctx ends, so that a write whose outcome was left unknown
// (an answer lost, or a process killed while the write was in flight) is
// found in Zoho Desk, or freed, without waiting for the client's retry.
func settleInBackground(ctx context.Context, reg *action.Registry, m *connection.Manager, log *slog.Logger, interval time.Duration) {
	resolve := func(ctx context.Context, tenantID, connID string) (action.Target, error) {
		desk, c, err := m.Client(ctx, tenantID, connID)
		if err != nil {
			return action.Target{}, err
		}
		return restapi.ActionTarget(tenantID, "", c, desk), nil
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		rep, err := reg.SettleAbandoned(ctx, resolve)
		if err != nil && ctx.Err() == nil {
			log.Warn("settling unknown outcomes", "err", err)
		}
		if rep != (action.SettleReport{}) {
			log.Info("settled unknown outcomes in the background", "found", rep.Found, "not_sent", rep.NotSent,
				"deferred", rep.Deferred, "left_unknown", rep.GaveUp)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// idemSealer seals idempotency records' settle inputs with the keyring,
// bound to the record's key.
type idemSealer struct{ kr *seal.Keyring }

func (s idemSealer) aad(k store.IdemKey) seal.AAD {
	h := sha256.Sum256([]byte(k.TenantID + "\x00" + k.ConnectionID + "\x00" + k.Action + "\x00" + k.Key))
	return seal.AAD{Table: "idempotency_records", RowID: hex.EncodeToString(h[:]), Column: "settle_input"}
}

func (s idemSealer) SealInput(k store.IdemKey, plain []byte) ([]byte, error) {
	return s.kr.Seal(plain, s.aad(k))
}

func (s idemSealer) OpenInput(k store.IdemKey, sealed []byte) ([]byte, error) {
	return s.kr.Open(sealed, s.aad(k))
}

// fileFetcher builds the fetcher of fileData URLs: the SSRF-guarded
// production fetcher (DESIGN §7). Tests in this package replace it to
// serve the spec's example.com URLs from a loopback server.
var fileFetcher = func(log *slog.Logger) *egress.Fetcher {
	return egress.New(egress.Config{Logger: log})
}

// newActionRegistry returns a registry of every deskconn action whose
// idempotency records and audit log live in st, so that the CLI and a
// server on the same store share them. With kr, keyed writes keep their
// settle input sealed, so that a server settles their unknown outcomes in
// the background. A failed audit write is logged to
// log; the action's result stands. observe, if not nil, receives every
// finished call (metrics).
func newActionRegistry(st store.Store, kr *seal.Keyring, log *slog.Logger, observe func(action.Observation)) *action.Registry {
	var sealer action.InputSealer
	if kr != nil {
		sealer = idemSealer{kr}
	}
	reg := action.NewRegistry(action.Options{
		InputSealer: sealer,
		Idempotency: st,
		Audit:       st,
		Observer:    observe,
		AuditError:  func(err error) { log.Error("audit record not written", "err", err) },
	})
	// list_events reads the shared event log; appends made by another
	// process (or this one's pipeline) are seen within the log's poll
	// interval.
	reg.Add(deskactions.All(deskactions.Deps{Files: filedata.Options{Fetcher: fileFetcher(log)}, Events: &events.Log{Store: st}})...)
	return reg
}

// catalogue returns the actions without any store: for listing only.
func catalogue() []*action.Action {
	return deskactions.All(deskactions.Deps{})
}

func newActionsCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "actions",
		Short: "List the actions (name, kind, title); --json adds descriptions, schemas and hints",
		Long: `actions lists the catalogue of actions that the REST API, MCP and "deskconn run" share.
Kind is read, write (accepts dryRun and idempotencyKey, audited) or destructive
(a write that the connection's policy may deny or require "confirm": true for).

With --json it prints the same document as GET /v1/actions: every action's
name, title, description, kind, hints, input and output JSON Schemas.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			acts := catalogue()
			if asJSON {
				out := restapi.ActionList{Actions: make([]restapi.ActionView, 0, len(acts))}
				for _, a := range acts {
					out.Actions = append(out.Actions, restapi.NewActionView(a))
				}
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return fmt.Errorf("write actions: %w", err)
				}
				return nil
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tTITLE")
			for _, a := range acts {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name(), restapi.ActionKind(a), a.Title())
			}
			if err := tw.Flush(); err != nil {
				return fmt.Errorf("write actions: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the full catalogue as JSON (descriptions, schemas, hints), as GET /v1/actions does")
	return cmd
}
