package shared

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	pbcq "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/plugin/pb"
)

// progressEvery is how often the plugin reports progress to the host while writing.
const progressEvery = 500 * time.Millisecond

// Test hooks for the runner's failure-mode tests: the plugin panics or hangs after this many rows.
// They are read once, at start, and do nothing unless set.
const (
	envPanicAfterRows = "BRAZESYNC_TEST_PANIC_AFTER_ROWS"
	envHangAfterRows  = "BRAZESYNC_TEST_HANG_AFTER_ROWS"
)

// DestinationServer serves the Destination service on top of destination.Writer.
type DestinationServer struct {
	pb.UnimplementedDestinationServer
	log  zerolog.Logger
	mu   sync.Mutex
	spec *destination.Spec
	name string
	run  string

	writer *destination.Writer // the running Write's writer, for Abort

	panicAfter, hangAfter int64
}

// NewDestinationServer returns the plugin side of the boundary.
func NewDestinationServer(log zerolog.Logger) *DestinationServer {
	RegisterExtensions()
	return &DestinationServer{
		log:        log,
		panicAfter: envInt(envPanicAfterRows),
		hangAfter:  envInt(envHangAfterRows),
	}
}

// Configure parses and validates the spec. Errors carry codes the host maps to exit codes.
func (s *DestinationServer) Configure(_ context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	spec, err := destination.ParseSpec(req.SpecJson)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.mu.Lock()
	s.spec, s.name, s.run = spec, req.Name, req.RunId
	s.mu.Unlock()
	return &pb.ConfigureResponse{}, nil
}

// Write runs one write stream: records in, progress out, a final report last.
func (s *DestinationServer) Write(stream pb.Destination_WriteServer) error {
	s.mu.Lock()
	spec, run := s.spec, s.run
	s.mu.Unlock()
	if spec == nil {
		return status.Error(codes.FailedPrecondition, "Write before Configure")
	}
	ctx := stream.Context()
	w, err := destination.NewWriter(ctx, spec, s.log, destination.WithRunID(run))
	if err != nil {
		return statusFor(err)
	}
	s.mu.Lock()
	s.writer = w
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.writer = nil
		s.mu.Unlock()
	}()
	stop := s.reportProgress(stream, w)
	werr := s.consume(ctx, stream, w)
	if werr != nil {
		w.Abort()
	}
	rep, cerr := w.Close(context.Background())
	stop()
	err = errors.Join(werr, cerr)
	rep.Finish(statusOf(err), err, time.Now())
	if sendErr := sendReport(stream, rep, true); sendErr != nil && err == nil {
		err = sendErr
	}
	if err != nil {
		return statusFor(err)
	}
	return nil
}

// consume reads the host's messages until it closes its side.
func (s *DestinationServer) consume(ctx context.Context, stream pb.Destination_WriteServer, w *destination.Writer) error {
	var rows int64
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("receiving from host: %w", err)
		}
		switch m := msg.Message.(type) {
		case *pb.WriteRequest_Record:
			rec, err := pbcq.NewRecordFromBytes(m.Record)
			if err != nil {
				return status.Errorf(codes.InvalidArgument, "decoding record: %v", err)
			}
			if rec == nil {
				continue
			}
			rows += rec.NumRows()
			s.testHooks(rows)
			err = w.Write(ctx, rec)
			rec.Release()
			if err != nil {
				return err
			}
		case *pb.WriteRequest_DeleteStale:
			w.DeleteStale(m.DeleteStale.TableName)
		}
	}
}

func (s *DestinationServer) testHooks(rows int64) {
	if s.panicAfter > 0 && rows >= s.panicAfter {
		panic(fmt.Sprintf("%s: panicking after %d rows as asked", envPanicAfterRows, rows))
	}
	if s.hangAfter > 0 && rows >= s.hangAfter {
		s.log.Warn().Int64("rows", rows).Msg(envHangAfterRows + ": hanging as asked")
		select {}
	}
}

// reportProgress sends a report snapshot every progressEvery until stopped.
func (s *DestinationServer) reportProgress(stream pb.Destination_WriteServer, w *destination.Writer) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := sendReport(stream, w.Progress(), false); err != nil {
					return
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// sendReport is called from the progress goroutine and, after it stopped, from Write: never both at once.
func sendReport(stream pb.Destination_WriteServer, r *report.Report, final bool) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return stream.Send(&pb.WriteResponse{ReportJson: b, Final: final})
}

// Abort gives up on the running Write, if any: its unsent rows are dead-lettered as cancelled and it
// ends with its final report.
func (s *DestinationServer) Abort(context.Context, *pb.AbortRequest) (*pb.AbortResponse, error) {
	s.mu.Lock()
	w := s.writer
	s.mu.Unlock()
	if w != nil {
		s.log.Warn().Msg("aborting: unsent rows are dead-lettered as cancelled")
		w.Abort()
	}
	return &pb.AbortResponse{}, nil
}

// Close has nothing to release: each Write owns its writer.
func (s *DestinationServer) Close(context.Context, *pb.CloseRequest) (*pb.CloseResponse, error) {
	return &pb.CloseResponse{}, nil
}

// statusFor maps the destination's error classes to gRPC codes, which the host maps to exit codes.
func statusFor(err error) error {
	if _, ok := status.FromError(err); ok && status.Code(err) != codes.Unknown {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, brazeapi.ErrUnauthorized):
		code = codes.Unauthenticated
	case errors.Is(err, brazeapi.ErrForbidden):
		code = codes.PermissionDenied
	case errors.Is(err, brazeapi.ErrUnreachable):
		code = codes.Unavailable
	case destination.IsConfigError(err):
		code = codes.InvalidArgument
	}
	return status.Error(code, err.Error())
}

func statusOf(err error) string {
	switch {
	case err == nil:
		return report.StatusSuccess
	case errors.Is(err, context.Canceled):
		return report.StatusCancelled
	}
	return report.StatusFailed
}

func envInt(name string) int64 {
	n, _ := strconv.ParseInt(os.Getenv(name), 10, 64)
	return n
}
