package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Mirror mode (docs/mirror.md) takes the export label from the users a table no longer returns,
// when CloudQuery's DeleteStale says the table's sync ended. The CloudQuery CLI sends DeleteStale
// for every table a source announced once the source's stream ended cleanly, even for a table
// whose resolver failed: the v3 protocol carries no error message, plugin-sdk only logs the
// failure, and the CLI only counts error lines. So the runner reads the same lines, and holds
// every DeleteStale until all sources have ended: a table whose source logged errors, or any
// table of a run that failed or was cancelled, reaches the destination marked refused, and the
// destination removes nobody from it (and says why in its report).

// The destination's names of the guards the runner applies (destination.Guard*): its report
// counts the users it spared under them.
const (
	guardSourceError = "source_error"
	guardRunFailed   = "run_failed"
	guardCancelled   = "run_cancelled"
)

// staleMessage is one DeleteStale held until the sources have ended.
type staleMessage struct {
	dest, table, source string
	syncTime            time.Time
	refused             string // the guard that refuses the table's removals, or ""
}

// holdStale records the DeleteStale of a source's tables for each destination in
// overwrite-delete-stale mode; refused is set when the source failed.
func (r *run) holdStale(ss *SourceSpec, src *source, tables map[string]bool, syncTime time.Time, failed bool) {
	for _, name := range ss.Destinations {
		if r.dests[name].spec.WriteMode != WriteModeOverwriteDeleteStale {
			continue
		}
		for t := range tables {
			m := staleMessage{dest: name, table: t, source: ss.Name, syncTime: syncTime}
			if failed || src.errs.failed(t) {
				m.refused = guardSourceError
			}
			r.stale = append(r.stale, m)
		}
	}
}

// forwardStale sends the held DeleteStale messages, marked refused when the run failed or was
// cancelled. A destination that already failed gets none.
func (r *run) forwardStale(ctx context.Context, runErr error) error {
	var errs []error
	for _, m := range r.stale {
		d := r.dests[m.dest]
		if d.failed != nil {
			continue
		}
		why := m.refused
		switch {
		case ctx.Err() != nil || errors.Is(runErr, context.Canceled):
			why = guardCancelled
		case runErr != nil && why == "":
			why = guardRunFailed
		}
		var err error
		if why == "" {
			err = d.stream.DeleteStale(m.table, m.source, m.syncTime)
		} else {
			r.log.Warn().Str("destination", m.dest).Str("table", m.table).Str("guard", why).
				Msg("mirror mode: no removal for this table")
			err = d.stream.RefuseStale(m.table, m.source, m.syncTime, why)
		}
		if err != nil {
			errs = append(errs, d.failure(err))
		}
	}
	return errors.Join(errs...)
}

// allowMassRemoval lifts every destination's max_removal_ratio for this run (`brazesync sync
// --allow-mass-removal`), through its spec, as `cloudquery sync` users set allow_mass_removal.
func (s *Spec) allowMassRemoval() {
	for _, d := range s.Destinations {
		if d.Spec == nil {
			d.Spec = map[string]any{}
		}
		d.Spec["allow_mass_removal"] = true
	}
}

// markMirrors tells each destination in overwrite-delete-stale mode that it mirrors (its spec's
// mirror field): with the warehouse state, the Snowflake source must then read every row.
func (s *Spec) markMirrors() {
	for _, d := range s.Destinations {
		if d.WriteMode != WriteModeOverwriteDeleteStale {
			continue
		}
		if d.Spec == nil {
			d.Spec = map[string]any{}
		}
		d.Spec["mirror"] = true
	}
}

// sourceErrors watches a source's log for error lines, by the table they name. It is the logger
// managedplugin relays the source's JSON log through: each line is passed on to the run's log as
// it was, and counted when its level is error or worse.
type sourceErrors struct {
	next     zerolog.Logger
	mu       sync.Mutex
	tables   map[string]int
	untabled int // error lines naming no table: they may concern any table
}

func newSourceErrors(next zerolog.Logger) *sourceErrors {
	return &sourceErrors{next: next, tables: map[string]int{}}
}

// logger is the logger to give managedplugin; its level is the run's, which managedplugin also
// passes to the plugin as --log-level.
func (s *sourceErrors) logger() zerolog.Logger { return zerolog.New(s).Level(s.next.GetLevel()) }

// Write takes one JSON line from zerolog and relays it.
func (s *sourceErrors) Write(p []byte) (int, error) {
	var m map[string]any
	if err := json.Unmarshal(p, &m); err != nil {
		s.next.Info().Msg(string(bytes.TrimSpace(p)))
		return len(p), nil
	}
	level, _ := zerolog.ParseLevel(fmt.Sprint(m["level"]))
	msg, _ := m["message"].(string)
	delete(m, "level")
	delete(m, "message")
	if level >= zerolog.ErrorLevel && level <= zerolog.PanicLevel {
		s.count(m["table"])
	}
	s.next.WithLevel(level).Fields(m).Msg(msg)
	return len(p), nil
}

func (s *sourceErrors) count(table any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := table.(string); ok && t != "" {
		s.tables[t]++
		return
	}
	s.untabled++
}

// failed reports whether the source logged an error for the table, or one naming no table.
func (s *sourceErrors) failed(table string) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.untabled > 0 || s.tables[table] > 0
}
