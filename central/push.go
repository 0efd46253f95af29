package central

import (
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

// Noticer takes push notices; *events.Notifier is one. NoteTx writes a
// notice inside the caller's write transaction, so it commits with the
// change it announces.
type Noticer interface {
	NoteTx(tx *bbolt.Tx, ev events.Event) error
	Note(ev events.Event) error
	Wants(typ string) bool
}

// noteTokens is the store's write hook: the transaction that changes
// tokens also records the push that announces them, at the revision of the
// last change. Pending pushes coalesce per target, so this notice replaces
// any older one still waiting.
func (s *Server) noteTokens(tx *bbolt.Tx, changes []store.Change) error {
	last := changes[len(changes)-1]
	kind, data := tokenEvent(last)
	if !s.o.Notices.Wants(kind) {
		return nil
	}
	ev, err := events.New(kind, events.SourceCentral, last.Revision, data)
	if err != nil {
		return fmt.Errorf("building token event: %w", err)
	}
	if err := s.o.Notices.NoteTx(tx, ev); err != nil {
		return fmt.Errorf("recording the push of revision %d: %w", last.Revision, err)
	}
	return nil
}

// tokenEvent names a change: deleted, created (a record never updated) or
// updated.
func tokenEvent(c store.Change) (string, events.TokenData) {
	data := events.TokenData{TokenHashPrefix: events.HashPrefix(c.Hash)}
	switch {
	case c.Deleted || c.Record == nil:
		return events.TokenDeleted, data
	case c.Record.ExpiresAt != nil:
		data.ExpiresAt = c.Record.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if c.Record.CreatedAt.Equal(c.Record.UpdatedAt) {
		return events.TokenCreated, data
	}
	return events.TokenUpdated, data
}

// AnnounceRevision pushes the token feed's current revision to every
// target. The central server calls it at start, so a change committed
// just before a crash, or made offline with the token commands, reaches
// the proxies without waiting for their poll.
func (s *Server) AnnounceRevision() error {
	if s.o.Notices == nil || !s.o.Notices.Wants(events.TokenSync) {
		return nil
	}
	ev, err := events.New(events.TokenSync, events.SourceCentral, s.o.DB.Revision(), nil)
	if err != nil {
		return err
	}
	if err := s.o.Notices.Note(ev); err != nil {
		return fmt.Errorf("announcing revision %d: %w", ev.Revision, err)
	}
	return nil
}

// pushPlugin announces a registry change at the registry's revision.
func (s *Server) pushPlugin(kind string, e manifest.Entry) {
	if s.o.Notices == nil || !s.o.Notices.Wants(kind) {
		return
	}
	ev, err := events.New(kind, events.SourceCentral, e.Revision, events.PluginData{Name: e.Name, Version: e.Version, SHA256: e.SHA256})
	if err != nil {
		s.log.Warn("building plugin event", "type", kind, "error", err)
		return
	}
	if err := s.o.Notices.Note(ev); err != nil {
		s.log.Error("recording a plugin push; proxies see the change at their next sync", "type", kind, "error", err)
	}
}
