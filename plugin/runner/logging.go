package runner

import (
	"bytes"
	"io"
)

// QuietWriter drops plugin-sdk's per-call gRPC access lines ("started call" and "finished call" at
// info level, two per RPC of every source plugin) from a zerolog JSON stream before it is written or
// formatted. They say nothing a brazesync user needs; at --log-level debug they are kept.
func QuietWriter(w io.Writer) io.Writer { return quietWriter{w} }

type quietWriter struct{ w io.Writer }

var (
	grpcMethod   = []byte(`"grpc.method"`)
	startedCall  = []byte(`"message":"started call"`)
	finishedCall = []byte(`"message":"finished call"`)
	infoLevel    = []byte(`"level":"info"`)
)

func (q quietWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, grpcMethod) && bytes.Contains(p, infoLevel) &&
		(bytes.Contains(p, startedCall) || bytes.Contains(p, finishedCall)) {
		return len(p), nil
	}
	return q.w.Write(p)
}
