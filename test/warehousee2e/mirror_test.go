package warehousee2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestMirrorFromAThirdFolder: two machines sync the users in mirror mode with the state in
// Snowflake; after a tenth of the users left the table, a third machine, with an empty state_dir
// of its own, removes the label from exactly those users and sends nothing else.
func TestMirrorFromAThirdFolder(t *testing.T) {
	const users, gone = 500, 50
	w := newWorld(t, users)
	spec := strings.Replace(w.spec(false), "write_mode: append", "write_mode: overwrite-delete-stale", 1)
	if !strings.Contains(spec, "overwrite-delete-stale") {
		t.Fatal("the destination document changed shape: no write_mode to replace")
	}
	w.mustSync(spec)
	if res := w.mustSync(spec); res.Report.UsersSent != 0 {
		t.Fatalf("the second machine sent %d users, want 0", res.Report.UsersSent)
	}
	if _, err := w.sf.DB().Exec(`DELETE FROM WH_USERS WHERE ID < ?`, fmt.Sprintf("wh_%05d", gone)); err != nil {
		t.Fatal(err)
	}
	before := w.objects()
	res := w.mustSync(spec)
	if d := res.Report.Destinations["braze"]; d.UsersRemoved != gone || d.UsersSent != 0 {
		t.Errorf("third machine: removed %d, sent %d; want %d and 0", d.UsersRemoved, d.UsersSent, gone)
	}
	if got := w.objects() - before; got != gone {
		t.Errorf("the third machine sent %d objects, want %d removals", got, gone)
	}
	for i := range users {
		id := fmt.Sprintf("wh_%05d", i)
		p, ok := w.braze.Profile(id)
		if !ok {
			t.Fatalf("no profile %s", id)
		}
		labels, _ := p.Custom["looker_export"].([]any)
		if has, want := slices.Contains(labels, any("VIP")), i >= gone; has != want {
			t.Errorf("%s: flagged %v, want %v", id, has, want)
		}
	}
}
