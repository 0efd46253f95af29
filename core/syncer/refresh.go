package syncer

import (
	"encoding/json"
	"fmt"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// ruleRefs is the part of a policy that names plugins. Decoding only this
// keeps the syncer independent of the full policy schema.
type ruleRefs struct {
	Rules []json.RawMessage `json:"rules"`
	// Provider entries carry rules of their own (the original schema's).
	Providers map[string][]struct {
		Rules []json.RawMessage `json:"rules"`
	} `json:"providers"`
}

type ruleRef struct {
	Type   string `json:"type"`
	Plugin string `json:"plugin"` // a name, or name@range
	SHA256 string `json:"sha256"`
}

// refreshTokens re-applies, at their own revisions, the tokens whose
// policies name one of the plugins, so store subscribers (the proxy's
// token cache) rebuild them against the new plugin set. Runs under syncMu,
// so no other write races it.
func (s *Syncer) refreshTokens(plugins []string) error {
	names := make(map[string]bool, len(plugins))
	for _, p := range plugins {
		names[p] = true
	}
	// Only the matching records are kept, and each distinct policy is
	// decoded once: a fleet has a few policies and many tokens.
	var changes []store.Change
	uses := map[string]bool{}
	err := s.o.Store.Each(func(r store.Record) error {
		u, seen := uses[string(r.Policy)]
		if !seen {
			u = usesPlugin(r.Policy, names)
			uses[string(r.Policy)] = u
		}
		if u {
			changes = append(changes, store.Change{Revision: r.Revision, Hash: r.Hash, Record: &r})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing tokens to refresh: %w", err)
	}
	if len(changes) == 0 {
		return nil
	}
	if err := s.o.Store.Apply(changes, s.o.Store.Revision()); err != nil {
		return fmt.Errorf("refreshing tokens that use %v: %w", plugins, err)
	}
	s.log.Info("tokens reloaded for changed plugins", "tokens", len(changes), "plugins", plugins)
	return nil
}

func usesPlugin(policy json.RawMessage, names map[string]bool) bool {
	for _, r := range pluginRefs(policy) {
		if name, _ := splitPin(r.Plugin); names[name] {
			return true
		}
	}
	return false
}

// pluginRefs returns the wasm rules of a policy, provider entries' included.
func pluginRefs(policy json.RawMessage) []ruleRef {
	var refs ruleRefs
	if err := json.Unmarshal(policy, &refs); err != nil {
		return nil
	}
	all := refs.Rules
	for _, entries := range refs.Providers {
		for _, e := range entries {
			all = append(all, e.Rules...)
		}
	}
	var out []ruleRef
	for _, raw := range all {
		var r ruleRef
		if json.Unmarshal(raw, &r) != nil {
			continue // a legacy string rule: a regex, no plugin
		}
		if r.Type == "wasm" {
			out = append(out, r)
		}
	}
	return out
}
