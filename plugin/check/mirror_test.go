package check

import (
	"strings"
	"testing"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/runner"
)

// TestMirrorsLine: the line says yes, with the label and the ratio, only for a destination that
// mirrors; append says no; overwrite-delete-stale without a label or a state warns.
func TestMirrorsLine(t *testing.T) {
	parse := func(extra string) *destination.Spec {
		ds, err := destination.ParseSpec([]byte(`{"api_key":"k","endpoint":"https://rest.iad-01.braze.com","export_value":"VIP"` + extra + `}`))
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	cases := []struct {
		mode, extra string
		status      Status
		want        string
	}{
		{runner.WriteModeOverwriteDeleteStale, `,"on_leave":"unset"`, Pass, `yes: users who leave a table lose looker_export "VIP" (on_leave unset)`},
		{runner.WriteModeAppend, "", Pass, "no: write_mode append only adds the label"},
		{runner.WriteModeOverwriteDeleteStale, `,"export_attribute":""`, Warn, "no label to remove"},
		{runner.WriteModeOverwriteDeleteStale, `,"diff":false`, Warn, "keeps no state"},
	}
	for _, c := range cases {
		r := &Result{}
		checkMirror(r, &runner.DestinationSpec{Name: "braze", WriteMode: c.mode}, parse(c.extra))
		l, ok := r.Find("braze: mirrors")
		if !ok || l.Status != c.status || !strings.Contains(l.Detail, c.want) {
			t.Errorf("%s %s: %+v", c.mode, c.extra, l)
		}
	}
}
