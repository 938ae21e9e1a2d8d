package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/plugin/runner"
)

// newStateCmd is `brazesync state`: see and reset the sync state of a spec's destinations
// (docs/state.md).
func newStateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Show or reset what brazesync remembers telling Braze (the sync state)",
		Long: "The sync state is what each destination last told Braze per user, so a run sends only what\n" +
			"changed. show prints it per destination and table; reset forgets it, so the next run sends\n" +
			"everything once. Both take the sync's own spec files, which name the state folder (state_dir).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
			return exitWith(exitUsage)
		},
	}
	cmd.AddCommand(newStateShowCmd(), newStateResetCmd())
	return cmd
}

func newStateShowCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:               "show [flags] SPEC.yml [SPEC.yml…]",
		Short:             "Per destination and table: users tracked, flagged, last run, size on disk",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: specFileArgs,
		RunE: func(cmd *cobra.Command, specs []string) error {
			if !slices.Contains(checkFormats, format) {
				return fmt.Errorf("--format: %q is not one of text, json", format)
			}
			folders, err := stateFolders(specs)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "brazesync state show:", err)
				return exitWith(runner.ExitConfig)
			}
			shown, err := showState(cmd.Context(), folders)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "brazesync state show:", err)
				return exitWith(runner.ExitFailed)
			}
			if format == "json" {
				b, _ := json.MarshalIndent(shown, "", "  ")
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			printState(cmd.OutOrStdout(), shown)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json")
	completeValues(cmd, "format", checkFormats)
	return cmd
}

func newStateResetCmd() *cobra.Command {
	var table string
	cmd := &cobra.Command{
		Use:   "reset [flags] SPEC.yml [SPEC.yml…]",
		Short: "Forget the state of the spec's destinations (or of one table): the next run sends everything",
		Long: "Forget what the spec's destinations told Braze, so their next run sends every user and every\n" +
			"attribute once and records the state anew. --table limits it to one source table. It refuses\n" +
			"while a run holds the state folder.",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: specFileArgs,
		RunE: func(cmd *cobra.Command, specs []string) error {
			folders, err := stateFolders(specs)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "brazesync state reset:", err)
				return exitWith(runner.ExitConfig)
			}
			for _, f := range folders {
				gone, err := resetState(cmd.Context(), f, table)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "brazesync state reset:", err)
					return exitWith(runner.ExitFailed)
				}
				for _, ns := range gone {
					fmt.Fprintf(cmd.OutOrStdout(), "reset %s table %s (%s) in %s\n", ns.Destination, ns.Table, ns.KeyKind, f.where())
				}
				if len(gone) == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "nothing to reset for destination %s in %s\n", f.destination, f.where())
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&table, "table", "", "reset only this source table")
	return cmd
}

// fullRefreshFlag is sync's --full-refresh: every braze destination sends everything this run, as
// if there were no state, and rewrites the state of every user it sends.
func fullRefreshFlag(cmd *cobra.Command, v *bool) {
	cmd.Flags().BoolVar(v, "full-refresh", false, "send every attribute to every user, ignoring the sync state, and rebuild the state")
}

// stateFolder is one destination's state: its folder, and with state.backend: snowflake the
// warehouse state the folder is a working copy of.
type stateFolder struct {
	destination, dir string
	warehouse        string // DATABASE.SCHEMA; "" when the folder is the state
	spec             []byte // the destination's spec block as JSON, to open the warehouse state
}

// where names the state in messages.
func (f stateFolder) where() string {
	if f.warehouse != "" {
		return "Snowflake " + f.warehouse + " (working copy " + f.dir + ")"
	}
	return f.dir
}

