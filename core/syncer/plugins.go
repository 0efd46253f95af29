package syncer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/hashicorp/go-hclog"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
)

// activePlugin is a verified plugin whose binary is on disk.
type activePlugin struct {
	m        manifest.Manifest
	envelope []byte
	path     string
}

// pluginSet is the proxy's verified plugins. mu guards the maps; it is
// never held while the store is written, because store subscribers (the
// proxy recompiling tokens) call Resolve.
type pluginSet struct {
	dir     string
	trusted []ed25519.PublicKey
	state   stateDB
	log     hclog.Logger

	mu       sync.RWMutex
	active   map[string]*activePlugin   // by name
	retained map[string][]*activePlugin // by name: earlier verified versions, newest first
	floors   map[string]string          // by name: highest version accepted

	// Owned by the sync goroutine (under Syncer.syncMu).
	revision     uint64          // registry revision last fully processed
	rejected     map[string]bool // entries already reported as refused
	warnedNoKeys bool
}

func loadPluginSet(db *bbolt.DB, dir string, trusted []ed25519.PublicKey, log hclog.Logger) (*pluginSet, error) {
	ps := &pluginSet{dir: dir, trusted: trusted, state: stateDB{db}, log: log,
		active: map[string]*activePlugin{}, retained: map[string][]*activePlugin{}, floors: map[string]string{}, rejected: map[string]bool{}}
	if err := ps.state.init(); err != nil {
		return nil, fmt.Errorf("opening plugin state: %w", err)
	}
	envs, floors, err := ps.state.load()
	if err != nil {
		return nil, err
	}
	ps.floors = floors
	for name, env := range envs {
		m, err := manifest.Verify(env, trusted)
		if err != nil {
			log.Warn("a synced plugin no longer verifies and is not loaded", "plugin", name, "error", err)
			continue
		}
		ap := &activePlugin{m: m, envelope: env, path: ps.binPath(m.SHA256)}
		if _, err := ps.read(ap); err != nil {
			log.Warn("a synced plugin's binary is missing or damaged; it will be fetched again", "plugin", name, "error", err)
			continue
		}
		ps.active[name] = ap
	}
	if err := ps.loadRetained(); err != nil {
		return nil, err
	}
	return ps, nil
}

func (ps *pluginSet) binPath(sha string) string {
	return filepath.Join(ps.dir, sha+".wasm")
}

// read returns ap's binary after checking it against the manifest.
func (ps *pluginSet) read(ap *activePlugin) ([]byte, error) {
	b, err := os.ReadFile(ap.path)
	if err != nil {
		return nil, fmt.Errorf("reading plugin %s: %w", ap.m.String(), err)
	}
	if err := manifest.CheckBinary(ap.m, b); err != nil {
		return nil, err
	}
	return b, nil
}

// Resolve returns the binary a wasm rule names: plugin is the name and sha
// a sha256 held (the active version, or a kept earlier one), or plugin is
// name@range and sha is empty, resolved to the newest held version in the
// range. It is the proxy's resolver for wasm rules (proxy.Options.Plugins),
// and re-checks the file's digest on every call.
func (s *Syncer) Resolve(plugin, sha string) ([]byte, error) {
	ps := s.plugins
	name, rng := splitPin(plugin)
	if rng != "" {
		if err := checkRange(rng); err != nil {
			return nil, err
		}
	}
	if ap := ps.pick(plugin, sha); ap != nil {
		return ps.read(ap)
	}
	ps.mu.RLock()
	cur := ps.active[name]
	ps.mu.RUnlock()
	switch {
	case cur == nil:
		return nil, fmt.Errorf("%w: %q has no verified version on this proxy (not uploaded to the central server, not signed by a key in plugins.trusted_keys, refused, or deleted)",
			ErrPluginUnavailable, name)
	case rng != "":
		return nil, fmt.Errorf("%w: the policy asks for %s %s, this proxy holds %s", ErrPluginVersion, name, rng, ps.describeHeld(name))
	}
	return nil, fmt.Errorf("%w: the policy names %s sha256 %s, the verified version is %s (and this proxy keeps no earlier version with that sha256)",
		ErrPluginVersion, name, sha, cur.m.String())
}

