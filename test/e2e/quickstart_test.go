// Package e2e runs the real binaries — brazesync, the go-plugin destination, the file source — against
// the Braze emulator, and checks what lands in the emulator's store.
package e2e

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/sampledata"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestQuickstartSpecEndToEnd runs docs/examples/quickstart.yml (the `make run` spec) through the real
// binaries and the go-plugin subprocess, and checks the emulator's store user by user against the
// generator's values: every sample row is accounted for.
func TestQuickstartSpecEndToEnd(t *testing.T) {
	const key = "e2e-quickstart-key-7d1f"
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}})
	spec, err := os.ReadFile(filepath.Join(testbin.Root(), "docs/examples/quickstart.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// The spec's paths are relative to the repository root; point them at the test's binaries and data.
	s := string(spec)
	s = replaceAll(s, "path: bin/", "path: {{BIN}}/")
	s = replaceAll(s, "path: docs/", "path: {{ROOT}}/docs/")
	res := syncSpec(t, s, map[string]string{"BRAZE_API_KEY": key, "BRAZE_ENDPOINT": emu.URL()})
	if res.Code != 0 {
		t.Fatalf("exit %d\n%s", res.Code, res.Stderr)
	}
	users := sampledata.Users(sampledata.DefaultUsers, sampledata.DefaultSeed)
	rep := res.Report
	if rep == nil || !rep.Balanced() {
		t.Fatalf("report missing or does not add up: %+v", rep)
	}
	var wantSent, wantSkipped, wantRejected int64
	for _, u := range users {
		switch {
		case u.ExternalID == "":
			wantSkipped++
		case u.Email == "not-an-email":
			wantRejected++
		default:
			wantSent++
		}
	}
	if rep.RowsRead != int64(len(users)) || rep.UsersSent != wantSent || rep.Skipped() != wantSkipped || rep.Rejected() != wantRejected {
		t.Errorf("report: read %d sent %d skipped %d rejected %d; want %d %d %d %d",
			rep.RowsRead, rep.UsersSent, rep.Skipped(), rep.Rejected(), len(users), wantSent, wantSkipped, wantRejected)
	}
	if got := len(emu.Profiles()); got != int(wantSent) {
		t.Errorf("emulator holds %d profiles, want %d", got, wantSent)
	}
	for _, u := range users {
		checkUser(t, emu, u)
	}
	checkDeadLetters(t, filepath.Join(res.Dir, "brazesync-dead-letter.jsonl"), users)
	// The plugin's structured log lines reach the runner's log, fields and level kept.
	if !strings.Contains(res.Stderr, `"message":"mapped table"`) || !strings.Contains(res.Stderr, `"key_column":"user_id"`) ||
		!strings.Contains(res.Stderr, `"destination":"braze"`) {
		t.Errorf("the destination plugin's log line is not in the runner's log:\n%s", testbin.Tail(res.Stderr, 3000))
	}
	testbin.AssertNoSecret(t, res, key)
}

func checkUser(t *testing.T, emu *brazeemu.Emulator, u sampledata.User) {
	t.Helper()
	p, ok := emu.Profile(u.ExternalID)
	if u.ExternalID == "" || u.Email == "not-an-email" {
		if ok {
			t.Errorf("user %q should not be in Braze", u.ExternalID)
		}
		return
	}
	if !ok {
		t.Errorf("user %s missing from Braze", u.ExternalID)
		return
	}
	c := p.Custom
	wantTime := func(attr string, want time.Time) {
		if got, ok := c[attr].(time.Time); !ok || !got.Equal(want) {
			t.Errorf("%s %s = %v, want %v", u.ExternalID, attr, c[attr], want)
		}
	}
	if p.Standard["first_name"] != u.FirstName || p.Standard["last_name"] != u.LastName || p.Email != u.Email {
		t.Errorf("%s standard fields = %v %q, want %s %s %s", u.ExternalID, p.Standard, p.Email, u.FirstName, u.LastName, u.Email)
	}
	if got := num(c["ltv"]); math.Abs(got-float64(u.LTVCents)/100) > 1e-9 {
		t.Errorf("%s ltv = %v, want %d cents", u.ExternalID, c["ltv"], u.LTVCents)
	}
	// JSON has one number type: a churn risk of 0 comes back as an integer.
	if num(c["churn_risk"]) != u.ChurnRisk || c["is_vip"] != u.IsVIP {
		t.Errorf("%s churn_risk/is_vip = %v/%v, want %v/%v", u.ExternalID, c["churn_risk"], c["is_vip"], u.ChurnRisk, u.IsVIP)
	}
	wantTime("signup_date", u.SignupDate)
	wantTime("last_seen_at", u.LastSeenAt)
	if got := strs(c["favorite_categories"]); !slices.Equal(got, u.Categories) {
		t.Errorf("%s favorite_categories = %v, want %v", u.ExternalID, got, u.Categories)
	}
	if got := strs(c["looker_export"]); !slices.Equal(got, []string{"QUICKSTART"}) {
		t.Errorf("%s looker_export = %v", u.ExternalID, got)
	}
	if _, ok := c["internal_score"]; ok {
		t.Errorf("%s: untagged column internal_score was sent", u.ExternalID)
	}
}

// checkDeadLetters: exactly the rows with a bad email are there, each naming its column.
func checkDeadLetters(t *testing.T, path string, users []sampledata.User) {
	t.Helper()
	lines, err := destination.ReadDeadLetters(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		if l.Reason != destination.ReasonInvalidValue || l.Column != "email" {
			t.Errorf("dead letter %+v: want invalid_value on column email", l)
		}
		got = append(got, l.Key)
	}
	var want []string
	for _, u := range users {
		if u.ExternalID != "" && u.Email == "not-an-email" {
			want = append(want, u.ExternalID)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("dead letters for %v, want %v", got, want)
	}
}

func strs(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return math.NaN()
}
