package central

import (
	"time"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

// pushToken is the tokenapi.Service hook: one event per change, carrying a
// revision at least as new as the change. Emit never blocks.
func (s *Server) pushToken(kind string, rec store.Record) {
	if !s.o.Events.Wants(kind) {
		return
	}
	// A delete returns the record as it was; the store's revision is the
	// tombstone's or later, which is all a push promises.
	rev := max(rec.Revision, s.o.DB.Revision())
	data := events.TokenData{TokenHashPrefix: events.HashPrefix(rec.Hash)}
	if rec.ExpiresAt != nil {
		data.ExpiresAt = rec.ExpiresAt.UTC().Format(time.RFC3339)
	}
	ev, err := events.New(kind, events.SourceCentral, rev, data)
	if err != nil {
		s.log.Warn("building token event", "type", kind, "error", err)
		return
	}
	s.o.Events.Emit(ev)
}

// pushPlugin announces a registry change at the registry's revision.
func (s *Server) pushPlugin(kind string, e manifest.Entry) {
	if s.o.Events == nil || !s.o.Events.Wants(kind) {
		return
	}
	ev, err := events.New(kind, events.SourceCentral, e.Revision, events.PluginData{Name: e.Name, Version: e.Version, SHA256: e.SHA256})
	if err != nil {
		s.log.Warn("building plugin event", "type", kind, "error", err)
		return
	}
	s.o.Events.Emit(ev)
}
