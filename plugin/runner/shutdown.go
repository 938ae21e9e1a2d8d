package runner

import (
	"context"
	"sync"
	"time"

	"github.com/brazesync/brazesync/plugin/shared"
)

// Grace periods of a shutdown.
const (
	// abortGrace: after the shutdown deadline's Abort, how long a destination has to send its final
	// report (dead-lettering what is left takes milliseconds) before it is killed.
	abortGrace = 10 * time.Second
	// hardGrace: the same after a second signal, which asks to stop at once.
	hardGrace = 2 * time.Second
	// rpcTimeout bounds one Drain, Abort or Close call.
	rpcTimeout = 5 * time.Second
)

// superviseShutdown runs the shutdown of a cancelled run while the run winds down. When ctx ends
// (the first signal), every destination is drained at once: no new request starts, in any phase,
// while the sources stop with ctx. When ShutdownTimeout has passed, or at the second signal, the
// destinations are aborted: requests in flight end and what is left is dead-lettered as
// run_cancelled. A destination that still has not ended its stream a grace period later is killed;
// its report is then its last progress snapshot. stop ends the supervision (the run is over).
func (r *run) superviseShutdown(ctx context.Context, second <-chan struct{}) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		r.log.Warn().Dur("shutdown_timeout", r.opts.ShutdownTimeout).
			Msg("cancelled: no new request starts; requests in flight may finish, unsent rows are dead-lettered as run_cancelled")
		r.eachStream((*shared.DestinationClient).Drain)
		grace := abortGrace
		deadline := time.NewTimer(r.opts.ShutdownTimeout)
		defer deadline.Stop()
		select {
		case <-done:
			return
		case <-second:
			grace = hardGrace
		case <-deadline.C:
			r.log.Warn().Msg("shutdown timeout passed: giving up on requests in flight")
		}
		r.eachStream((*shared.DestinationClient).Abort)
		killAt := time.NewTimer(grace)
		defer killAt.Stop()
		select {
		case <-done:
		case <-killAt.C:
			r.log.Error().Dur("grace", grace).Msg("a destination did not finish after being aborted: killing it")
			r.killAll()
		}
	}()
	return func() { close(done); wg.Wait() }
}

// eachStream calls one RPC on every destination with an open stream, each within rpcTimeout.
func (r *run) eachStream(call func(*shared.DestinationClient, context.Context) error) {
	for name, d := range r.dests {
		if d.stream == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
		if err := call(d.rpc, ctx); err != nil && !d.client.Exited() {
			r.log.Warn().Err(err).Str("destination", name).Msg("asking the destination to stop")
		}
		cancel()
	}
}