// Active lists the active verified manifests, for status output.
func (s *Syncer) Active() []manifest.Manifest {
	ps := s.plugins
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	out := make([]manifest.Manifest, 0, len(ps.active))
	for _, ap := range ps.active {
		out = append(out, ap.m)
	}
	return out
}

// candidate is the best verified version of a name in a listing.
type candidate struct {
	m        manifest.Manifest
	envelope []byte
}

// syncPlugins brings the active set in line with the registry listing.
func (s *Syncer) syncPlugins(ctx context.Context) error {
	ps := s.plugins
	listing, err := s.o.Plugins.Changes(ctx, ps.revision)
	if err != nil {
		return err
	}
	if listing.Unchanged {
		return nil
	}
	if len(ps.trusted) == 0 && len(listing.Plugins) > 0 && !ps.warnedNoKeys {
		ps.warnedNoKeys = true
		s.log.Warn("the central server holds plugins but plugins.trusted_keys is empty: none will be loaded", "plugins", len(listing.Plugins))
	}
	best := s.choose(listing.Plugins)

	var errs []error
	var changed []string
	for name, c := range best {
		ps.mu.RLock()
		cur := ps.active[name]
		ps.mu.RUnlock()
		if cur != nil && cur.m.SHA256 == c.m.SHA256 {
			continue
		}
		if err := s.install(ctx, c, cur); err != nil {
			// The last good version, if any, stays active.
			errs = append(errs, err)
			continue
		}
		changed = append(changed, name)
	}
	ps.mu.RLock()
	var gone []string
	for name := range ps.active {
		if _, ok := best[name]; !ok {
			gone = append(gone, name)
		}
	}
	ps.mu.RUnlock()
	for _, name := range gone {
		if err := s.withdraw(name); err != nil {
			errs = append(errs, err)
			continue
		}
		changed = append(changed, name)
	}
	changed = append(changed, s.pruneRetained(listing.Plugins)...)
	if len(errs) == 0 {
		ps.revision = listing.Revision
	}
	if len(changed) > 0 {
		if err := s.refreshTokens(changed); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// choose verifies every entry and keeps, per name, the highest acceptable
// version. Refusals are logged once per binary.
func (s *Syncer) choose(entries []manifest.Entry) map[string]candidate {
	ps := s.plugins
	best := map[string]candidate{}
	for _, e := range entries {
		m, err := s.accept(e)
		if err != nil {
			// Keyed by what the entry claims: one binary may be offered
			// under several names and versions.
			if id := e.Name + "@" + e.Version + "/" + e.SHA256; !ps.rejected[id] {
				ps.rejected[id] = true
				s.log.Warn("plugin refused", "plugin", e.Name, "version", e.Version, "sha256", e.SHA256, "error", err)
			}
			continue
		}
		b, ok := best[m.Name]
		if !ok {
			best[m.Name] = candidate{m: m, envelope: e.Manifest}
			continue
		}
		if c, _ := manifest.CompareVersions(m.Version, b.m.Version); c > 0 {
			best[m.Name] = candidate{m: m, envelope: e.Manifest}
		}
	}
	return best
}

// accept verifies one entry and checks it against this proxy's floor and
// active version.
func (s *Syncer) accept(e manifest.Entry) (manifest.Manifest, error) {
	ps := s.plugins
	if len(ps.trusted) == 0 {
		return manifest.Manifest{}, manifest.ErrNoTrustedKeys
	}
	m, err := manifest.Verify(e.Manifest, ps.trusted)
	if err != nil {
		return m, err
	}
	if err := m.CheckABI(); err != nil {
		return m, err
	}
	if err := m.CheckLimits(s.o.MaxMemoryPages, s.o.MaxCallMS); err != nil {
		return m, err
	}
	ps.mu.RLock()
	floor, hasFloor := ps.floors[m.Name]
	cur := ps.active[m.Name]
	ps.mu.RUnlock()
	if hasFloor {
		c, err := manifest.CompareVersions(m.Version, floor)
		if err != nil {
			return m, err
		}
		if c < 0 {
			return m, fmt.Errorf("%w: %s is below %s, the highest version this proxy accepted", manifest.ErrRollback, m.String(), floor)
		}
	}
	if cur != nil {
		if err := manifest.CheckUpgrade(&cur.m, m); err != nil {
			return m, err
		}
	}
	return m, nil
}

// install fetches (unless already on disk), checks and writes c's binary,
// then makes it the active version of its name.
func (s *Syncer) install(ctx context.Context, c candidate, prev *activePlugin) error {
	ps := s.plugins
	ap := &activePlugin{m: c.m, envelope: c.envelope, path: ps.binPath(c.m.SHA256)}
	if _, err := ps.read(ap); err != nil {
		wasm, err := s.o.Plugins.Fetch(ctx, c.m.SHA256)
		if err != nil {
			return fmt.Errorf("fetching plugin %s: %w", c.m.String(), err)
		}
		if err := manifest.CheckBinary(c.m, wasm); err != nil {
			return fmt.Errorf("fetching plugin %s: %w", c.m.String(), err)
		}
		if err := writeFileAtomic(ap.path, wasm); err != nil {
			return err
		}
	}
	floor := c.m.Version
	ps.mu.RLock()
	if old, ok := ps.floors[c.m.Name]; ok {
		if cmp, err := manifest.CompareVersions(old, floor); err == nil && cmp > 0 {
			floor = old
		}
	}
	ps.mu.RUnlock()
	if err := ps.state.activate(c.m.Name, c.envelope, floor); err != nil {
		return err
	}
	ps.mu.Lock()
	ps.active[c.m.Name] = ap
	ps.floors[c.m.Name] = floor
	ps.mu.Unlock()
	if prev != nil && prev.m.SHA256 != ap.m.SHA256 {
		// Kept, not removed: tokens pinned to it keep working.
		s.keepPrevious(prev)
	}
	s.log.Info("plugin activated", "plugin", c.m.Name, "version", c.m.Version, "sha256", c.m.SHA256)
	return nil
}

// withdraw deactivates a plugin the registry no longer offers in an
// acceptable version. Its floor stays, so it cannot come back older.
func (s *Syncer) withdraw(name string) error {
	ps := s.plugins
	if err := ps.state.deactivate(name); err != nil {
		return err
	}
	ps.mu.Lock()
	ap := ps.active[name]
	delete(ps.active, name)
	old := ps.retained[name]
	delete(ps.retained, name)
	ps.mu.Unlock()
	for _, r := range old {
		s.forgetRetained(r)
	}
	if ap != nil {
		ps.removeUnused(ap.path)
		s.log.Warn("plugin withdrawn: the central server no longer offers an acceptable version; tokens using it are refused",
			"plugin", name, "version", ap.m.Version)
	}
	return nil
}

// removeUnused deletes a binary no active or kept plugin uses.
func (ps *pluginSet) removeUnused(path string) {
	ps.mu.RLock()
	for _, ap := range ps.active {
		if ap.path == path {
			ps.mu.RUnlock()
			return
		}
	}
	for _, list := range ps.retained {
		for _, ap := range list {
			if ap.path == path {
				ps.mu.RUnlock()
				return
			}
		}
	}
	ps.mu.RUnlock()
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		ps.log.Warn("removing an old plugin binary", "path", path, "error", err)
	}
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, so a crash never leaves a half-written binary under its name.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating plugin directory %q: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing plugin %q: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing plugin %q: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing plugin %q: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing plugin %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing plugin %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing plugin %q: %w", path, err)
	}
	return nil
}
