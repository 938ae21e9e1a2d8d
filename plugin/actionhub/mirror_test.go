package actionhub_test

import (
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/actionhub"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
)

const mirrorRows = 300

// lookUser is the external_id of row i of the seeded Look in its first or second version: in the
// second, every tenth user has left and a new user stands in that row.
func lookUser(i int, second bool) string {
	if second && i%10 == 4 {
		return fmt.Sprintf("user_%07d", mirrorRows+i)
	}
	return fmt.Sprintf("user_%07d", i)
}

// segment is the sorted external_ids whose looker_export carries label.
func segment(braze *brazeemu.Emulator, label string) []string {
	var out []string
	for _, p := range braze.Profiles() {
		vs, _ := p.Custom["looker_export"].([]any)
		if slices.ContainsFunc(vs, func(v any) bool { return v == label }) {
			out = append(out, p.ExternalID)
		}
	}
	sort.Strings(out)
	return out
}

func lookSegment(second bool) []string {
	var out []string
	for i := range mirrorRows {
		out = append(out, lookUser(i, second))
	}
	sort.Strings(out)
	return out
}

// TestScheduledLookMirrors: two scheduled executions of one Look through the Looker-side driver,
// the second after users left it and others joined. With "remove this label from users no longer
// in the Look" on, the Braze segment on the label ends equal to the second Look; off (the stock
// behaviour), nobody loses the label.
func TestScheduledLookMirrors(t *testing.T) {
	for _, mirror := range []string{"yes", "no"} {
		t.Run("mirror "+mirror, func(t *testing.T) {
			var second atomic.Bool
			e := setup(t, envOptions{rows: mirrorRows,
				looker: func(o *lookeremu.Options) {
					o.Views[0].Row = func(i int) lookeremu.Values {
						v := lookeremu.SeedRow(i)
						v["users.external_id"] = lookUser(i, second.Load())
						return v
					}
				},
				hub: func(c *actionhub.Config) { c.StateDir = t.TempDir() }})
			var profiles []brazeemu.Profile
			for i := range mirrorRows * 2 {
				profiles = append(profiles, brazeemu.Profile{ExternalID: fmt.Sprintf("user_%07d", i)})
			}
			e.braze.Seed(profiles...)
			params := form("external_id", "VIP_LOOK")
			params["braze_mirror"] = mirror

			res := e.send(lookeremu.LookScenario, params)
			require.True(t, res.Success, res.Message)
			require.Equal(t, lookSegment(false), segment(e.braze, "VIP_LOOK"))

			second.Store(true)
			res = e.send(lookeremu.LookScenario, params)
			require.True(t, res.Success, res.Message)
			if mirror == "yes" {
				assert.Equal(t, lookSegment(true), segment(e.braze, "VIP_LOOK"))
			} else {
				union := append(lookSegment(false), lookSegment(true)...)
				sort.Strings(union)
				assert.Equal(t, slices.Compact(union), segment(e.braze, "VIP_LOOK"))
			}
			reps := e.reports()
			require.Len(t, reps, 2)
			var removed int64
			for _, r := range reps {
				removed += r.UsersRemoved
			}
			assert.Equal(t, map[string]int64{"yes": mirrorRows / 10, "no": 0}[mirror], removed)
		})
	}
}

// TestMirrorOptionIsValidated: a braze_mirror value other than yes or no is a validation error
// naming the field, before anything is downloaded.
func TestMirrorOptionIsValidated(t *testing.T) {
	e := setup(t, envOptions{rows: 3, seed: true})
	params := form("external_id", "X")
	params["braze_mirror"] = "maybe"
	res := e.send(lookeremu.LookScenario, params)
	assert.False(t, res.Success)
	assert.Contains(t, res.ValidationErrors, "braze_mirror")
	assert.Zero(t, e.looker.Stats().Downloads)
}
