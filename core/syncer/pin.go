package syncer

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// splitPin splits a rule's plugin field, "name" or "name@range", where
// range is a semver constraint ("^1", "~1.2", "1.2.3").
func splitPin(plugin string) (name, rng string) {
	name, rng, _ = strings.Cut(plugin, "@")
	return name, rng
}

// pick returns the held version a rule resolves to, or nil: with a
// sha256, the active or a kept earlier version with that digest; with a
// range, the newest held version (active or kept) that satisfies it, so a
// policy pinned to "^1" follows every trusted 1.x the proxy receives.
func (ps *pluginSet) pick(plugin, sha string) *activePlugin {
	name, rng := splitPin(plugin)
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	if rng == "" {
		if ap := ps.active[name]; ap != nil && strings.EqualFold(ap.m.SHA256, sha) {
			return ap
		}
		return ps.retainedFor(name, sha)
	}
	c, err := semver.NewConstraint(rng)
	if err != nil {
		return nil
	}
	var best *activePlugin
	var bestV *semver.Version
	consider := func(ap *activePlugin) {
		if ap == nil {
			return
		}
		v, err := semver.NewVersion(ap.m.Version)
		if err != nil || !c.Check(v) {
			return
		}
		if bestV == nil || v.GreaterThan(bestV) {
			best, bestV = ap, v
		}
	}
	consider(ps.active[name])
	for _, ap := range ps.retained[name] {
		consider(ap)
	}
	return best
}

// describeHeld lists the versions of name this proxy holds, for errors.
func (ps *pluginSet) describeHeld(name string) string {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	var vs []string
	if ap := ps.active[name]; ap != nil {
		vs = append(vs, ap.m.Version+" (active)")
	}
	for _, ap := range ps.retained[name] {
		vs = append(vs, ap.m.Version)
	}
	if len(vs) == 0 {
		return "none"
	}
	return strings.Join(vs, ", ")
}

// checkRange reports a range semver cannot parse.
func checkRange(rng string) error {
	if _, err := semver.NewConstraint(rng); err != nil {
		return fmt.Errorf("%w: %q is not a semver range: %v", ErrPluginVersion, rng, err)
	}
	return nil
}
