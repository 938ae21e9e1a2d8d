package lookeremu

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// Main runs the emulator from the command line (`brazesync emulator looker`):
// it serves the seeded instance until ctx is cancelled.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("emulator looker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	rows := fs.Int("rows", 1000, "rows in the seeded users view")
	clientID := fs.String("client-id", "brazesync", "API client id to accept")
	secretEnv := fs.String("client-secret-env", "LOOKEREMU_CLIENT_SECRET", "environment variable holding the client secret to accept (default secret: emulator-secret)")
	ttl := fs.Duration("token-ttl", time.Hour, "access token lifetime")
	dataFirst := fs.Bool("data-before-fields", false, `write json_detail "data" before "fields"`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *rows < 0 {
		fmt.Fprintln(stderr, "--rows must be ≥ 0")
		return 2
	}
	opts := Seed(*rows)
	opts.Addr, opts.ClientID, opts.TokenTTL, opts.DataBeforeFields = *listen, *clientID, *ttl, *dataFirst
	opts.ClientSecret = os.Getenv(*secretEnv)
	s, err := New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "looker emulator: %v\n", err)
		return 1
	}
	defer s.Close()
	fmt.Fprintf(stdout, "listening on %s\n", s.URL())
	fmt.Fprintf(stderr, "looker emulator: client_id=%s, %d rows, looks %d-%d (model %s, view %s)\n",
		*clientID, *rows, LookScenario, LookLongString, SeedModel, SeedView)
	<-ctx.Done()
	return 0
}
