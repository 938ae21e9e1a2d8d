package actionhub

import (
	"context"
	"crypto/tls"
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

// serveFlags are the flags of `brazesync action-hub serve` beyond Config's own.
type serveFlags struct {
	listen, secretEnv, allow, logFormat, tlsCert, tlsKey string
}

// flags declares every serve flag, filling cfg as they are parsed.
func (f *serveFlags) declare(fs *flag.FlagSet, cfg *Config) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&f.secretEnv, "secret-env", "ACTION_HUB_SECRET", "environment variable holding the hub secret")
	fs.StringVar(&f.allow, "allow-endpoint-host", "", "comma-separated host[:port] list accepted as Braze endpoint besides Braze's REST hosts (https only)")
	fs.StringVar(&f.logFormat, "log-format", "json", "json or text")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate (chain) to serve https with; needs --tls-key")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.IntVar(&cfg.MaxConcurrent, "max-concurrent", defaultMaxConcurrent, "executions running at once (more wait)")
	fs.StringVar(&cfg.ReportDir, "report-dir", "action-hub-runs", "folder for run reports and dead-letter files")
	fs.StringVar(&cfg.StateDir, "state-dir", "", "folder of the sync state of executions that remove the label from users no longer in the Look, one folder per label (default: <report-dir>/state)")
	fs.StringVar(&cfg.BaseURL, "base-url", "", "public URL of the hub (default: from each request's Host)")
	fs.StringVar(&cfg.Label, "label", defaultLabel, "hub label shown in Looker")
	fs.StringVar(&cfg.DestinationPath, "destination-path", "", "braze-destination binary (default: the one beside this executable)")
	fs.DurationVar(&cfg.KeepAlive, "keep-alive", defaultKeepAlive, "interval between keep-alive newlines")
	fs.DurationVar(&cfg.RunTimeout, "run-timeout", defaultRunTimeout, "longest execution, download and delivery, once it has a slot")
	fs.BoolVar(&cfg.Destination.CreateUsers, "create-users", false, "create unknown users (_update_existing_only:false)")
	fs.StringVar(&cfg.Destination.LongStrings, "long-strings", "reject", "strings over 255 characters: reject (dead-letter the row) or truncate")
	fs.IntVar(&cfg.Destination.Concurrency, "braze-concurrency", 0, "requests in flight to Braze per execution (0: destination default)")
	l := &cfg.Limits
	fs.DurationVar(&l.QueueWait, "queue-wait", defaultQueueWait, "longest wait for an execution slot; then the execution fails as busy")
	fs.IntVar(&l.MaxQueued, "max-queued", defaultMaxQueued, "executions waiting for a slot at once; one more fails as busy at once")
	fs.Int64Var(&l.MaxBodyBytes, "max-body-bytes", defaultMaxBodyBytes, "largest execute request body, inline attachment included")
	fs.Int64Var(&l.MaxDownloadBytes, "max-download-bytes", defaultMaxDownloadBytes, "largest download_url result")
	fs.DurationVar(&l.DownloadIdleTimeout, "download-idle-timeout", defaultDownloadIdleTimeout, "longest time without a byte from download_url (the first byte included) or in an execute body")
	fs.DurationVar(&l.DownloadTimeout, "download-timeout", defaultDownloadTimeout, "longest download_url fetch, first to last byte")
	fs.IntVar(&l.MaxRowBytes, "max-row-bytes", defaultMaxRowBytes, "largest json_detail row")
	fs.IntVar(&l.MaxHeaderBytes, "max-header-bytes", defaultMaxHeaderBytes, "largest json_detail section read whole (fields, pivots, ...)")
	fs.IntVar(&l.MaxColumns, "max-columns", defaultMaxColumns, "most columns a result may have (pivots multiply them)")
}

func (f *serveFlags) logger(stderr io.Writer) zerolog.Logger {
	if f.logFormat == "text" {
		return zerolog.New(zerolog.ConsoleWriter{Out: stderr}).With().Timestamp().Logger()
	}
	return zerolog.New(stderr).With().Timestamp().Logger()
}

func (f *serveFlags) hosts() []string {
	var hosts []string
	for _, h := range strings.Split(f.allow, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// tlsConfig loads --tls-cert/--tls-key, or returns nil for plain http.
func (f *serveFlags) tlsConfig() (*tls.Config, error) {
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if f.tlsCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("loading --tls-cert/--tls-key: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// configure parses the flags into a hub configuration and its TLS settings.
func configure(args []string, stderr io.Writer) (Config, *serveFlags, *tls.Config, error) {
	fs := flag.NewFlagSet("action-hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	f := &serveFlags{}
	f.declare(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return cfg, nil, nil, err
	}
	secret, err := readSecret(f.secretEnv)
	if err != nil {
		return cfg, nil, nil, err
	}
	if l := cfg.Destination.LongStrings; l != "reject" && l != "truncate" {
		return cfg, nil, nil, errors.New("--long-strings must be reject or truncate")
	}
	tlsCfg, err := f.tlsConfig()
	if err != nil {
		return cfg, nil, nil, err
	}
	cfg.Secret, cfg.AllowedEndpointHosts, cfg.Logger = secret, f.hosts(), f.logger(stderr)
	return cfg, f, tlsCfg, nil
}

func serveMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, f, tlsCfg, err := configure(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "action-hub:", err)
		return 2
	}
	hub, err := New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "action-hub:", err)
		return 2
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		fmt.Fprintln(stderr, "action-hub:", err)
		return 1
	}
	return serve(ctx, hub, ln, tlsCfg, stdout, stderr, cfg.Logger)
}

// serve runs the HTTP(S) server until ctx ends, then lets running executions write their reports.
func serve(ctx context.Context, hub *Server, ln net.Listener, tlsCfg *tls.Config, stdout, stderr io.Writer, log zerolog.Logger) int {
	srv := &http.Server{Handler: hub.Handler(), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, TLSConfig: tlsCfg}
	errc := make(chan error, 1)
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
		log.Warn().Str("listen", ln.Addr().String()).Msg("serving plain http: Looker calls action hubs over https only, " +
			"so serve --tls-cert/--tls-key or put a TLS-terminating proxy in front")
	}
	fmt.Fprintf(stdout, "listening on %s://%s\n", scheme, ln.Addr())
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), finishGrace+5*time.Second)
	defer cancel()
	_ = hub.Shutdown(shutdownCtx)
	_ = srv.Shutdown(shutdownCtx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "action-hub:", err)
		return 1
	}
	return 0
}
