package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/source/actionhub"
	"github.com/brazesync/brazesync/test/brazeemu"
	"github.com/brazesync/brazesync/test/lookeremu"
	"github.com/brazesync/brazesync/test/snowflakeemu"
)

func emulatorCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: brazesync emulator braze|snowflake|looker [flags]")
		return 2
	}
	switch args[0] {
	case "braze":
		return brazeemu.Main(ctx, args[1:], stdout, stderr)
	case "snowflake":
		return snowflakeemu.Main(ctx, args[1:], stdout, stderr)
	case "looker":
		return lookeremu.Main(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "brazesync emulator: unknown emulator %q (braze, snowflake, looker)\n", args[0])
	return 2
}

func actionHubCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return actionhub.Main(ctx, args, stdout, stderr)
}

// writeReportTo prints the report as one line of JSON, so an orchestrator that keeps the last line
// of stdout (Airflow's XCom) gets all of it.
func writeReportTo(w io.Writer, rep *runner.RunReport) {
	b, _ := json.Marshal(rep)
	fmt.Fprintln(w, string(b))
}
