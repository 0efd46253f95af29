package rules

import "time"

// Observer receives per-rule figures for metrics. Host.Compile asks it
// once per rule (off the request path) for the rule's RuleObserver, so the
// calls on the request path do not look labels up.
type Observer interface {
	// Rule returns the observer of one rule of one plugin version.
	Rule(plugin, version, rule string) RuleObserver
}

// RuleObserver records one rule's plugin calls. Its methods must be cheap
// and safe for concurrent use.
type RuleObserver interface {
	// Call records one check: its duration (waiting for an instance
	// included) and whether the plugin failed.
	Call(d time.Duration, failed bool)
	// PoolWait records a check that found no idle instance and waited d.
	PoolWait(d time.Duration)
}

type nopObserver struct{}

func (nopObserver) Call(time.Duration, bool) {}
func (nopObserver) PoolWait(time.Duration)   {}

// SetObserver makes o receive the figures of rules compiled from now on.
// Call it before the first Compile.
func (h *Host) SetObserver(o Observer) { h.obs.Store(&o) }

func (h *Host) ruleObserver(plugin, version, rule string) RuleObserver {
	if p := h.obs.Load(); p != nil && *p != nil {
		if ro := (*p).Rule(plugin, version, rule); ro != nil {
			return ro
		}
	}
	return nopObserver{}
}
