package cli

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/rules"
)

// localPluginSource resolves custom wasm plugins of a standalone proxy from
// plugins.dir by name; the policy's sha256 must match the file, or its
// signed manifest's version must be in the policy's name@range. With
// plugins.trusted_keys set, the binary must also come with its signed
// manifest (<name>.wasm.manifest.json, from `plugin sign`) naming it, signed
// by a trusted key, within this proxy's limits: a standalone proxy trusts
// exactly what a synced one would.
func localPluginSource(cfg *config.Config) (func(name, sha string) ([]byte, error), error) {
	dir := cfg.Abs(cfg.Plugins.Dir)
	trusted, err := cfg.Plugins.PublicKeys()
	if err != nil {
		return nil, err
	}
	maxPages := cmp.Or(cfg.Plugins.MemoryPages, hostMemoryPages)
	maxCallMS := cmp.Or(uint32(cfg.Plugins.CallTimeout.D().Milliseconds()), hostCallMS)
	return func(plugin, sha string) ([]byte, error) {
		// name@range: the file's signed manifest must state a version in
		// the range; without trusted keys there is no version to trust.
		name, rng, ranged := strings.Cut(plugin, "@")
		var want *semver.Constraints
		if ranged {
			c, err := semver.NewConstraint(rng)
			if err != nil {
				return nil, fmt.Errorf("plugin %q: %q is not a semver range: %w", name, rng, err)
			}
			if len(trusted) == 0 {
				return nil, fmt.Errorf("plugin %q: a version range needs plugins.trusted_keys and a signed manifest (the version is what the signature vouches for); pin its sha256 instead", name)
			}
			want = c
		}
		if name != filepath.Base(name) || name == "." || name == ".." {
			return nil, fmt.Errorf("plugin name %q is not a file name", name)
		}
		path := filepath.Join(dir, name+".wasm")
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading plugin %q from %s: %w", name, dir, err)
		}
		if got := rules.Sum(b); !ranged && got != sha {
			return nil, fmt.Errorf("plugin %q: sha256 %s does not match the policy's %s", name, got, sha)
		}
		if len(trusted) == 0 {
			return b, nil
		}
		env, err := os.ReadFile(manifest.SidecarPath(path))
		if err != nil {
			return nil, fmt.Errorf("plugin %q: plugins.trusted_keys is set and its signed manifest is missing (run `tokenomics plugin sign`): %w", name, err)
		}
		m, err := manifest.Verify(env, trusted)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: %w", name, err)
		}
		if m.Name != name {
			return nil, fmt.Errorf("plugin %q: its manifest is for %q", name, m.Name)
		}
		if err := manifest.CheckBinary(m, b); err != nil {
			return nil, fmt.Errorf("plugin %q: %w", name, err)
		}
		if err := m.CheckABI(); err != nil {
			return nil, fmt.Errorf("plugin %q: %w", name, err)
		}
		if err := m.CheckLimits(maxPages, maxCallMS); err != nil {
			return nil, fmt.Errorf("plugin %q: %w", name, err)
		}
		if want != nil {
			v, err := semver.NewVersion(m.Version)
			if err != nil || !want.Check(v) {
				return nil, fmt.Errorf("plugin %q: version %s in %s is not in the policy's range %s", name, m.Version, dir, rng)
			}
		}
		return b, nil
	}, nil
}
