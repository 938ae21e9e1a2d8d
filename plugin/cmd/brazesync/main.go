// Command brazesync runs syncs from warehouse queries into Braze, and the local emulators.
//
//	brazesync sync SPEC.yml [SPEC.yml…]     run a sync (CloudQuery sync spec files)
//	brazesync emulator braze|snowflake|looker …   run a local emulator
//	brazesync action-hub …                  serve the Looker Action Hub
//	brazesync version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped by the build (-ldflags -X main.version=…).
var version = "development"

const usage = `usage:
  brazesync sync [flags] SPEC.yml [SPEC.yml…]   run a sync; see brazesync sync -h
  brazesync check [flags] SPEC.yml [SPEC.yml…]  check a spec without changing any profile
  brazesync emulator braze|snowflake|looker [flags]   run a local emulator
  brazesync action-hub [flags]                  serve the Looker Action Hub (token: action-hub token)
  brazesync version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "sync":
		return syncCmd(ctx, args[1:], stdout, stderr)
	case "check":
		return checkCmd(ctx, args[1:], stdout, stderr)
	case "emulator":
		return emulatorCmd(ctx, args[1:], stdout, stderr)
	case "action-hub":
		return actionHubCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "brazesync", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "brazesync: unknown command %q\n%s", args[0], usage)
	return 2
}
