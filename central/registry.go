package central

// The registry's state lives in a store.PluginStore (the bbolt schema is
// drawn in core/store/plugins_bolt.go; PostgreSQL in core/store/pgstore):
// entries "<name>/<sha256 hex>" → manifest.Entry JSON, blobs by sha256,
// and a revision bumped by every upload and delete.
//
// One binary may be signed under several names (one blob, several
// entries). Entries and blobs change together in one transaction; a blob
// goes when its last entry does.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

// Registry keeps signed plugins, content-addressed by sha256. It is safe
// for concurrent use (the PluginStore serializes writers).
type Registry struct {
	db      store.PluginStore
	trusted []ed25519.PublicKey
	// requireTrusted refuses every upload while trusted is empty (see
	// RequireTrustedKeys).
	requireTrusted bool
	log            hclog.Logger
	now            func() time.Time
}

// OpenRegistry creates the registry's buckets in db if needed. With trusted
// keys, uploads must be signed by one of them; without, any intact
// signature is accepted and proxies decide what they trust.
func OpenRegistry(db *bbolt.DB, trusted []ed25519.PublicKey, log hclog.Logger) (*Registry, error) {
	ps, err := store.NewBoltPlugins(db)
	if err != nil {
		return nil, err
	}
	return OpenRegistryOn(ps, trusted, log), nil
}

// OpenRegistryOn is OpenRegistry on any PluginStore (PostgreSQL for
// several replicas).
func OpenRegistryOn(ps store.PluginStore, trusted []ed25519.PublicKey, log hclog.Logger) *Registry {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Registry{db: ps, trusted: trusted, log: log.Named("registry"), now: time.Now}
}

// RequireTrustedKeys makes a registry without trusted keys refuse every
// upload (manifest.ErrUntrustedKey), instead of accepting any intact
// signature. `tokenomics remote` calls it unless --allow-unsigned-plugins:
// without trusted keys, whoever holds the API key could otherwise take a
// plugin name with their own signature.
func (r *Registry) RequireTrustedKeys() { r.requireTrusted = true }

// ErrNoTrustedKeys wraps manifest.ErrUntrustedKey for an upload to a
// registry that requires trusted keys and has none.
var ErrNoTrustedKeys = fmt.Errorf("%w: this central server has no plugins.trusted_keys; list the operators' public keys there (or run `remote --allow-unsigned-plugins` for development only)", manifest.ErrUntrustedKey)

// Put verifies and stores a plugin. It returns the entry and whether it is
// new; uploading a binary the registry holds already changes nothing.
func (r *Registry) Put(envelope, wasm []byte) (manifest.Entry, bool, error) {
	var (
		m   manifest.Manifest
		err error
	)
	switch {
	case len(r.trusted) > 0:
		m, err = manifest.Verify(envelope, r.trusted)
	case r.requireTrusted:
		return manifest.Entry{}, false, ErrNoTrustedKeys
	default:
		m, err = manifest.VerifySelfSigned(envelope)
	}
	if err != nil {
		return manifest.Entry{}, false, fmt.Errorf("verifying manifest: %w", err)
	}
	if err := m.CheckABI(); err != nil {
		return manifest.Entry{}, false, err
	}
	if err := manifest.CheckBinary(m, wasm); err != nil {
		return manifest.Entry{}, false, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, envelope); err != nil {
		return manifest.Entry{}, false, fmt.Errorf("%w: %w", manifest.ErrMalformed, err)
	}
	entry := manifest.Entry{Name: m.Name, Version: m.Version, SHA256: m.SHA256, Size: m.Size,
		UploadedAt: r.now().UTC(), Signers: manifest.SignerIDs(envelope), Manifest: compact.Bytes()}
	created := false
	key := entryKey(m.Name, m.SHA256)
	err = r.db.UpdatePlugins(func(tx store.PluginTx) error {
		v, err := tx.Entry(key)
		if err != nil {
			return err
		}
		if v != nil {
			var held manifest.Entry
			if err := json.Unmarshal(v, &held); err != nil {
				return fmt.Errorf("decoding registry entry: %w", err)
			}
			if held.Version == m.Version {
				entry = held // the same upload again
				return nil
			}
		}
		if err := checkVersions(tx, m, entry.Signers); err != nil {
			return err
		}
		rev, err := tx.Revision()
		if err != nil {
			return err
		}
		rev++
		entry.Revision = rev
		v, err = json.Marshal(entry)
		if err != nil {
			return err
		}
		if err := tx.PutEntry(key, v); err != nil {
			return err
		}
		if err := tx.PutBlob(m.SHA256, wasm); err != nil {
			return err
		}
		created = true
		return tx.SetRevision(rev)
	})
	if err != nil {
		return manifest.Entry{}, false, fmt.Errorf("storing plugin %s: %w", m.String(), err)
	}
	if created {
		r.log.Info("plugin uploaded", "name", m.Name, "version", m.Version, "sha256", m.SHA256, "revision", entry.Revision)
	}
	return entry, created, nil
}

