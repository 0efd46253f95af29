package syncer

import (
	"context"
	"errors"
	"fmt"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// PersistError means a pull succeeded but its changes could not be written
// to the proxy's own file (a full or failing disk). The deletions it held
// were applied in memory anyway; /ready reports the proxy not ready until a
// write succeeds again.
type PersistError struct{ Err error }

func (e *PersistError) Error() string { return "persisting synced tokens: " + e.Err.Error() }
func (e *PersistError) Unwrap() error { return e.Err }

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
	s.seen(resp.Revision)
	if len(resp.Changes) == 0 && resp.Revision == since {
		return s.persisted(nil)
	}
	err = s.o.Store.Apply(resp.Changes, resp.Revision)
	if errors.Is(err, store.ErrStaleRevision) {
		return s.fullResync(ctx, since)
	}
	if err != nil {
		s.o.Store.Publish(s.revocations(resp.Changes))
		return s.persisted(err)
	}
	s.log.Info("applied token changes", "changes", len(resp.Changes), "revision", resp.Revision)
	return s.persisted(nil)
}

// fullResync makes the local store hold exactly the central's live tokens.
func (s *Syncer) fullResync(ctx context.Context, since uint64) error {
	resp, err := s.o.Tokens.Changes(ctx, 0)
	if err != nil {
		return err
	}
	s.seen(resp.Revision)
	if since == 0 && len(resp.Changes) == 0 && resp.Revision == 0 {
		return s.persisted(nil) // both empty
	}
	if err := s.o.Store.Replace(resp.Changes, resp.Revision); err != nil {
		s.o.Store.Publish(s.dropped(resp.Changes))
		return s.persisted(err)
	}
	s.log.Info("replaced tokens with a full fetch", "tokens", len(resp.Changes), "revision", resp.Revision, "previous_revision", since)
	return s.persisted(nil)
}

// persisted records whether the last write of synced tokens worked and
// returns err wrapped as a *PersistError.
func (s *Syncer) persisted(err error) error {
	if err == nil {
		if s.persistErr.Swap(nil) != nil {
			s.log.Info("synced tokens are persisted again", "revision", s.o.Store.Revision())
		}
		return nil
	}
	perr := &PersistError{Err: err}
	if s.persistErr.Swap(perr) == nil {
		s.log.Error("cannot persist synced tokens: revocations are applied in memory, /ready reports not ready",
			"db_path", s.o.Store.Path(), "error", err)
	}
	return perr
}

// revocations are the changes that take access away or bound it in time,
// which apply in memory even when they cannot be persisted: deletions, and
// new expiries of tokens this proxy already holds. Other changes (new
// tokens, policy edits without an expiry) wait until they can be written.
func (s *Syncer) revocations(changes []store.Change) []store.Change {
	var out []store.Change
	for _, c := range changes {
		switch {
		case c.Deleted:
			out = append(out, c)
		case c.Record != nil && c.Record.ExpiresAt != nil:
			if c.Record.Expired(s.o.Now()) {
				out = append(out, store.Change{Revision: c.Revision, Hash: c.Hash, Deleted: true})
			} else if _, err := s.o.Store.Get(c.Hash); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// dropped are deletions for the local tokens a full fetch no longer holds.
func (s *Syncer) dropped(full []store.Change) []store.Change {
	keep := make(map[string]bool, len(full))
	for _, c := range full {
		keep[c.Hash] = true
	}
	var out []store.Change
	err := s.o.Store.Each(func(r store.Record) error {
		if !keep[r.Hash] {
			out = append(out, store.Change{Revision: r.Revision, Hash: r.Hash, Deleted: true})
		}
		return nil
	})
	if err != nil {
		s.log.Error("listing local tokens to revoke in memory", "error", err)
		return nil
	}
	return out
}

// seen notes the central revision a pull or push reported.
func (s *Syncer) seen(rev uint64) {
	for {
		cur := s.central.Load()
		if rev <= cur || s.central.CompareAndSwap(cur, rev) {
			return
		}
	}
}

// NotReady says why the proxy should not take traffic, or "" when it may:
// no tokens yet, or synced tokens it cannot persist.
func (s *Syncer) NotReady() string {
	if !s.ready.Load() {
		return "no tokens yet: the first sync with the central server has not succeeded"
	}
	if perr := s.persistErr.Load(); perr != nil {
		return fmt.Sprintf("cannot persist synced tokens to %s: %v", s.o.Store.Path(), perr.Err)
	}
	return ""
}
