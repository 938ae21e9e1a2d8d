package actionhub

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Main runs `brazesync action-hub [serve] [flags]` or
// `brazesync action-hub token [flags]`. The secret is read from the
// environment variable named by --secret-env, never from a flag value.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "token" {
		return tokenMain(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	return serveMain(ctx, args, stdout, stderr)
}

func readSecret(env string) ([]byte, error) {
	v := os.Getenv(env)
	if len(v) < 16 {
		return nil, fmt.Errorf("environment variable %s must hold the action hub secret (at least 16 characters)", env)
	}
	return []byte(v), nil
}

func tokenMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("action-hub token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	secretEnv := fs.String("secret-env", "ACTION_HUB_SECRET", "environment variable holding the hub secret")
	nonce := fs.String("nonce", "", "nonce to sign (default: 32 random bytes, hex)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	secret, err := readSecret(*secretEnv)
	if err != nil {
		fmt.Fprintln(stderr, "action-hub token:", err)
		return 2
	}
	tok := ""
	if *nonce != "" {
		if strings.Contains(*nonce, "/") {
			fmt.Fprintln(stderr, "action-hub token: the nonce must not contain '/'")
			return 2
		}
		tok = Token(secret, *nonce)
	} else if tok, err = NewToken(secret); err != nil {
		fmt.Fprintln(stderr, "action-hub token:", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	fmt.Fprintln(stderr, "Paste this into Looker (Admin → Actions → Add Action Hub → Authorization Token).")
	return 0
}

func serveMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("action-hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	secretEnv := fs.String("secret-env", "ACTION_HUB_SECRET", "environment variable holding the hub secret")
	maxConc := fs.Int("max-concurrent", defaultMaxConcurrent, "executions running at once (more wait)")
	reportDir := fs.String("report-dir", "action-hub-runs", "folder for run reports and dead-letter files")
	baseURL := fs.String("base-url", "", "public URL of the hub (default: from each request's Host)")
	label := fs.String("label", defaultLabel, "hub label shown in Looker")
	allow := fs.String("allow-endpoint-host", "", "comma-separated host[:port] list accepted as Braze endpoint besides rest.*.braze.com/.eu")
	createUsers := fs.Bool("create-users", false, "create unknown users (_update_existing_only:false)")
	longStrings := fs.String("long-strings", "reject", "strings over 255 characters: reject (dead-letter the row) or truncate")
	keepAlive := fs.Duration("keep-alive", defaultKeepAlive, "interval between keep-alive newlines")
	concurrency := fs.Int("braze-concurrency", 0, "requests in flight to Braze per execution (0: destination default)")
	logFormat := fs.String("log-format", "json", "json or text")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	secret, err := readSecret(*secretEnv)
	if err != nil {
		fmt.Fprintln(stderr, "action-hub:", err)
		return 2
	}
	if *longStrings != "reject" && *longStrings != "truncate" {
		fmt.Fprintln(stderr, "action-hub: --long-strings must be reject or truncate")
		return 2
	}
	var logger zerolog.Logger
	if *logFormat == "text" {
		logger = zerolog.New(zerolog.ConsoleWriter{Out: stderr}).With().Timestamp().Logger()
	} else {
		logger = zerolog.New(stderr).With().Timestamp().Logger()
	}
	var hosts []string
	for _, h := range strings.Split(*allow, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	hub, err := New(Config{Secret: secret, BaseURL: *baseURL, Label: *label, MaxConcurrent: *maxConc,
		ReportDir: *reportDir, KeepAlive: *keepAlive, AllowedEndpointHosts: hosts, Logger: logger,
		Sink: DestinationSink(DestinationOptions{CreateUsers: *createUsers, LongStrings: *longStrings, Concurrency: *concurrency})})
	if err != nil {
		fmt.Fprintln(stderr, "action-hub:", err)
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "action-hub:", err)
		return 1
	}
	srv := &http.Server{Handler: hub.Handler(), ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = hub.Shutdown(shutdownCtx)
	_ = srv.Shutdown(shutdownCtx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "action-hub:", err)
		return 1
	}
	return 0
}
