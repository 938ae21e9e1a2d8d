package runner

import (
	"bytes"
	"testing"

	"github.com/rs/zerolog"
)

func TestQuietWriterDropsOnlyGRPCAccessLines(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(QuietWriter(&buf))
	log.Info().Str("grpc.method", "Sync").Msg("started call")
	log.Info().Str("grpc.method", "Sync").Msg("finished call")
	log.Warn().Str("grpc.method", "Sync").Msg("finished call")
	log.Info().Msg("started call")
	log.Info().Str("table", "users").Msg("file read")
	got := buf.String()
	for _, want := range []string{`"level":"warn"`, `"message":"file read"`} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("missing %s in %s", want, got)
		}
	}
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n != 3 {
		t.Errorf("%d lines kept, want 3:\n%s", n, got)
	}
}
