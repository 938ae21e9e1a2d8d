package check_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/plugin/check"
)

// TestWarnsWhenLaterRowsDisagreeWithTheSample: a CSV whose first 1,000 rows are integers and whose
// row 1,500 holds 3.7 passes every check but warns, on the column's own line, that the whole column
// is read as float, naming the row and how to pin the type.
func TestWarnsWhenLaterRowsDisagreeWithTheSample(t *testing.T) {
	w := newWorld(t)
	var b strings.Builder
	b.WriteString("external_id,braze[visits],braze[name]\n")
	for i := 0; i < 2000; i++ {
		v := fmt.Sprint(i)
		if i == 1500 {
			v = "3.7"
		}
		fmt.Fprintf(&b, "u%d,%s,n%d\n", i, v, i)
	}
	path := filepath.Join(t.TempDir(), "visits.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	res := run(t, fileSource(path, "")+fmt.Sprintf(destinationDoc, goodKey, w.brazeURL), "")
	var warned []check.Line
	for _, l := range res.Lines {
		if l.Status == check.Warn {
			warned = append(warned, l)
		} else if l.Status == check.Fail {
			t.Errorf("FAIL %s: %s", l.Name, l.Detail)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0].Name, "braze[visits]") ||
		!strings.Contains(warned[0].Detail, "row 1500") || !strings.Contains(warned[0].Fix, "types:") {
		t.Errorf("warnings %+v, want one for braze[visits] naming row 1500 and types:", warned)
	}
	if res.ExitCode() != 0 {
		t.Errorf("exit %d: a warning passes", res.ExitCode())
	}
}
