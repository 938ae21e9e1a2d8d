package snowflakeemu

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Main runs the emulator as a command (brazesync emulator snowflake …):
// it seeds, serves until ctx is cancelled, and prints one line
// "listening on http://ADDR" once ready. It returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("snowflake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen     = fs.String("listen", "127.0.0.1:0", "address to listen on")
		opts       Options
		pubKeyFile = fs.String("public-key", "", "PEM file with the user's RSA public key (enables key-pair login)")
		warehouses = fs.String("warehouses", "COMPUTE_WH", "comma-separated warehouses that exist")
		roles      = fs.String("roles", "SYNC_ROLE", "comma-separated roles that exist")
		seedUsers  = fs.Int("seed-users", 1000, "users to generate in the Braze Currents tables (0: none)")
		allTypes   = fs.Bool("seed-all-types", true, "create the ALL_TYPES table")
		now        = fs.String("now", "", "emulator clock, RFC 3339 (default: current time)")
	)
	fs.StringVar(&opts.Account, "account", "EMU", "account name")
	fs.StringVar(&opts.User, "user", "BRAZESYNC", "user name")
	fs.StringVar(&opts.Password, "password", "", "password (enables password login)")
	fs.StringVar(&opts.OAuthToken, "oauth-token", "", "OAuth access token (enables OAuth login)")
	fs.IntVar(&opts.ChunkRows, "chunk-rows", 50000, "rows per remote result chunk")
	fs.IntVar(&opts.InlineRows, "inline-rows", 1000, "rows sent inline with the query response")
	fs.BoolVar(&opts.TickingClock, "ticking-clock", true, "run the clock from --now at the speed of real time (false: it stands still)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	opts.Warehouses = strings.Split(*warehouses, ",")
	opts.Roles = strings.Split(*roles, ",")
	if *now != "" {
		t, err := time.Parse(time.RFC3339, *now)
		if err != nil {
			fmt.Fprintf(stderr, "snowflake emulator: --now: %v\n", err)
			return 2
		}
		opts.Now = t
	}
	if *pubKeyFile != "" {
		key, err := ReadPublicKey(*pubKeyFile)
		if err != nil {
			fmt.Fprintf(stderr, "snowflake emulator: %v\n", err)
			return 2
		}
		opts.PublicKey = key
	}
	if err := serve(ctx, opts, *listen, *seedUsers, *allTypes, stdout); err != nil {
		fmt.Fprintf(stderr, "snowflake emulator: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, opts Options, listen string, users int, allTypes bool, stdout io.Writer) error {
	e, err := New(opts)
	if err != nil {
		return err
	}
	defer e.Close()
	if allTypes {
		if err := e.SeedAllTypes(ctx); err != nil {
			return err
		}
	}
	if users > 0 {
		if err := e.SeedCurrents(ctx, users); err != nil {
			return err
		}
	}
	if err := e.Start(listen); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on %s\n", e.URL())
	<-ctx.Done()
	return nil
}

// ReadPublicKey reads an RSA public key from a PEM file ("PUBLIC KEY",
// PKIX, as `openssl rsa -pubout` writes it).
func ReadPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("reading public key %s: no PEM block", path)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing public key %s: %w", path, err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key %s is not RSA", path)
	}
	return rk, nil
}
