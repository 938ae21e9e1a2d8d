package runner

import (
	"bufio"
	"io"

	"github.com/rs/zerolog"
)

// relayLines logs each line of r as a warning, until EOF: a plugin's stderr (a panic, a driver
// that prints) is not its log, which is JSON on stdout, so each line comes back as the source's
// warning instead of landing as raw text in a log that, with --log-format json, carries JSON only.
func relayLines(r io.ReadCloser, log zerolog.Logger) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			log.Warn().Str("stream", "stderr").Msg(line)
		}
	}
}
