package pluginserver

import (
	"context"

	"github.com/brazesync/brazesync/destination"
)

// stopRequest is how far the host has asked the running Write to stop.
type stopRequest struct {
	drain, abort bool
	// cancelOpen ends the key check of a Write still opening. A Drain lets the check run: the
	// session it opens is drained at once, and accounts for every row the host sent.
	cancelOpen context.CancelFunc
}

// shutdown applies the host's Drain (drain) or Abort to the running session. One that comes while
// the session is still opening is kept and applied once it is open; an Abort also ends the check.
func (s *Server) shutdown(drain bool) {
	s.mu.Lock()
	sess := s.session
	if drain {
		s.stop.drain = true
	} else {
		s.stop.abort = true
		if s.stop.cancelOpen != nil {
			s.stop.cancelOpen()
		}
	}
	s.mu.Unlock()
	if sess == nil {
		return
	}
	if drain {
		s.log.Warn().Msg("draining: no new request starts; requests in flight may finish, unsent rows are dead-lettered as cancelled")
		sess.Drain()
		return
	}
	s.log.Warn().Msg("aborting: requests in flight end, unsent rows are dead-lettered as cancelled")
	sess.Abort()
}

// open opens the Write's session and makes it the one Drain and Abort act on, applying what the
// host asked for while it was opening.
func (s *Server) open(ctx context.Context, spec *destination.Spec, run string) (*destination.Session, error) {
	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.stop.cancelOpen = cancel
	if s.stop.abort {
		cancel()
	}
	name := s.name // the destination's name in the sync spec: its state namespaces carry it
	s.mu.Unlock()
	sess, err := destination.Open(octx, spec, s.log, run, destination.WithDestinationName(name))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop.cancelOpen = nil
	if err != nil {
		return nil, err
	}
	s.session = sess
	switch {
	case s.stop.abort:
		sess.Abort()
	case s.stop.drain:
		sess.Drain()
	}
	return sess, nil
}
