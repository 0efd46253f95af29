package syncer

import (
	"fmt"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
)

// keepVersions is how many earlier verified versions of each plugin a proxy
// keeps beside the active one, so tokens pinned to an older sha256 keep
// working through an upgrade until their policies move on or the central
// server withdraws that binary.
const keepVersions = 3

var bucketRetained = []byte("retained") // by sha256: the envelope

// retain keeps prev as an earlier version of its name (newest first) and
// returns the versions that fell off the end. Caller holds ps.mu.
func (ps *pluginSet) retain(prev *activePlugin) (dropped []*activePlugin) {
	name := prev.m.Name
	list := []*activePlugin{prev}
	for _, ap := range ps.retained[name] {
		if ap.m.SHA256 != prev.m.SHA256 {
			list = append(list, ap)
		}
	}
	if len(list) > keepVersions {
		dropped = list[keepVersions:]
		list = list[:keepVersions]
	}
	ps.retained[name] = list
	return dropped
}

// retainedFor returns the kept earlier version of name with sha, or nil.
// Caller holds ps.mu for reading.
func (ps *pluginSet) retainedFor(name, sha string) *activePlugin {
	for _, ap := range ps.retained[name] {
		if strings.EqualFold(ap.m.SHA256, sha) {
			return ap
		}
	}
	return nil
}

// keepPrevious records prev as retained, on disk and in memory, and
// forgets what falls off the end.
func (s *Syncer) keepPrevious(prev *activePlugin) {
	ps := s.plugins
	ps.mu.Lock()
	dropped := ps.retain(prev)
	ps.mu.Unlock()
	if err := ps.state.putRetained(prev.m.SHA256, prev.envelope); err != nil {
		s.log.Warn("saving an earlier plugin version", "plugin", prev.m.Name, "error", err)
	}
	for _, ap := range dropped {
		s.forgetRetained(ap)
	}
}

func (s *Syncer) forgetRetained(ap *activePlugin) {
	ps := s.plugins
	if err := ps.state.deleteRetained(ap.m.SHA256); err != nil {
		s.log.Warn("forgetting an earlier plugin version", "plugin", ap.m.Name, "error", err)
	}
	ps.removeUnused(ap.path)
}

// pruneRetained drops kept versions the central server no longer lists
// (withdrawn on purpose) and returns the names whose set changed.
func (s *Syncer) pruneRetained(entries []manifest.Entry) []string {
	ps := s.plugins
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.Name+"/"+strings.ToLower(e.SHA256)] = true
	}
	var gone []*activePlugin
	var names []string
	ps.mu.Lock()
	for name, list := range ps.retained {
		kept := list[:0:0]
		for _, ap := range list {
			if listed[name+"/"+ap.m.SHA256] {
				kept = append(kept, ap)
			} else {
				gone = append(gone, ap)
			}
		}
		if len(kept) != len(list) {
			names = append(names, name)
			ps.retained[name] = kept
		}
	}
	ps.mu.Unlock()
	for _, ap := range gone {
		s.log.Info("earlier plugin version withdrawn; tokens pinned to it are refused", "plugin", ap.m.Name,
			"version", ap.m.Version, "sha256", ap.m.SHA256)
		s.forgetRetained(ap)
	}
	return names
}

// loadRetained restores the kept versions after a restart.
func (ps *pluginSet) loadRetained() error {
	envs, err := ps.state.retainedEnvelopes()
	if err != nil {
		return err
	}
	for _, env := range envs {
		m, err := manifest.Verify(env, ps.trusted)
		if err != nil {
			continue
		}
		ap := &activePlugin{m: m, envelope: env, path: ps.binPath(m.SHA256)}
		if _, err := ps.read(ap); err != nil {
			continue
		}
		if cur := ps.active[m.Name]; cur != nil && cur.m.SHA256 == m.SHA256 {
			continue
		}
		if len(ps.retained[m.Name]) < keepVersions {
			ps.retained[m.Name] = append(ps.retained[m.Name], ap)
		}
	}
	return nil
}

func (st stateDB) putRetained(sha string, env []byte) error {
	return st.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(bucketState).CreateBucketIfNotExists(bucketRetained)
		if err != nil {
			return err
		}
		return b.Put([]byte(sha), env)
	})
}

func (st stateDB) deleteRetained(sha string) error {
	return st.db.Update(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketState).Bucket(bucketRetained); b != nil {
			return b.Delete([]byte(sha))
		}
		return nil
	})
}

func (st stateDB) retainedEnvelopes() ([][]byte, error) {
	var out [][]byte
	err := st.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketState).Bucket(bucketRetained)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			out = append(out, append([]byte(nil), v...))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("loading earlier plugin versions: %w", err)
	}
	return out, nil
}
