package syncer

import (
	"context"
	"errors"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// syncTokens pulls the token changes after the local revision and writes
// them; a full fetch replaces everything when the feed cannot continue.
func (s *Syncer) syncTokens(ctx context.Context) error {
	since := s.o.Store.Revision()
	if since == 0 {
		return s.fullResync(ctx, since)
	}
	resp, err := s.o.Tokens.Changes(ctx, since)
	if errors.Is(err, store.ErrResyncRequired) {
		return s.fullResync(ctx, since)
	}
	if err != nil {
		return err
	}
	if len(resp.Changes) == 0 && resp.Revision == since {
		return nil
	}
	err = s.o.Store.Apply(resp.Changes, resp.Revision)
	if errors.Is(err, store.ErrStaleRevision) {
		return s.fullResync(ctx, since)
	}
	if err != nil {
		return err
	}
	s.log.Info("applied token changes", "changes", len(resp.Changes), "revision", resp.Revision)
	return nil
}

// fullResync makes the local store hold exactly the central's live tokens.
func (s *Syncer) fullResync(ctx context.Context, since uint64) error {
	resp, err := s.o.Tokens.Changes(ctx, 0)
	if err != nil {
		return err
	}
	if since == 0 && len(resp.Changes) == 0 && resp.Revision == 0 {
		return nil // both empty
	}
	if err := s.o.Store.Replace(resp.Changes, resp.Revision); err != nil {
		return err
	}
	s.log.Info("replaced tokens with a full fetch", "tokens", len(resp.Changes), "revision", resp.Revision, "previous_revision", since)
	return nil
}
