// Package pluginserver is the plugin side of the go-plugin boundary: it serves the Destination
// service of plugin/pb on top of a destination.Session. The contract both sides agree on (handshake,
// plugin map, client) is package plugin/shared; this package is linked only into braze-destination.
package pluginserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	pbcq "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
	"github.com/hashicorp/go-plugin"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/plugin/pb"
	"github.com/brazesync/brazesync/plugin/shared"
)

// progressEvery is how often the plugin reports progress to the host while writing.
const progressEvery = 500 * time.Millisecond

// Server serves the Destination service on top of destination.Session.
type Server struct {
	pb.UnimplementedDestinationServer
	log  zerolog.Logger
	mu   sync.Mutex
	spec *destination.Spec
	name string
	run  string

	session *destination.Session // the running Write's session, for Abort
	stop    stopRequest          // a Drain or Abort that came before the session was open

	hooks testHooks
}

// New returns the plugin side of the boundary.
func New(log zerolog.Logger) *Server {
	shared.RegisterExtensions()
	return &Server{log: log, hooks: loadTestHooks(log)}
}

// Plugins is the plugin map braze-destination serves.
func (s *Server) Plugins() map[string]plugin.Plugin {
	return map[string]plugin.Plugin{shared.DestinationPluginName: &shared.DestinationPlugin{Impl: s}}
}

// Configure parses and validates the spec. Errors carry codes the host maps to exit codes.
func (s *Server) Configure(_ context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
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
func (s *Server) Write(stream pb.Destination_WriteServer) error {
	s.mu.Lock()
	spec, run := s.spec, s.run
	s.mu.Unlock()
	if spec == nil {
		return status.Error(codes.FailedPrecondition, "Write before Configure")
	}
	// The stream's context ends when the host cancels the call or its connection is gone (the host
	// died): nothing is sent after that, in whatever phase the run is.
	ctx := stream.Context()
	sess, err := s.open(ctx, spec, run)
	if err != nil {
		return statusFor(err)
	}
	defer func() {
		s.mu.Lock()
		s.session = nil
		s.mu.Unlock()
	}()
	// A first report at once tells the host the writer is open and the key accepted, before any row
	// (the Action Hub waits for it before it consumes Looker's one-time download_url).
	_ = sendReport(stream, sess.Progress(), false)
	stop := s.reportProgress(stream, sess)
	werr := s.consume(ctx, stream, sess)
	rep, err := sess.Finish(ctx, werr)
	stop()
	if sendErr := sendReport(stream, rep, true); sendErr != nil && err == nil {
		err = sendErr
	}
	if err != nil {
		return statusFor(err)
	}
	return nil
}

// consume reads the host's messages until it closes its side.
func (s *Server) consume(ctx context.Context, stream pb.Destination_WriteServer, sess *destination.Session) error {
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
			s.hooks.afterRows(rows)
			err = sess.Insert(ctx, rec)
			rec.Release()
			if err != nil {
				return err
			}
		case *pb.WriteRequest_DeleteStale:
			if why := m.DeleteStale.GetRefused(); why != "" {
				sess.RefuseRemovals(m.DeleteStale.TableName, why) // the host says: do not mirror this table
			} else {
				sess.DeleteStale(m.DeleteStale.TableName)
			}
		}
	}
}

// reportProgress sends a report snapshot every progressEvery until stopped.
func (s *Server) reportProgress(stream pb.Destination_WriteServer, sess *destination.Session) (stop func()) {
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
				if err := sendReport(stream, sess.Progress(), false); err != nil {
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
// ends with its final report. With drain set it only stops new requests (see shutdown.go).
func (s *Server) Abort(_ context.Context, req *pb.AbortRequest) (*pb.AbortResponse, error) {
	s.shutdown(req.GetDrain())
	return &pb.AbortResponse{}, nil
}

// Close has nothing to release: each Write owns its writer.
func (s *Server) Close(context.Context, *pb.CloseRequest) (*pb.CloseResponse, error) {
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
