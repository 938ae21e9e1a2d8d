package brazeemu

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// Main runs the emulator as a standalone process (wired in as
// `brazesync emulator braze ...`). It serves until ctx is cancelled, printing
// "listening on http://ADDR" once ready. Keys are never printed.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("emulator braze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts Options
	listen := fs.String("listen", "127.0.0.1:8710", "address to listen on (host:port; port 0 picks one)")
	fs.Func("api-key", "REST API key with every permission (repeatable; default from $BRAZE_API_KEY)", func(s string) error {
		opts.APIKeys = append(opts.APIKeys, s)
		return nil
	})
	fs.Func("key-permissions", "KEY=perm1,perm2 restricted key, e.g. ro=users.export.ids (repeatable)", func(s string) error {
		k, perms, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return errors.New("want KEY=perm1,perm2")
		}
		if opts.KeyPermissions == nil {
			opts.KeyPermissions = map[string][]string{}
		}
		opts.KeyPermissions[k] = strings.Split(perms, ",")
		return nil
	})
	fs.IntVar(&opts.RateLimit, "rate-limit", DefaultRateLimit, "/users/track requests per window per key (<0 disables)")
	fs.DurationVar(&opts.RateWindow, "rate-window", DefaultRateWindow, "rate-limit window")
	fs.IntVar(&opts.ExportRateLimit, "export-rate-limit", DefaultExportRateLimit, "/users/export/ids requests per export window per key (<0 disables)")
	fs.DurationVar(&opts.ExportRateWindow, "export-rate-window", DefaultExportRateWindow, "export rate-limit window")
	fs.IntVar(&opts.ObjectCap, "object-cap", DefaultObjectCap, "objects per /users/track request (75; 50 for MAU contracts)")
	fs.BoolVar(&opts.LegacyPerArrayCap, "legacy-per-array-cap", false, "apply --object-cap per array (legacy 75+75+75)")
	fs.Int64Var(&opts.MaxBodyBytes, "max-body-bytes", DefaultMaxBodyBytes, "largest request body; larger gets 413")
	fs.IntVar(&opts.ArrayCap, "array-cap", DefaultArrayCap, "custom attribute array length cap (drops oldest)")
	fs.StringVar(&opts.AdminToken, "admin-token", "", "bearer token required on /_emulator/ (default: none)")
	seedFile := fs.String("seed", "", "JSON file with a Profile array to seed")
	faultsFile := fs.String("faults", "", "JSON file with a Fault array to install")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(opts.APIKeys) == 0 {
		if k := os.Getenv("BRAZE_API_KEY"); k != "" {
			opts.APIKeys = []string{k}
		}
	}
	if len(opts.APIKeys) == 0 && len(opts.KeyPermissions) == 0 {
		fmt.Fprintln(stderr, "emulator braze: at least one --api-key (or $BRAZE_API_KEY) is required")
		return 2
	}
	tuneGC()
	emu := New(opts)
	if err := loadStartupFiles(emu, *seedFile, *faultsFile); err != nil {
		fmt.Fprintf(stderr, "emulator braze: %v\n", err)
		return 1
	}
	return serve(ctx, emu, *listen, stdout, stderr)
}

// tuneGC trades memory for CPU in the standalone emulator: GOGC=400 with a 4 GiB soft
// limit collects less often while bounding memory. $GOGC or $GOMEMLIMIT, when set, win.
// It mattered when a million profiles were a million maps (marking them was a third of
// the emulator's CPU); the store is now pointer-free (compact.go), and in the 1M-row
// benchmark GOGC=100 costs about the same CPU with half the peak RSS (~430 MiB against
// ~900, docs/performance.md).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(4 << 30)
	}
}

func loadStartupFiles(emu *Emulator, seedFile, faultsFile string) error {
	if seedFile != "" {
		var ps []Profile
		if err := readJSONFile(seedFile, &ps); err != nil {
			return fmt.Errorf("loading seed file: %w", err)
		}
		emu.Seed(ps...)
	}
	if faultsFile != "" {
		var fs []Fault
		if err := readJSONFile(faultsFile, &fs); err != nil {
			return fmt.Errorf("loading faults file: %w", err)
		}
		emu.SetFaults(fs...)
	}
	return nil
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	return nil
}

func serve(ctx context.Context, emu *Emulator, addr string, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "emulator braze: listening on %s: %v\n", addr, err)
		return 1
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	emu.mu.Lock()
	emu.listenURL = url
	emu.mu.Unlock()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening on %s\n", url)
	select {
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			_ = srv.Close()
		}
		return 0
	case err := <-errc:
		fmt.Fprintf(stderr, "emulator braze: serving: %v\n", err)
		return 1
	}
}
