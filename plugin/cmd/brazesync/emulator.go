package main

import (
	"context"
	"fmt"
	"io"

	"github.com/brazesync/brazesync/plugin/actionhub"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
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
