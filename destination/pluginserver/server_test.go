package pluginserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/arrow/util"
	"github.com/hashicorp/go-plugin"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/shared"
	"github.com/brazesync/brazesync/test/emutest"
)

// dial connects a host-side client to an in-process plugin server over real gRPC (go-plugin's
// TestPluginGRPCConn), both with the plain and the multiplexed broker.
func dial(t *testing.T, multiplex bool) *shared.DestinationClient {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, multiplex, map[string]plugin.Plugin{
		shared.DestinationPluginName: &shared.DestinationPlugin{Impl: New(zerolog.Nop())},
	})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(shared.DestinationPluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*shared.DestinationClient)
}

// bigRecord has rows users whose padding attribute makes the record several times MaxRecordBytes.
func bigRecord(rows int) arrow.Record {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "external_id", Type: arrow.BinaryTypes.String},
		{Name: "braze[note]", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	pad := strings.Repeat("x", 200)
	for i := range rows {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("u%06d", i))
		b.Field(1).(*array.StringBuilder).Append(pad)
	}
	return b.NewRecord()
}

// TestWriteAcrossBoundary: a record larger than one message is sliced, every row arrives, progress
// and a final balanced report come back.
func TestWriteAcrossBoundary(t *testing.T) {
	for _, mux := range []bool{false, true} {
		t.Run(fmt.Sprintf("multiplex=%v", mux), func(t *testing.T) {
			const key = "shared-test-key"
			emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}, RateLimit: -1})
			c := dial(t, mux)
			ctx := context.Background()
			spec, _ := json.Marshal(map[string]any{"api_key": key, "endpoint": emu.URL(), "update_existing_only": false,
				"dead_letter_file": t.TempDir() + "/dead.jsonl", "state_dir": t.TempDir()})
			if err := c.Configure(ctx, "braze", "run-1", spec); err != nil {
				t.Fatal(err)
			}
			rec := bigRecord(30_000)
			defer rec.Release()
			if util.TotalRecordSize(rec) < 3*shared.MaxRecordBytes {
				t.Fatalf("record of %d bytes is too small to need slicing", util.TotalRecordSize(rec))
			}
			s, err := c.Write(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(rec); err != nil {
				t.Fatal(err)
			}
			rep, final, err := s.CloseAndWait(ctx)
			if err != nil || !final {
				t.Fatalf("final=%v err=%v", final, err)
			}
			if rep.RowsRead != 30_000 || rep.UsersSent != 30_000 || !rep.Balanced() {
				t.Errorf("report: read %d sent %d", rep.RowsRead, rep.UsersSent)
			}
			if got := len(emu.Profiles()); got != 30_000 {
				t.Errorf("emulator holds %d users", got)
			}
		})
	}
}

// TestConfigureRefusesBadSpec: a bad spec is InvalidArgument, which the host maps to exit code 2.
func TestConfigureRefusesBadSpec(t *testing.T) {
	c := dial(t, false)
	err := c.Configure(context.Background(), "braze", "run", []byte(`{"api_key":"k","endpoint":"https://rest.iad-01.braze.com","batch_size":500}`))
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "batch_size") {
		t.Fatalf("error %v, want InvalidArgument naming batch_size", err)
	}
}

// TestWriteBeforeConfigure is refused, not a crash.
func TestWriteBeforeConfigure(t *testing.T) {
	c := dial(t, false)
	s, err := c.Write(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.CloseAndWait(context.Background())
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("error %v, want FailedPrecondition", err)
	}
}
