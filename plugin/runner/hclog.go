package runner

import (
	"fmt"
	"io"

	"github.com/hashicorp/go-hclog"
	"github.com/rs/zerolog"
)

// newHCLogger gives go-plugin an hclog.Logger whose every line lands in our zerolog log, with the
// plugin's own structured fields kept. go-plugin parses the plugin's JSON stderr lines and re-logs
// them through this logger.
func newHCLogger(log zerolog.Logger) hclog.Logger {
	l := hclog.NewInterceptLogger(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Trace})
	l.RegisterSink(&hclogSink{log: log})
	return l
}

type hclogSink struct{ log zerolog.Logger }

// Accept forwards one hclog entry. go-plugin's own chatter (mTLS setup, process start and exit),
// on either side, is demoted to debug; the destination's own lines, which carry @module, keep their
// level, and warnings and errors always do.
func (s *hclogSink) Accept(name string, level hclog.Level, msg string, args ...interface{}) {
	lvl := zlevel(level)
	if lvl < zerolog.WarnLevel && !hasArg(args, "@module") {
		lvl = zerolog.DebugLevel
	}
	ev := s.log.WithLevel(lvl)
	if name != "" {
		ev = ev.Str("logger", name)
	}
	for i := 0; i+1 < len(args); i += 2 {
		ev = ev.Interface(fmt.Sprint(args[i]), args[i+1])
	}
	ev.Msg(msg)
}

func zlevel(l hclog.Level) zerolog.Level {
	switch l {
	case hclog.Trace:
		return zerolog.TraceLevel
	case hclog.Debug:
		return zerolog.DebugLevel
	case hclog.Warn:
		return zerolog.WarnLevel
	case hclog.Error:
		return zerolog.ErrorLevel
	}
	return zerolog.InfoLevel
}

func hasArg(args []interface{}, key string) bool {
	for i := 0; i < len(args); i += 2 {
		if fmt.Sprint(args[i]) == key {
			return true
		}
	}
	return false
}
