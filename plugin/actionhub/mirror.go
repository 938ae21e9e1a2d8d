package actionhub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/runner"
)

// Mirror mode in the hub (docs/mirror.md): with the form's braze_mirror set to yes, an execution
// keeps the sync state of its label and, once the Look's result was read whole, ends its table
// with DeleteStale, so the label comes off the users the state records as flagged and this result
// no longer holds. A scheduled Look then keeps its Braze segment equal to the Look. Off by default,
// so the hub stays a drop-in for the stock action.
//
// The state lives under --state-dir, one folder per label: a folder is used by one run at a time,
// so executions of different labels run side by side, and a second execution of the same label
// while one runs is refused (the state folder is in use) rather than racing it. Every Look
// exporting a label shares its namespace: in mirror mode, give each Look its own label.

const (
	mirrorNo  = "no"
	mirrorYes = "yes"
)

// mirrorField is the form's mirror-mode option.
func mirrorField() formField {
	return formField{Label: "Remove this label from users no longer in the Look", Name: formMirror,
		Description: "Yes: at the end of each run, users who carried this label and are no longer in the results lose it, " +
			"so a Braze segment on the label stays equal to the Look. No (the stock behaviour): the label is only ever added.",
		Type: "select", Default: mirrorNo,
		Options: []formOption{{Name: mirrorNo, Label: "No"}, {Name: mirrorYes, Label: "Yes"}}}
}

// readMirror reads the form's braze_mirror value; bad is the validation message, if any.
func readMirror(v string) (on bool, bad string) {
	switch strings.TrimSpace(v) {
	case "", mirrorNo:
		return false, ""
	case mirrorYes:
		return true, ""
	}
	return false, fmt.Sprintf("Remove this label must be yes or no, not %q.", v)
}

// mirrorSpec turns an execution's spec into a mirror-mode one when the form asks for it: the
// label's state folder, and old labels left alone, since labels are not tied to one Look here.
func (s *Server) mirrorSpec(req *request, spec *destination.Spec) *destination.Spec {
	if !req.mirror {
		return spec
	}
	diff := true
	spec.Diff = &diff
	spec.StateDir = s.labelStateDir(req.exportLabel)
	spec.OnLabelChange = destination.OnLabelChangeKeep
	return spec
}

// labelStateDir is the label's state folder: a readable part of the label and a hash of all of it,
// so any label makes a safe, distinct folder name.
func (s *Server) labelStateDir(label string) string {
	sum := sha256.Sum256([]byte(label))
	var b strings.Builder
	for _, r := range label {
		if b.Len() >= 40 {
			break
		}
		if r < 128 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	return filepath.Join(s.stateDir(), b.String()+"-"+hex.EncodeToString(sum[:6]))
}

func (s *Server) stateDir() string {
	if s.cfg.StateDir != "" {
		return s.cfg.StateDir
	}
	return s.path("state")
}

// endTable ends the execution's table in mirror mode: DeleteStale when the whole result was read,
// marked refused when it was not (the download failed, was cut short or cancelled), so nobody is
// removed on a partial result.
func (ex *execution) endTable(ctx context.Context, dest *runner.Destination, streamErr error) error {
	if !ex.req.mirror {
		return nil
	}
	switch {
	case streamErr != nil && ctx.Err() != nil:
		return dest.RefuseStale(tableName, "looker", ex.start, destination.GuardCancelled)
	case streamErr != nil:
		return dest.RefuseStale(tableName, "looker", ex.start, destination.GuardSourceError)
	}
	return dest.DeleteStale(tableName, "looker", time.Now())
}
