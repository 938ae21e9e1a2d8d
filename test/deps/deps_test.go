// Package deps checks the import graph with `go list -deps`: what release binaries link, and what
// the go-plugin contract package may depend on.
package deps

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/brazesync/brazesync/test/testbin"
)

const module = "github.com/brazesync/brazesync"

// devTools are commands under plugin/cmd that are never shipped: gen-docs regenerates
// docs/configuration.md through `go run` (and the docs test), so it may use test helpers one day.
var devTools = []string{"gen-docs"}

// TestReleaseBinariesLinkNoTestCode: no release binary links a package under test/, or a package of
// this module that imports "testing" (test helpers belong in _test.go files or under test/). The
// release binaries are every plugin/cmd command but the dev tools; they must be the ones the tests
// build (testbin.Binaries, the Makefile's BINARIES), so a new command cannot skip this check.
func TestReleaseBinariesLinkNoTestCode(t *testing.T) {
	var release []string
	for _, pkg := range goList(t, "{{.ImportPath}}", "./plugin/cmd/...") {
		name := pkg[strings.LastIndex(pkg, "/")+1:]
		if !slices.Contains(devTools, name) {
			release = append(release, name)
		}
	}
	if want := slices.Sorted(slices.Values(testbin.Binaries)); !slices.Equal(slices.Sorted(slices.Values(release)), want) {
		t.Errorf("plugin/cmd holds %v besides the dev tools %v; the tests build %v: list each command in one of them", release, devTools, want)
	}
	for _, name := range release {
		if bad := testCodeLinked(t, "./plugin/cmd/"+name); len(bad) > 0 {
			t.Errorf("%s links test code:\n  %s", name, strings.Join(bad, "\n  "))
		}
	}
}

// TestContractImportsNoDestination: plugin/shared is the contract between the runner and
// braze-destination, so the runner must not link the destination through it. destination/report
// is allowed: the run report is the contract's progress and result type; so is the leaf package it
// writes report files with (destination/privatefile: 0600, atomic, never through a link).
func TestContractImportsNoDestination(t *testing.T) {
	if bad := destinationLinked(t, "./plugin/shared"); len(bad) > 0 {
		t.Errorf("plugin/shared depends on %v", bad)
	}
}

// TestRulesCatchOffenders: each rule finds what it forbids in a package known to have it, so a
// broken query (a wrong template, a renamed module) cannot pass silently.
func TestRulesCatchOffenders(t *testing.T) {
	if bad := testCodeLinked(t, "./test/emutest"); !slices.Contains(bad, module+"/test/emutest (under test/)") {
		t.Errorf("test/emutest is test code, but the rule found only %v", bad)
	}
	if bad := destinationLinked(t, "./destination/pluginserver"); !slices.Contains(bad, module+"/destination") {
		t.Errorf("destination/pluginserver imports destination, but the rule found only %v", bad)
	}
}

// testCodeLinked lists the packages of this module that pkg links and that are test code.
func testCodeLinked(t *testing.T, pkg string) []string {
	g := load(t)
	var bad []string
	for _, path := range g.linked(t, pkg) {
		switch {
		case strings.HasPrefix(path, module+"/test/"):
			bad = append(bad, path+" (under test/)")
		case slices.Contains(g.imports[path], "testing"):
			bad = append(bad, path+` (imports "testing")`)
		}
	}
	return bad
}

// destinationLinked lists the destination packages pkg links, destination/report excepted.
// contractTypes are the destination packages the contract may link: the report type and its file writer.
var contractTypes = []string{module + "/destination/report", module + "/destination/privatefile"}

func destinationLinked(t *testing.T, pkg string) []string {
	var bad []string
	for _, path := range load(t).linked(t, pkg) {
		if path == module+"/destination" || strings.HasPrefix(path, module+"/destination/") && !slices.Contains(contractTypes, path) {
			bad = append(bad, path)
		}
	}
	return bad
}

// graph is the part of the import graph the rules read, keyed by the "./dir" patterns above.
type graph struct {
	deps    map[string][]string // the package itself and everything it links
	imports map[string][]string // a module package's direct non-test imports
}

// linked returns pkg and everything it links; a package the graph does not hold fails the test,
// so a rule never passes over nothing.
func (g graph) linked(t *testing.T, pkg string) []string {
	t.Helper()
	deps, ok := g.deps[pkg]
	if !ok {
		t.Fatalf("%s is not in the listed graph", pkg)
	}
	return deps
}

var (
	graphOnce sync.Once
	theGraph  graph
	graphErr  error
)

// load runs `go list` three times for every rule, with the default build tags (the release build's):
// once for the checked packages' transitive deps, once for the module's direct imports.
func load(t *testing.T) graph {
	t.Helper()
	graphOnce.Do(func() {
		theGraph = graph{deps: map[string][]string{}, imports: map[string][]string{}}
		pkgs := append(goList(t, "{{.ImportPath}}", "./plugin/cmd/..."), "./plugin/shared", "./test/emutest", "./destination/pluginserver")
		lines, err := run(append([]string{"-f", `{{.ImportPath}} {{join .Deps " "}}`}, pkgs...)...)
		if err != nil {
			graphErr = err
			return
		}
		for _, l := range lines {
			f := strings.Fields(l)
			theGraph.deps["./"+strings.TrimPrefix(f[0], module+"/")] = f // the package and what it links
		}
		lines, graphErr = run("-e", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
		for _, l := range lines {
			f := strings.Fields(l)
			theGraph.imports[f[0]] = f[1:]
		}
	})
	if graphErr != nil {
		t.Fatal(graphErr)
	}
	return theGraph
}

func goList(t *testing.T, format string, args ...string) []string {
	t.Helper()
	lines, err := run(append([]string{"-f", format}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// run runs `go list args...` at the repository root and returns its lines.
func run(args ...string) ([]string, error) {
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = testbin.Root()
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil, fmt.Errorf("go list %v: %w\n%s", args, err, ee.Stderr)
	}
	if err != nil {
		return nil, fmt.Errorf("go list %v: %w", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n"), nil
}
