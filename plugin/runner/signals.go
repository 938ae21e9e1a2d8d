package runner

import (
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/rs/zerolog"
)

// listenSignals makes SIGINT and SIGTERM stop the run in two steps: the first calls cancel (the
// graceful shutdown: nothing new is sent, requests in flight get ShutdownTimeout), the second
// closes the returned channel (requests in flight are given up at once). The caller's own
// signal.NotifyContext, if any, sees the signals too; Run does not depend on it, and a process that
// stops listening restores the default (a third signal after Run returned kills it).
func listenSignals(cancel func(), log zerolog.Logger) (second <-chan struct{}, stop func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	hard := make(chan struct{})
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 1; ; n++ {
			select {
			case <-done:
				return
			case sig := <-ch:
				switch n {
				case 1:
					log.Warn().Str("signal", sig.String()).Msg("stopping: no new request to Braze; requests in flight may finish within --shutdown-timeout (signal again to stop at once)")
					cancel()
				case 2:
					log.Warn().Str("signal", sig.String()).Msg("second signal: giving up on requests in flight now")
					close(hard)
					return
				}
			}
		}
	}()
	return hard, func() {
		signal.Stop(ch)
		close(done)
		wg.Wait()
	}
}
