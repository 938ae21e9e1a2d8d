package mirrore2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cloudquery/plugin-pb-go/managedplugin"
	pbcq "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/testbin"
)

// The CloudQuery CLI (cli/cmd/sync_v3.go, v5.18) drives a destination like this, per sync: it
// launches the plugin (managedplugin, `serve --network unix`), calls Init with the spec, opens one
// Write stream, forwards a MigrateTable for every table the source announces and every Insert, and
// when the source's Sync stream ends with EOF it sends one DeleteStale per announced table
// (write_mode overwrite-delete-stale), then CloseAndRecv and Close. When the source's stream fails
// instead, the CLI returns at once: no DeleteStale, no CloseSend; its context ends and the plugin
// is stopped. A table whose resolver failed inside the source does not fail the stream (plugin-sdk
// logs it and the CLI counts the error line), so that table still gets its DeleteStale.

// cqSync is one sync as the CLI runs it, against a freshly launched braze-destination.
type cqSync struct {
	t      *testing.T
	mp     *managedplugin.Client
	client pbcq.PluginClient
	stream pbcq.Plugin_WriteClient
	cancel context.CancelFunc
}

func startCQSync(t *testing.T, specJSON []byte) *cqSync {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	mp, err := managedplugin.NewClient(ctx, managedplugin.PluginDestination,
		managedplugin.Config{Name: "braze", Registry: managedplugin.RegistryLocal, Path: testbin.Path(t, "braze-destination")},
		managedplugin.WithLogger(zerolog.New(io.Discard)), managedplugin.WithNoSentry())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	c := pbcq.NewPluginClient(mp.Conn)
	if _, err := c.Init(ctx, &pbcq.Init_Request{Spec: specJSON}); err != nil {
		cancel()
		_ = mp.Terminate()
		t.Fatal(err)
	}
	// The stream has a context of its own, as the CLI's ends when it returns on a source error;
	// the process outlives it here, so the test sees what the destination does with a broken stream.
	streamCtx, cancelStream := context.WithCancel(ctx)
	stream, err := c.Write(streamCtx)
	if err != nil {
		cancelStream()
		cancel()
		_ = mp.Terminate()
		t.Fatal(err)
	}
	s := &cqSync{t: t, mp: mp, client: c, stream: stream, cancel: cancelStream}
	t.Cleanup(func() { cancelStream(); cancel(); _ = mp.Terminate() })
	return s
}

func (s *cqSync) send(m *pbcq.Write_Request) {
	s.t.Helper()
	if err := s.stream.Send(m); err != nil {
		s.t.Fatal(err)
	}
}

// table sends the table's MigrateTable and one Insert holding ids, as the CLI forwards them (with
// the _cq_source_name and _cq_sync_time columns it adds).
func (s *cqSync) table(name string, ids []string) {
	s.t.Helper()
	rec := cqRecord(name, ids)
	defer rec.Release()
	sc, err := pbcq.SchemaToBytes(rec.Schema())
	if err != nil {
		s.t.Fatal(err)
	}
	rb, err := pbcq.RecordToBytes(rec)
	if err != nil {
		s.t.Fatal(err)
	}
	s.send(&pbcq.Write_Request{Message: &pbcq.Write_Request_MigrateTable{MigrateTable: &pbcq.Write_MessageMigrateTable{Table: sc}}})
	s.send(&pbcq.Write_Request{Message: &pbcq.Write_Request_Insert{Insert: &pbcq.Write_MessageInsert{Record: rb}}})
}

// end is the CLI after the source's stream ended with EOF: DeleteStale for the table, CloseAndRecv
// (whose error is the destination's verdict), Close.
func (s *cqSync) end() error {
	s.t.Helper()
	s.send(&pbcq.Write_Request{Message: &pbcq.Write_Request_Delete{Delete: &pbcq.Write_MessageDeleteStale{
		TableName: "users", SourceName: "warehouse", SyncTime: timestamppb.Now()}}})
	_, err := s.stream.CloseAndRecv()
	if err == nil {
		_, err = s.client.Close(context.Background(), &pbcq.Close_Request{})
	}
	return err
}

func cqRecord(table string, ids []string) arrow.Record {
	md := arrow.NewMetadata([]string{cqschema.MetadataTableName}, []string{table})
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "external_id", Type: arrow.BinaryTypes.String},
		{Name: "braze[score]", Type: arrow.PrimitiveTypes.Int64},
		{Name: "_cq_source_name", Type: arrow.BinaryTypes.String},
		{Name: "_cq_sync_time", Type: arrow.FixedWidthTypes.Timestamp_us},
	}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	now := arrow.Timestamp(time.Now().UnixMicro())
	for i, id := range ids {
		b.Field(0).(*array.StringBuilder).Append(id)
		b.Field(1).(*array.Int64Builder).Append(int64(i))
		b.Field(2).(*array.StringBuilder).Append("warehouse")
		b.Field(3).(*array.TimestampBuilder).Append(now)
	}
	return b.NewRecord()
}