// checkVersions refuses m when a held entry of the same name, signed by
// one of the same keys, has a newer version, or the same version with
// other bytes. Entries by other signers do not count: with trusted keys
// every held entry is trusted anyway, and without them (development) an
// upload signed by someone else must not block the owner's versions.
func checkVersions(tx store.PluginTx, m manifest.Manifest, signers []string) error {
	return tx.Entries(func(_ string, v []byte) error {
		var e manifest.Entry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("decoding registry entry: %w", err)
		}
		if e.Name != m.Name || !shareSigner(e.Signers, signers) {
			return nil
		}
		held := manifest.Manifest{Name: e.Name, Version: e.Version, SHA256: e.SHA256}
		if err := manifest.CheckUpgrade(&held, m); err != nil {
			return err
		}
		return nil
	})
}

// Blob returns a held binary.
func (r *Registry) Blob(sha string) ([]byte, error) {
	var out []byte
	err := r.db.ViewPlugins(func(tx store.PluginTx) error {
		v, err := tx.Blob(sha)
		if err != nil {
			return err
		}
		if v == nil {
			return ErrNotFound
		}
		out = v
		return nil
	})
	return out, err
}

// Delete removes a binary and every entry naming it, and returns one of
// those entries (the newest) with the new revision.
func (r *Registry) Delete(sha string) (manifest.Entry, error) {
	var e manifest.Entry
	err := r.db.UpdatePlugins(func(tx store.PluginTx) error {
		var keys []string
		err := tx.Entries(func(k string, v []byte) error {
			if !strings.HasSuffix(k, "/"+sha) {
				return nil
			}
			var held manifest.Entry
			if err := json.Unmarshal(v, &held); err != nil {
				return fmt.Errorf("decoding registry entry: %w", err)
			}
			if held.Revision >= e.Revision {
				e = held
			}
			keys = append(keys, k)
			return nil
		})
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return ErrNotFound
		}
		for _, k := range keys {
			if err := tx.DeleteEntry(k); err != nil {
				return err
			}
		}
		if err := tx.DeleteBlob(sha); err != nil {
			return err
		}
		rev, err := tx.Revision()
		if err != nil {
			return err
		}
		e.Revision = rev + 1
		return tx.SetRevision(e.Revision)
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return e, err
		}
		return e, fmt.Errorf("deleting plugin %s: %w", sha, err)
	}
	r.log.Info("plugin deleted", "name", e.Name, "version", e.Version, "sha256", e.SHA256, "revision", e.Revision)
	return e, nil
}

func entryKey(name, sha string) string { return name + "/" + sha }

// Changes returns the whole listing, or only the revision when it is still
// since (Unchanged).
func (r *Registry) Changes(since uint64) (manifest.Listing, error) {
	out := manifest.Listing{Plugins: []manifest.Entry{}}
	err := r.db.ViewPlugins(func(tx store.PluginTx) error {
		var err error
		if out.Revision, err = tx.Revision(); err != nil {
			return err
		}
		if since == out.Revision && since != 0 {
			out.Unchanged = true
			return nil
		}
		return tx.Entries(func(_ string, v []byte) error {
			var e manifest.Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decoding registry entry: %w", err)
			}
			out.Plugins = append(out.Plugins, e)
			return nil
		})
	})
	if err != nil {
		return manifest.Listing{}, fmt.Errorf("listing plugins: %w", err)
	}
	sort.Slice(out.Plugins, func(i, j int) bool {
		a, b := out.Plugins[i], out.Plugins[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Revision < b.Revision
	})
	return out, nil
}

// Revision is the registry's current revision.
func (r *Registry) Revision() uint64 {
	var rev uint64
	_ = r.db.ViewPlugins(func(tx store.PluginTx) error {
		var err error
		rev, err = tx.Revision()
		return err
	})
	return rev
}

// shareSigner reports whether two signer lists have a key in common.
func shareSigner(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}
