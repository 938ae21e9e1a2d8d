package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brazesync/brazesync/test/testbin"
)

// Braze's /users/track ceiling: 3,000 requests per 3 s per workspace, 75 objects each
// (docs/braze-api.md §1.5, §1.6).
const (
	brazeRequestsPerSec = 1000.0
	brazeRowsPerSec     = brazeRequestsPerSec * 75
)

// figure is one line of the results table.
type figure struct {
	Bench  string    `json:"bench"`
	Name   string    `json:"figure"`
	Value  float64   `json:"value"`
	Unit   string    `json:"unit"`
	Braze  float64   `json:"vs_braze_ceiling,omitempty"` // Value / Braze's ceiling, where it applies
	Target string    `json:"target,omitempty"`
	Runs   int       `json:"runs"` // the value is the median of this many runs
	Note   string    `json:"note,omitempty"`
	When   time.Time `json:"measured"`
}

var results struct {
	sync.Mutex
	figs []figure
}

func record(f figure) {
	f.When = time.Now().UTC().Truncate(time.Second)
	results.Lock()
	defer results.Unlock()
	for i, g := range results.figs {
		if g.Bench == f.Bench && g.Name == f.Name {
			results.figs[i] = f // a benchmark run again by the framework replaces its figures
			return
		}
	}
	results.figs = append(results.figs, f)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if profDir != "" {
		_ = os.RemoveAll(profDir) // the profiling builds (the profiles stay in $BENCH_PROFILE_DIR)
	}
	results.Lock()
	figs := slices.Clone(results.figs)
	results.Unlock()
	if len(figs) > 0 {
		printTable(os.Stdout, figs)
		if err := writeJSON(figs); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func printTable(w io.Writer, figs []figure) {
	fmt.Fprintf(w, "\n%-16s %-46s %12s %-12s %8s  %-14s %4s\n", "benchmark", "figure", "value", "unit", "xBraze", "target", "runs")
	fmt.Fprintln(w, strings.Repeat("-", 132))
	for _, f := range figs {
		ratio := ""
		if f.Braze != 0 {
			ratio = fmt.Sprintf("%.2fx", f.Braze)
		}
		fmt.Fprintf(w, "%-16s %-46s %12s %-12s %8s  %-14s %4d\n", f.Bench, f.Name, human(f.Value), f.Unit, ratio, f.Target, f.Runs)
		if f.Note != "" {
			fmt.Fprintf(w, "%-16s   (%s)\n", "", f.Note)
		}
	}
	fmt.Fprintf(w, "xBraze: value / Braze's ceiling (75,000 rows/s, 1,000 requests/s). Medians of runs. %s\n", machine())
}

func human(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.4f", v)
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("Machine: %d CPUs (%s), %s, load %s.", runtime.NumCPU(), model, runtime.Version(), load)
}

// resultsFile is the JSON file of the latest figures. Running a subset of the
// benchmarks replaces the figures of the benchmarks it ran and keeps the others.
type resultsFile struct {
	When    time.Time `json:"when"`
	Machine string    `json:"machine"`
	Figures []figure  `json:"figures"`
}

func writeJSON(figs []figure) error {
	path := filepath.Join(testbin.Root(), "bench-results.json")
	ran := map[string]bool{}
	for _, f := range figs {
		ran[f.Bench] = true
	}
	var old resultsFile
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &old) == nil {
		var kept []figure
		for _, f := range old.Figures {
			if !ran[f.Bench] {
				kept = append(kept, f)
			}
		}
		figs = append(kept, figs...)
	}
	slices.SortStableFunc(figs, func(a, b figure) int { return benchOrder(a.Bench) - benchOrder(b.Bench) })
	out := resultsFile{time.Now().UTC(), machine(), figs}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Printf("results written to %s\n", path)
	return nil
}

// median of xs (xs is not modified).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchOrder places a figure's benchmark in the table's order.
func benchOrder(bench string) int {
	for i, p := range []string{"convert", "e2e unlimited", "limit ", "scale", "sources"} {
		if strings.HasPrefix(bench, p) {
			return i
		}
	}
	return 99
}
