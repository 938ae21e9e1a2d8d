package snowflakestate

import (
	"context"

	"github.com/brazesync/brazesync/destination/state"
)

// Reset forgets the namespaces match selects, here and in the warehouse, as one new version:
// every other machine's copy forgets them at its next Open (their RESET_VERSION is above the
// version it has seen).
func (s *Store) Reset(ctx context.Context, match func(state.Namespace) bool) ([]state.Namespace, error) {
	if err := s.lock.lost(); err != nil {
		return nil, err
	}
	gone, err := s.local.Reset(ctx, match)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, ns := range gone {
		if ns.Destination == s.cfg.Destination {
			ids = append(ids, namespaceID(ns))
		}
	}
	if len(ids) == 0 {
		return gone, nil
	}
	next := s.base + 1
	in := nsList(ids)
	for _, table := range []string{s.names.state, s.names.events} {
		if err := s.exec(ctx, "resetting the warehouse state", "DELETE FROM "+table+" WHERE NS IN "+in); err != nil {
			return nil, err
		}
	}
	if err := s.exec(ctx, "resetting the warehouse state", "UPDATE "+s.names.namespaces+" SET RESET_VERSION = ?, VERSION = ?, USERS = 0, FLAGGED_USERS = 0 WHERE NS IN "+in,
		int64(next), int64(next)); err != nil {
		return nil, err
	}
	if err := s.lock.bumpVersion(ctx, s.base, next, true); err != nil {
		return nil, err
	}
	s.base = next
	s.mark.Version = next
	return gone, writeMarkerFile(s.local.Dir(), s.mark)
}
