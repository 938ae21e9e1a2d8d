package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/brazesync/brazesync/plugin/check"
)

// checkCmd is `brazesync check`: every check that needs no profile change, one line each.
func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	testUser := fs.String("test-user", "", "a user that must exist in Braze, identified as the destination's user_key (read with /users/export/ids)")
	format := fs.String("format", "text", "output: text (one line per check) or json")
	logLevel := fs.String("log-level", "warn", "log level of the plugins' logs: trace, debug, info, warn, error")
	timeout := fs.Duration("timeout", 60*time.Second, "time allowed for each network step")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: brazesync check [flags] SPEC.yml [SPEC.yml…]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return check.ExitConfig
	}
	log, err := newLogger(stderr, "text", *logLevel)
	if err != nil || (*format != "text" && *format != "json") {
		fmt.Fprintln(stderr, "brazesync check: bad --log-level or --format (text, json)")
		return check.ExitConfig
	}
	res := check.Run(ctx, check.Options{SpecFiles: fs.Args(), TestUser: *testUser, Log: log, Timeout: *timeout})
	if *format == "json" {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		res.Print(stdout)
	}
	return res.ExitCode()
}
