// Command gen writes the sample users: go run ./test/sampledata/gen -out docs/examples/data -users 5000
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/brazesync/brazesync/test/sampledata"
)

func main() {
	out := flag.String("out", "docs/examples/data", "output folder")
	n := flag.Int("users", sampledata.DefaultUsers, "number of users")
	seed := flag.Uint64("seed", sampledata.DefaultSeed, "random seed")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := sampledata.WriteFiles(*out, sampledata.Users(*n, *seed)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
