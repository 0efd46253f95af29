package syncer

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/fleet"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

// Fleet report defaults.
const (
	DefaultFleetInterval = 15 * time.Second
	// fleetPostTimeout bounds one report: a central server that hangs
	// delays the next report, never a pull or a request.
	fleetPostTimeout = 5 * time.Second
	// fleetLoadingPoll is how soon the next report goes out while a
	// plugin is still loading, so its outcome shows within a second or so.
	fleetLoadingPoll = time.Second
)

// FleetPoster sends a report (*fleet.Client).
type FleetPoster interface {
	Post(ctx context.Context, r fleet.Report) error
}

// FleetOptions turn on fleet reports (see package fleet).
type FleetOptions struct {
	Poster FleetPoster
	// Instance, Name and Version identify the proxy.
	Instance, Name, Version string
	// Interval is the heartbeat. Default DefaultFleetInterval.
	Interval time.Duration
	// Load tells how the rule host holds a plugin version: loaded is false
	// when it holds none; ready when an instance is up; cause why it
	// failed ("" while loading). Nil reports every version as active.
	Load func(sha string) (loaded, ready bool, cause string)
	// Ready is the proxy's /ready; nil uses the syncer's own readiness.
	Ready func() bool
}

// reporter posts fleet reports from its own goroutine: a one-slot kick
// channel coalesces the reports asked for by syncs, so a slow or absent
// central server costs at most one pending report.
type reporter struct {
	o    FleetOptions
	kick chan struct{}
	done chan struct{}

	mu    sync.Mutex // guards the token count cache
	key   string
	count map[string]int // by sha256: tokens whose policy resolves to it

	failing bool // the last post failed; owned by run
}

func newReporter(o FleetOptions) *reporter {
	if o.Interval <= 0 {
		o.Interval = DefaultFleetInterval
	}
	return &reporter{o: o, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// reportFleet asks for a report soon; it never blocks.
func (s *Syncer) reportFleet() {
	if s.fleet == nil {
		return
	}
	select {
	case s.fleet.kick <- struct{}{}:
	default:
	}
}

func (s *Syncer) runFleet(ctx context.Context) {
	r := s.fleet
	defer close(r.done)
	timer := time.NewTimer(0) // the start report
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-timer.C:
		}
		rep := s.fleetReport()
		pctx, cancel := context.WithTimeout(ctx, fleetPostTimeout)
		err := r.o.Poster.Post(pctx, rep)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !r.failing:
			r.failing = true
			s.log.Warn("fleet report not accepted by the central server; sync is not affected", "error", err)
		case err != nil:
			s.log.Debug("fleet report failed again", "error", err)
		case r.failing:
			r.failing = false
			s.log.Info("fleet reports reach the central server again")
		}
		next := r.o.Interval
		if loading(rep) {
			next = min(next, fleetLoadingPoll)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

func loading(r fleet.Report) bool {
	for _, p := range r.Plugins {
		if p.State == fleet.StateLoading {
			return true
		}
	}
	return false
}

// fleetReport describes this proxy now: each plugin's active version, and
// each kept earlier version that tokens still use.
func (s *Syncer) fleetReport() fleet.Report {
	r := s.fleet
	rep := fleet.Report{Instance: r.o.Instance, Name: r.o.Name, Version: r.o.Version,
		Revision: s.o.Store.Revision(), Plugins: []fleet.Plugin{}}
	if r.o.Ready != nil {
		rep.Ready = r.o.Ready()
	} else {
		rep.Ready = s.NotReady() == ""
	}
	ps := s.plugins
	ps.mu.RLock()
	var held []*activePlugin
	for _, ap := range ps.active {
		held = append(held, ap)
	}
	for _, list := range ps.retained {
		held = append(held, list...)
	}
	ps.mu.RUnlock()
	counts := s.tokenCounts()
	for _, ap := range held {
		n := counts[ap.m.SHA256]
		ps.mu.RLock()
		isActive := ps.active[ap.m.Name] == ap
		ps.mu.RUnlock()
		if !isActive && n == 0 {
			continue
		}
		p := fleet.Plugin{Name: ap.m.Name, Version: ap.m.Version, SHA256: ap.m.SHA256, Tokens: n, State: fleet.StateActive}
		if r.o.Load != nil {
			loaded, ready, cause := r.o.Load(ap.m.SHA256)
			switch {
			case ready:
			case loaded && cause != "":
				p.State, p.Error = fleet.StateFailed, fleet.Short(cause)
			case loaded || n > 0:
				// Tokens use it and the host has not got an instance up yet.
				p.State = fleet.StateLoading
			}
		}
		rep.Plugins = append(rep.Plugins, p)
	}
	slices.SortFunc(rep.Plugins, func(a, b fleet.Plugin) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.SHA256, b.SHA256)
	})
	return rep
}

// tokenCounts maps each held sha256 to the number of tokens whose policy
// resolves to it. It lists the store only when the revision or the plugin
// set changed since the last count.
func (s *Syncer) tokenCounts() map[string]int {
	r := s.fleet
	key := strconv.FormatUint(s.o.Store.Revision(), 10) + "/" + s.plugins.fingerprint()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.count != nil && r.key == key {
		return r.count
	}
	// Tokens are counted per distinct policy, then each policy's plugins
	// resolved once: a fleet has a few policies and many tokens.
	perPolicy := map[string]int{}
	err := s.o.Store.Each(func(rec store.Record) error {
		perPolicy[string(rec.Policy)]++
		return nil
	})
	if err != nil {
		s.log.Warn("counting tokens per plugin for the fleet report", "error", err)
		return r.count
	}
	counts := map[string]int{}
	for policy, n := range perPolicy {
		seen := map[string]bool{}
		for _, ref := range pluginRefs(json.RawMessage(policy)) {
			ap := s.plugins.pick(ref.Plugin, ref.SHA256)
			if ap != nil && !seen[ap.m.SHA256] {
				seen[ap.m.SHA256] = true
				counts[ap.m.SHA256] += n
			}
		}
	}
	r.key, r.count = key, counts
	return counts
}

// fingerprint changes whenever the held versions change.
func (ps *pluginSet) fingerprint() string {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	var parts []string
	for _, ap := range ps.active {
		parts = append(parts, ap.m.SHA256)
	}
	for _, list := range ps.retained {
		for _, ap := range list {
			parts = append(parts, ap.m.SHA256)
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}
