package runner

import (
	"bufio"
	"os"
	"sync"

	"github.com/rs/zerolog"
)

// stderrMu serialises the swap of os.Stderr around a source's start.
var stderrMu sync.Mutex

// withStderrRelayed runs start, which launches a source process, with os.Stderr pointing at a pipe,
// so that what the source writes to its stderr (a panic, a driver that prints) comes back line by
// line and is logged as the source's instead of landing as raw text in ours, which with
// --log-format json carries JSON lines only. managedplugin hands the child os.Stderr itself and
// has no option for it; the runner writes nothing to os.Stderr meanwhile (its log holds the file).
func withStderrRelayed(log zerolog.Logger, start func() error) error {
	r, w, err := os.Pipe()
	if err != nil {
		return start()
	}
	stderrMu.Lock()
	orig := os.Stderr
	os.Stderr = w
	err = start()
	os.Stderr = orig
	stderrMu.Unlock()
	_ = w.Close() // the child has its own copy: the reader sees EOF when the child exits
	go relayLines(r, log)
	return err
}

// relayLines logs each line of r as a warning (a plugin's stderr is not its log: its log is JSON on
// stdout), until EOF.
func relayLines(r *os.File, log zerolog.Logger) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			log.Warn().Str("stream", "stderr").Msg(line)
		}
	}
}
