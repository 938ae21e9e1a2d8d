package snowflake

import (
	"bytes"
	"strconv"
	"strings"
	"sync"

	"github.com/rs/zerolog"
	"github.com/snowflakedb/gosnowflake"
)

var driverLogOnce sync.Once

// routeDriverLog sends the Snowflake driver's own log lines (logrus text on stderr by default)
// through log, so that the plugin's log stays one stream of lines in its format (JSON under a host)
// and nothing reaches stderr raw. The driver masks secrets while formatting, which is kept: its
// formatted line is parsed back, not its fields. Its info lines are connection chatter and go to
// debug; warnings and errors keep their level. The driver's logger is global: the first client wins.
func routeDriverLog(log zerolog.Logger) {
	driverLogOnce.Do(func() {
		l := gosnowflake.GetLogger()
		level := "warn"
		if log.GetLevel() <= zerolog.DebugLevel {
			level = "debug"
		}
		_ = l.SetLogLevel(level)
		l.SetOutput(&driverLog{log: log.With().Str("logger", "gosnowflake").Logger()})
	})
}

// driverLog re-emits logrus text lines (`time="…" level=info msg="…" func=… file=…`).
type driverLog struct{ log zerolog.Logger }

func (d *driverLog) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		f := logfmt(string(line))
		msg, ok := f["msg"]
		if !ok {
			msg = string(line) // not logrus's shape: keep the line whole
		}
		ev := d.log.WithLevel(driverLevel(f["level"]))
		if file := f["file"]; file != "" {
			ev = ev.Str("caller", file)
		}
		ev.Msg(strings.TrimSpace(msg))
	}
	return len(p), nil
}

func driverLevel(l string) zerolog.Level {
	switch l {
	case "trace":
		return zerolog.TraceLevel
	case "warning", "warn":
		return zerolog.WarnLevel
	case "error", "fatal", "panic":
		return zerolog.ErrorLevel
	}
	return zerolog.DebugLevel // info and debug: the driver's chatter
}

// logfmt parses key=value pairs whose values are bare words or Go-quoted strings, as logrus's
// text formatter writes them.
func logfmt(s string) map[string]string {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return out
		}
		key, rest := s[:eq], s[eq+1:]
		val, tail := rest, ""
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return out
			}
			val, _ = strconv.Unquote(q)
			tail = rest[len(q):]
		} else if sp := strings.IndexByte(rest, ' '); sp >= 0 {
			val, tail = rest[:sp], rest[sp:]
		}
		out[key] = val
		s = tail
	}
	return out
}
