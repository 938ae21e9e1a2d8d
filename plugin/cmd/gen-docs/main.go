// Command gen-docs regenerates docs/configuration.md from the plugins' registered JSON schemas and
// the Spec structs' doc comments (see package docs/gen). Run it from the repository root:
// go run ./plugin/cmd/gen-docs
package main

import (
	"fmt"
	"os"

	"github.com/brazesync/brazesync/docs/gen"
)

func main() {
	md, err := gen.ConfigurationMarkdown(".")
	if err == nil {
		err = os.WriteFile(gen.Output, []byte(md), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-docs:", err)
		os.Exit(1)
	}
	fmt.Println("wrote", gen.Output)
}
