package shared

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/util"
	pbcq "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/plugin/pb"
)

// MaxRecordBytes bounds the Arrow buffers of one message: records above it are sliced, so each gRPC
// message stays well under 4 MiB and memory on both sides stays bounded however large the source.
const MaxRecordBytes = 2 << 20

// DestinationClient is the host's handle on a destination plugin.
type DestinationClient struct {
	rpc pb.DestinationClient
}

// Configure sends the destination's spec; the plugin validates it and checks the key.
func (c *DestinationClient) Configure(ctx context.Context, name, runID string, specJSON []byte) error {
	_, err := c.rpc.Configure(ctx, &pb.ConfigureRequest{SpecJson: specJSON, Name: name, RunId: runID})
	return err
}

// Abort makes the running Write give up and send its final report (see the proto).
func (c *DestinationClient) Abort(ctx context.Context) error {
	_, err := c.rpc.Abort(ctx, &pb.AbortRequest{})
	return err
}

// Drain makes the running Write start no new request while those on the wire finish (see the
// proto's AbortRequest.drain): the first step of a graceful shutdown.
func (c *DestinationClient) Drain(ctx context.Context) error {
	_, err := c.rpc.Abort(ctx, &pb.AbortRequest{Drain: true})
	return err
}

// Close releases the plugin's resources.
func (c *DestinationClient) Close(ctx context.Context) error {
	_, err := c.rpc.Close(ctx, &pb.CloseRequest{})
	return err
}

// Write opens a write stream.
func (c *DestinationClient) Write(ctx context.Context) (*WriteStream, error) {
	s, err := c.rpc.Write(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening write stream: %w", err)
	}
	ws := &WriteStream{stream: s, done: make(chan struct{})}
	go ws.receive()
	return ws, nil
}

// WriteStream sends records to the plugin and collects its progress reports.
type WriteStream struct {
	stream pb.Destination_WriteClient
	mu     sync.Mutex
	last   *report.Report
	final  bool
	err    error
	done   chan struct{}
}

// Send writes one record, sliced so that no message exceeds MaxRecordBytes of Arrow buffers.
// It blocks while the plugin is busy: gRPC flow control is the back-pressure.
func (s *WriteStream) Send(rec arrow.Record) error {
	for _, part := range slices(rec) {
		b, err := pbcq.RecordToBytes(part)
		if part != rec {
			part.Release()
		}
		if err != nil {
			return fmt.Errorf("encoding record: %w", err)
		}
		if err := s.stream.Send(&pb.WriteRequest{Message: &pb.WriteRequest_Record{Record: b}}); err != nil {
			return s.sendErr(err)
		}
	}
	return nil
}

// DeleteStale forwards CloudQuery's end-of-table message.
func (s *WriteStream) DeleteStale(table, source string, syncTime time.Time) error {
	err := s.stream.Send(&pb.WriteRequest{Message: &pb.WriteRequest_DeleteStale{DeleteStale: &pb.DeleteStale{
		TableName: table, SourceName: source, SyncTimeUnixNano: syncTime.UnixNano()}}})
	return s.sendErr(err)
}

// RefuseStale forwards the end-of-table message marked: the host refuses the table's mirror-mode
// removals, and why (its source reported errors, the run failed or was cancelled).
func (s *WriteStream) RefuseStale(table, source string, syncTime time.Time, why string) error {
	err := s.stream.Send(&pb.WriteRequest{Message: &pb.WriteRequest_DeleteStale{DeleteStale: &pb.DeleteStale{
		TableName: table, SourceName: source, SyncTimeUnixNano: syncTime.UnixNano(), Refused: why}}})
	return s.sendErr(err)
}

// sendErr turns io.EOF (the plugin ended the stream) into the plugin's own error.
func (s *WriteStream) sendErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) {
		<-s.done
		if e := s.Err(); e != nil {
			return e
		}
	}
	return err
}

// Progress is the plugin's latest report, or nil before the first one.
func (s *WriteStream) Progress() *report.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Err is the stream's error once it ended, if any.
func (s *WriteStream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// CloseAndWait ends the input and waits for the plugin's final report. The report returned is the
// last one received even when the stream failed, so the host can still say what was delivered; it is
// the caller's copy (its counters may be amended) while Progress readers keep theirs.
func (s *WriteStream) CloseAndWait(ctx context.Context) (*report.Report, bool, error) {
	err := s.stream.CloseSend()
	select {
	case <-s.done:
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var last *report.Report
	if s.last != nil {
		cp := *s.last // counters only are amended; the maps are read-only after decoding
		last = &cp
	}
	if s.err != nil {
		return last, s.final, s.err // the plugin's own error says more than CloseSend's
	}
	return last, s.final, err
}

func (s *WriteStream) receive() {
	defer close(s.done)
	for {
		msg, err := s.stream.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
			}
			return
		}
		var r report.Report
		if err := json.Unmarshal(msg.ReportJson, &r); err != nil {
			continue
		}
		s.mu.Lock()
		s.last, s.final = &r, msg.Final
		s.mu.Unlock()
	}
}

// slices cuts a record into parts of at most MaxRecordBytes of buffers.
func slices(rec arrow.Record) []arrow.Record {
	size := util.TotalRecordSize(rec)
	rows := rec.NumRows()
	if size <= MaxRecordBytes || rows <= 1 {
		return []arrow.Record{rec}
	}
	parts := (size + MaxRecordBytes - 1) / MaxRecordBytes
	step := max(1, rows/parts)
	out := make([]arrow.Record, 0, parts+1)
	for i := int64(0); i < rows; i += step {
		out = append(out, rec.NewSlice(i, min(rows, i+step)))
	}
	return out
}
