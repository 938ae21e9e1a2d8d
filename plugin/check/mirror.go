package check

import (
	"fmt"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/runner"
)

// checkMirror says whether the destination mirrors (docs/mirror.md): with write_mode
// overwrite-delete-stale, users who leave a table lose the export label at the end of each run.
func checkMirror(r *Result, d *runner.DestinationSpec, ds *destination.Spec) {
	line := d.Name + ": mirrors"
	if d.WriteMode != runner.WriteModeOverwriteDeleteStale {
		r.add(Pass, line, fmt.Sprintf("no: write_mode %s only adds the label; users who leave a query keep it", d.WriteMode), "")
		return
	}
	switch {
	case *ds.ExportAttribute == "":
		r.add(Warn, line, "write_mode overwrite-delete-stale, but export_attribute is empty: there is no label to remove",
			"set export_attribute and export_value, or write_mode: append")
	case !*ds.Diff:
		r.add(Warn, line, "write_mode overwrite-delete-stale, but diff: false keeps no state, so nobody can be told to have left",
			"remove diff: false, or set write_mode: append")
	default:
		detail := fmt.Sprintf("yes: users who leave a table lose %s %q (on_leave %s); a run that would remove more than %v of the flagged users removes none",
			*ds.ExportAttribute, ds.ExportValue, ds.OnLeave, *ds.MaxRemovalRatio)
		if ds.AllowMassRemoval {
			detail += " (allow_mass_removal is set: that limit is off)"
		}
		r.add(Pass, line, detail, "")
	}
}
