package runner

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	bzdest "github.com/brazesync/brazesync/destination"
)

// TestSourceErrorsByTable: an error line naming a table refuses that table only; one naming no
// table refuses every table; lower levels refuse nothing; every line reaches the run's log.
func TestSourceErrorsByTable(t *testing.T) {
	var out bytes.Buffer
	errs := newSourceErrors(zerolog.New(&out).Level(zerolog.InfoLevel))
	log := errs.logger()
	log.Info().Str("table", "users").Msg("table sync finished")
	log.Warn().Str("table", "users").Msg("slow")
	log.Error().Str("table", "orders").Str("client", "c1").Msg("table resolver finished with error")
	if errs.failed("users") || !errs.failed("orders") {
		t.Fatalf("users %v, orders %v", errs.failed("users"), errs.failed("orders"))
	}
	if !strings.Contains(out.String(), `"message":"table resolver finished with error"`) || !strings.Contains(out.String(), `"client":"c1"`) ||
		!strings.Contains(out.String(), `"level":"error"`) {
		t.Errorf("not relayed as it was:\n%s", out.String())
	}
	log.Error().Msg("failed JSON schema validation for spec")
	if !errs.failed("users") {
		t.Error("an error naming no table must refuse every table")
	}
	var none *sourceErrors
	if none.failed("users") {
		t.Error("no watcher, no error")
	}
}

// TestGuardNamesMatchTheDestination: the runner's guard names are the destination's, which its
// report counts refusals under.
func TestGuardNamesMatchTheDestination(t *testing.T) {
	for got, want := range map[string]string{guardSourceError: bzdest.GuardSourceError, guardRunFailed: bzdest.GuardRunFailed,
		guardCancelled: bzdest.GuardCancelled} {
		if got != want {
			t.Errorf("%q != %q", got, want)
		}
	}
}

// TestProgressShowsTheRemovalPhase: while a destination removes labels, the line says how far.
func TestProgressShowsTheRemovalPhase(t *testing.T) {
	p := progressSnapshot{read: 10, accounted: 10, removing: true, removed: 3, removal: 20}
	if s := p.String(); !strings.Contains(s, "removing labels 3/20") {
		t.Fatalf("%s", s)
	}
	p.removing = false
	if s := p.String(); strings.Contains(s, "removing") {
		t.Fatalf("%s", s)
	}
}

// TestMirrorFlagsReachTheSpec: --allow-mass-removal and overwrite-delete-stale reach the
// destinations' specs as allow_mass_removal and mirror; append destinations are not marked.
func TestMirrorFlagsReachTheSpec(t *testing.T) {
	s := &Spec{Destinations: []*DestinationSpec{{Name: "a", WriteMode: WriteModeOverwriteDeleteStale}, {Name: "b", WriteMode: WriteModeAppend}}}
	s.allowMassRemoval()
	s.markMirrors()
	if s.Destinations[0].Spec["mirror"] != true || s.Destinations[1].Spec["mirror"] != nil ||
		s.Destinations[0].Spec["allow_mass_removal"] != true || s.Destinations[1].Spec["allow_mass_removal"] != true {
		t.Fatalf("%v %v", s.Destinations[0].Spec, s.Destinations[1].Spec)
	}
}