// stateFolders reads the spec files and returns each destination's state folder.
func stateFolders(specs []string) ([]stateFolder, error) {
	spec, err := runner.LoadSpecFiles(specs...)
	if err != nil {
		return nil, err
	}
	var out []stateFolder
	for _, d := range spec.Destinations {
		js, err := runner.SpecJSON(d.Spec)
		if err != nil {
			return nil, fmt.Errorf("destination %q: %w", d.Name, err)
		}
		loc, err := destination.StateFolder(js)
		if err != nil {
			return nil, fmt.Errorf("destination %q: %w", d.Name, err)
		}
		if loc.Kept {
			out = append(out, stateFolder{destination: d.Name, dir: loc.Dir, warehouse: loc.Warehouse, spec: js})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no destination of these specs keeps a state (diff: false)")
	}
	return out, nil
}

// shownFolder is what state show prints for one destination.
type shownFolder struct {
	Destination string       `json:"destination"`
	StateDir    string       `json:"state_dir"`
	Warehouse   string       `json:"warehouse,omitempty"` // DATABASE.SCHEMA with state.backend: snowflake
	DiskBytes   uint64       `json:"disk_bytes"`
	Tables      []shownTable `json:"tables"`
	Note        string       `json:"note,omitempty"`
}

// shownTable is one namespace: its users and, for an events or purchases table, its identities.
type shownTable struct {
	state.Info
	Events *state.EventCounts `json:"events,omitempty"`
}

// eventCounter is a state that counts event identities (both backends).
type eventCounter interface {
	CountEvents(ctx context.Context, ns state.Namespace) (state.EventCounts, error)
}

func showState(ctx context.Context, folders []stateFolder) ([]shownFolder, error) {
	var out []shownFolder
	for _, f := range folders {
		s := shownFolder{Destination: f.destination, StateDir: f.dir, Warehouse: f.warehouse, Tables: []shownTable{}}
		st, err := openState(f, "state-show", true)
		if errors.Is(err, state.ErrNoState) {
			s.Note = "no run has recorded state here yet"
			out = append(out, s)
			continue
		}
		if err != nil {
			return nil, err
		}
		s.Tables, err = tablesOf(ctx, st, f.destination)
		s.DiskBytes = st.DiskBytes()
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// tablesOf describes destination's namespaces in st, with the event identities of those that
// hold any.
func tablesOf(ctx context.Context, st destination.State, dest string) ([]shownTable, error) {
	infos, err := st.Namespaces(ctx)
	if err != nil {
		return nil, err
	}
	tables := []shownTable{}
	for _, info := range infos {
		if info.Namespace.Destination != dest {
			continue
		}
		t := shownTable{Info: info}
		if ec, ok := st.(eventCounter); ok {
			c, err := ec.CountEvents(ctx, info.Namespace)
			if err != nil {
				return nil, err
			}
			if c.Total() > 0 {
				t.Events = &c
			}
		}
		tables = append(tables, t)
	}
	return tables, nil
}

func printState(w io.Writer, shown []shownFolder) {
	for _, s := range shown {
		if s.Warehouse != "" {
			fmt.Fprintf(w, "destination %s: Snowflake %s, working copy state_dir %s (%s on disk)\n", s.Destination, s.Warehouse, s.StateDir, report.ByteSize(s.DiskBytes))
		} else {
			fmt.Fprintf(w, "destination %s: state_dir %s (%s on disk)\n", s.Destination, s.StateDir, report.ByteSize(s.DiskBytes))
		}
		if s.Note != "" {
			fmt.Fprintf(w, "  %s\n", s.Note)
		}
		for _, t := range s.Tables {
			ns := t.Namespace
			flag := "no export flag"
			if ns.ExportAttribute != "" {
				flag = ns.ExportAttribute + " " + ns.ExportValue
			}
			last := "never"
			switch {
			case t.LastCommit > 0:
				last = fmt.Sprintf("%s at %s", t.LastRun, time.Unix(t.LastCommit, 0).UTC().Format(time.RFC3339))
			case t.LastRun != "": // the warehouse's last run, which keeps no time
				last = t.LastRun
			}
			what := fmt.Sprintf("%d users, %d flagged; attributes %s", t.Users, t.Flagged, strings.Join(t.Attributes, ", "))
			if e := t.Events; e != nil {
				what = fmt.Sprintf("event identities: %d sent, %d may be recorded, %d interrupted", e.Sent, e.Ambiguous, e.Interrupted)
			}
			fmt.Fprintf(w, "  table %s (%s, %s, %s): %s; last run %s; %s\n", ns.Table, ns.KeyKind, flag, ns.Endpoint, what, last, report.ByteSize(t.DiskBytes))
		}
	}
}

// openState opens a destination's state for show (the folder read-only) or reset. The warehouse
// state opens as a run opens it, lock and catch-up included: the warehouse, not this machine's
// folder, is what the next run from any machine reads.
func openState(f stateFolder, runID string, readOnly bool) (destination.State, error) {
	if f.warehouse != "" {
		return destination.OpenState(f.destination, f.spec, report.NewRunID(runID+"-", time.Now()), zerolog.Nop())
	}
	return state.Open(f.dir, state.Options{RunID: runID, ReadOnly: readOnly})
}

func resetState(ctx context.Context, f stateFolder, table string) ([]state.Namespace, error) {
	st, err := openState(f, "state-reset", false)
	if err != nil {
		return nil, err
	}
	gone, err := st.Reset(ctx, func(ns state.Namespace) bool {
		return ns.Destination == f.destination && (table == "" || ns.Table == table)
	})
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return gone, err
}
