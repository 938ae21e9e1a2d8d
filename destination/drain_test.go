package destination

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
)

// TestWriterDrain: after Drain no request starts; the requests on the wire finish and their users
// count as sent, every other row is dead-lettered as run_cancelled, and Close reports a cancelled,
// balanced run.
func TestWriterDrain(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"batch_size": 10, "concurrency": 2})
	w, err := NewWriter(t.Context(), spec, zerolog.Nop(), WithRetryPolicy(fastRetry))
	require.NoError(t, err)
	base := emu.Stats().Requests // the key check
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 300 * time.Millisecond})
	var rows []userRow
	for i := range 100 {
		rows = append(rows, userRow{ID: str(fmt.Sprintf("d%d", i)), Score: num(1)})
	}
	written := make(chan error, 1)
	go func() { written <- w.Write(t.Context(), usersRecord("users", rows)) }()
	for emu.Stats().Requests-base < 2 { // both workers have a request on the wire
		time.Sleep(time.Millisecond)
	}
	w.Drain()
	onWire := emu.Stats().Requests - base
	require.NoError(t, <-written)
	rep, cerr := w.Close(context.Background())

	assert.ErrorIs(t, cerr, context.Canceled)
	assert.True(t, rep.Balanced(), rep.Summary())
	assert.Equal(t, onWire, emu.Stats().Requests-base, "no request started after Drain")
	assert.Equal(t, onWire*10, rep.UsersSent, "the requests on the wire finished: "+rep.Summary())
	assert.Equal(t, 100-onWire*10, rep.RowsRejected[ReasonCancelled], rep.Summary())
	assert.Equal(t, int(rep.UsersSent), len(emu.Profiles()))
	assert.Len(t, readDeadLetters(t, spec.DeadLetterFile), int(100-onWire*10))
}