func ids(from, to int, skip func(i int) bool) []string {
	var out []string
	for i := from; i < to; i++ {
		if skip == nil || !skip(i) {
			out = append(out, fmt.Sprintf("cq-%04d", i))
		}
	}
	return out
}

func readReport(t *testing.T, path string) *report.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func cqFlagged(emu *brazeemu.Emulator) int {
	n := 0
	for _, p := range emu.Profiles() {
		if strings.HasPrefix(p.ExternalID, "cq-") && flagged(p) {
			n++
		}
	}
	return n
}

// TestCloudQueryCLIDeleteStale drives braze-destination's CloudQuery protocol server exactly as the
// CloudQuery CLI does: a clean sync's DeleteStale mirrors; a sync whose source stream failed sends
// no DeleteStale and removes nobody; a sync whose source failed inside the table still sends
// DeleteStale, which the destination cannot tell from a clean one, so max_removal_ratio is what
// refuses it.
func TestCloudQueryCLIDeleteStale(t *testing.T) {
	emu := startBraze(t)
	dir := t.TempDir()
	reportFile := filepath.Join(dir, "report.json")
	spec, _ := json.Marshal(map[string]any{"api_key": apiKey, "endpoint": emu.URL(), "update_existing_only": false,
		"export_value": label, "state_dir": filepath.Join(dir, "state"), "dead_letter_file": filepath.Join(dir, "dead.jsonl"),
		"report_file": reportFile, "rate_limit": -1})

	s := startCQSync(t, spec)
	s.table("users", ids(0, 100, nil))
	if err := s.end(); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	if r := readReport(t, reportFile); r.UsersSent != 100 || r.UsersRemoved != 0 || cqFlagged(emu) != 100 {
		t.Fatalf("first sync: sent %d, removed %d, %d flagged", r.UsersSent, r.UsersRemoved, cqFlagged(emu))
	}

	t.Run("clean sync mirrors", func(t *testing.T) {
		s := startCQSync(t, spec)
		s.table("users", ids(0, 100, departs))
		if err := s.end(); err != nil {
			t.Fatal(err)
		}
		if r := readReport(t, reportFile); r.UsersRemoved != 10 || cqFlagged(emu) != 90 {
			t.Fatalf("removed %d, %d flagged", r.UsersRemoved, cqFlagged(emu))
		}
	})

	t.Run("source stream failed", func(t *testing.T) {
		before, _ := os.Stat(reportFile)
		objects := emu.Stats().ObjectsReceived
		s := startCQSync(t, spec)
		// 27 of the users, then another table of 80 new users: a full request of them reaching
		// Braze shows that the stream was being written when it broke.
		s.table("users", ids(0, 30, departs))
		var fresh []string
		for i := range 80 {
			fresh = append(fresh, fmt.Sprintf("cx-%04d", i))
		}
		s.table("signal", fresh)
		for deadline := time.Now().Add(time.Minute); emu.Stats().ObjectsReceived < objects+75 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		s.cancel() // the CLI returns on the source's error: no DeleteStale, no CloseSend
		waitChanged(t, reportFile, before.ModTime())
		if r := readReport(t, reportFile); r.UsersRemoved != 0 || cqFlagged(emu) != 90 {
			t.Fatalf("removed %d, %d flagged", r.UsersRemoved, cqFlagged(emu))
		}
	})

	t.Run("table failed inside the source", func(t *testing.T) {
		s := startCQSync(t, spec)
		s.table("users", ids(0, 30, departs)) // the resolver failed after 27 of the 90 users
		err := s.end()
		if err == nil || !strings.Contains(err.Error(), "63 of the 90 users flagged before") ||
			!strings.Contains(err.Error(), "allow_mass_removal") {
			t.Fatalf("CloseAndRecv: %v", err)
		}
		if r := readReport(t, reportFile); r.UsersRemoved != 0 || r.RemovalsRefused["max_removal_ratio"] != 63 || cqFlagged(emu) != 90 {
			t.Fatalf("removed %d, refused %v, %d flagged", r.UsersRemoved, r.RemovalsRefused, cqFlagged(emu))
		}
	})
}

// waitChanged waits until the file was rewritten after since.
func waitChanged(t *testing.T, path string, since time.Time) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if fi, err := os.Stat(path); err == nil && fi.ModTime().After(since) {
			return
		}
	}
	t.Fatalf("%s was not rewritten", path)
}
