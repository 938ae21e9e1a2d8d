package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"time"

	"github.com/cloudquery/plugin-pb-go/managedplugin"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// A local source plugin is started exactly as the CloudQuery CLI starts one (managedplugin's
// startLocal): `<path> serve --log-level L --log-format json --network unix --address <socket>
// --no-sentry`, in its own process group, its JSON log read from stdout. Only the connection
// differs: managedplugin dials at once with gRPC's blocking dial, which fails because the plugin
// has not bound its socket yet and then sits out gRPC's one-second reconnect backoff — a second
// added to every sync. The runner waits for the socket to appear instead, then connects.

// sourceStartTimeout bounds how long a started source may take to bind its socket (managedplugin
// allows the same five seconds).
const sourceStartTimeout = 5 * time.Second

// sourceStopGrace is how long a source may take to exit after SIGINT before it is killed
// (managedplugin's terminateProcess waits as long).
const sourceStopGrace = 5 * time.Second

// sourceProc is a source plugin process this runner started, and its connection.
type sourceProc struct {
	cmd    *exec.Cmd
	socket string
	conn   *grpc.ClientConn
	logs   chan struct{} // closed when its stdout (the log) has been read to the end
	stderr chan struct{} // closed when its stderr has been relayed to the end
	exited chan struct{} // closed when the process has exited (state in cmd.ProcessState)
}

// startSourceProc starts the plugin at path and connects to it. Its log lines go to logs; its
// stderr, not a log, is relayed line by line to log, as are troubles reading them.
func startSourceProc(ctx context.Context, path string, env []string, level zerolog.Level, logs io.Writer,
	log zerolog.Logger) (*sourceProc, error) {
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		return nil, fmt.Errorf("error validating plugin path, %s: not an executable file", path)
	}
	p := &sourceProc{socket: managedplugin.GenerateRandomUnixSocketName(), logs: make(chan struct{}),
		stderr: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(path, "serve", "--log-level", level.String(), "--log-format", "json",
		"--network", "unix", "--address", p.socket, "--no-sentry")
	p.cmd.Env = env
	p.cmd.SysProcAttr = sourceProcAttr() // its own process group, as the CLI starts it
	// Pipes of our own rather than cmd's: Wait, run as soon as the plugin exits, would close
	// those before the last lines are read.
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	stderr, stderrW, err := os.Pipe()
	if err != nil {
		stdout.Close()
		stdoutW.Close()
		return nil, err
	}
	p.cmd.Stdout, p.cmd.Stderr = stdoutW, stderrW
	err = p.cmd.Start()
	stdoutW.Close() // the child holds its own copies: the readers see EOF once it is gone
	stderrW.Close()
	if err != nil {
		stdout.Close()
		stderr.Close()
		return nil, fmt.Errorf("failed to start plugin %s: %w", path, err)
	}
	go p.readLog(stdout, logs, log)
	go func() { relayLines(stderr, log); close(p.stderr) }()
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	if err := p.connect(ctx); err != nil {
		killSource(p.cmd.Process)
		p.reap()
		return nil, fmt.Errorf("failed connecting to plugin %s: %w", path, err)
	}
	return p, nil
}

// readLog passes each line of the plugin's log on, until EOF.
func (p *sourceProc) readLog(stdout io.ReadCloser, logs io.Writer, log zerolog.Logger) {
	defer close(p.logs)
	defer stdout.Close()
	lr := managedplugin.NewLogReader(stdout)
	for {
		line, err := lr.NextLine()
		if errors.Is(err, managedplugin.ErrLogLineToLong) {
			log.Warn().Int("bytes", len(line)).Msg("a log line of the source was too long and was dropped")
			continue
		}
		if err != nil {
			return
		}
		_, _ = logs.Write(line)
	}
}

// connect waits for the plugin's socket, then opens the connection once the plugin accepts it.
func (p *sourceProc) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, sourceStartTimeout)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.Dial("unix", p.socket); err == nil {
			_ = c.Close()
			break
		}
		select {
		case <-p.exited:
			return fmt.Errorf("the plugin exited before serving: %s", p.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("the plugin did not serve within %v: %w", sourceStartTimeout, ctx.Err())
		case <-tick.C:
		}
	}
	conn, err := grpc.NewClient("unix://"+p.socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxSourceMessage), grpc.MaxCallSendMsgSize(maxSourceMessage)))
	if err != nil {
		return err
	}
	p.conn = conn
	return nil
}

// maxSourceMessage is the largest message exchanged with a source: the CLI's 100 MiB
// (docs/cloudquery.md).
const maxSourceMessage = 100 << 20

// terminate closes the connection, asks the plugin to stop (SIGINT), kills it after
// sourceStopGrace, and waits until it has exited and its log is read. A plugin that did not exit
// cleanly is an error.
func (p *sourceProc) terminate() error {
	if p.conn != nil {
		_ = p.conn.Close()
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(sourceStopGrace):
		killSource(p.cmd.Process)
	}
	p.reap()
	if st := p.cmd.ProcessState; st != nil && !st.Success() {
		return fmt.Errorf("source plugin process failed with %s", st)
	}
	return nil
}

// reap waits until the process has exited and its output is read, then removes its socket.
func (p *sourceProc) reap() {
	<-p.exited
	<-p.logs
	<-p.stderr
	_ = os.RemoveAll(p.socket)
}
