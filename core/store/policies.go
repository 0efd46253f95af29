package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"
)

// Policies are stored once by content (schema 2): a fleet of ten thousand
// tokens made from forty role policies holds forty policy values, not ten
// thousand copies of them, so the file, the pages a start touches and the
// bytes a listing decodes shrink with it.
//
//	policies
//	└── policy key (32) → refs (8, BE) ‖ format ‖ body
//	    blobPlain:  0x01 ‖ policy JSON
//	    blobSealed: 0x02 ‖ nonce (12) ‖ AES-256-GCM(policy JSON)
//
// The policy key is HMAC-SHA256 of the policy bytes under a subkey of the
// hash key (policyKeyLabel), never a plain digest: a copy of the file must
// not let anyone confirm a guessed policy. refs counts the records whose
// header names the key; the blob goes in the transaction that drops its
// last reference. The GCM associated data is blobAD ‖ key, so a sealed
// policy moved under another key does not open.
const (
	policyKeyLen = sha256.Size
	blobPlain    = 0x01
	blobSealed   = 0x02
	blobHeadLen  = 8 + 1
)

var (
	bucketPolicies = []byte("policies")
	// policyKeyLabel derives the policy-key subkey from the hash key. It
	// must differ from hashCheckLabel, whose HMAC is stored in the clear.
	policyKeyLabel = []byte("tokenomics/store/policy-key/v1")
	blobAD         = []byte("tokenomics/store/policy/v1")
)

// policyKey names one policy's blob.
type policyKey [policyKeyLen]byte

// short abbreviates k for messages and logs.
func (k policyKey) short() string { return hex.EncodeToString(k[:6]) }

// policyKeyer computes policy keys.
type policyKeyer struct{ key []byte }

func newPolicyKeyer(h *Hasher) policyKeyer { return policyKeyer{key: h.sumRaw(policyKeyLabel)} }

func (p policyKeyer) of(policy []byte) policyKey {
	m := hmac.New(sha256.New, p.key)
	m.Write(policy)
	var k policyKey
	m.Sum(k[:0])
	return k
}

// encodeBlob returns the stored value of policy under k with refs references.
func (c codec) encodeBlob(k policyKey, refs uint64, policy []byte) ([]byte, error) {
	if c.aead == nil {
		out := make([]byte, blobHeadLen, blobHeadLen+len(policy))
		binary.BigEndian.PutUint64(out, refs)
		out[8] = blobPlain
		return append(out, policy...), nil
	}
	ns := c.aead.NonceSize()
	out := make([]byte, blobHeadLen+ns, blobHeadLen+ns+len(policy)+c.aead.Overhead())
	binary.BigEndian.PutUint64(out, refs)
	out[8] = blobSealed
	if _, err := rand.Read(out[blobHeadLen:]); err != nil {
		return nil, fmt.Errorf("generating nonce: %w", err)
	}
	return c.aead.Seal(out, out[blobHeadLen:], policy, blobAssociatedData(k)), nil
}

// decodeBlob returns the policy stored under k, in a new slice.
func (c codec) decodeBlob(k policyKey, v []byte) (json.RawMessage, error) {
	if len(v) < blobHeadLen {
		return nil, fmt.Errorf("%w: policy %s is %d bytes", ErrCorrupt, k.short(), len(v))
	}
	body := v[blobHeadLen:]
	switch v[8] {
	case blobPlain:
		if c.aead != nil && c.strict {
			return nil, fmt.Errorf("%w: policy %s", ErrUnsealed, k.short())
		}
		return bytes.Clone(body), nil
	case blobSealed:
		if c.aead == nil {
			return nil, fmt.Errorf("%w: policy %s is encrypted and no encryption key was given", ErrDecrypt, k.short())
		}
		ns := c.aead.NonceSize()
		if len(body) < ns+c.aead.Overhead() {
			return nil, fmt.Errorf("%w: policy %s is truncated", ErrCorrupt, k.short())
		}
		p, err := c.aead.Open(nil, body[:ns], body[ns:], blobAssociatedData(k))
		if err != nil {
			return nil, fmt.Errorf("%w: policy %s: wrong encryption key or tampered value", ErrDecrypt, k.short())
		}
		return p, nil
	}
	return nil, fmt.Errorf("%w: policy %s has format 0x%02x", ErrCorrupt, k.short(), v[8])
}

func blobAssociatedData(k policyKey) []byte {
	ad := make([]byte, 0, len(blobAD)+len(k))
	ad = append(ad, blobAD...)
	return append(ad, k[:]...)
}

// blobRefs reads a blob's reference count (0 if malformed).
func blobRefs(v []byte) uint64 {
	if len(v) < blobHeadLen {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// withRefs returns a copy of blob value v holding n references.
func withRefs(v []byte, n uint64) []byte {
	out := bytes.Clone(v)
	binary.BigEndian.PutUint64(out, n)
	return out
}

// ref makes policy's blob exist and counts one more reference to it; it
// returns the key and the transaction's one copy of the policy, which the
// changes of every record of that policy share.
func (t *txn) ref(policy json.RawMessage) (policyKey, json.RawMessage, error) {
	k := t.db.keyer.of(policy)
	if p, ok := t.shared[k]; ok {
		t.refs[k]++
		return k, p, nil
	}
	// A stored value that does not open (damaged, or planted in the clear
	// in an encrypted file) is rewritten: the key commits to the content,
	// so the policy in hand is the one every record naming k meant.
	old := t.policies.Get(k[:])
	if _, err := t.db.codec.decodeBlob(k, old); old == nil || err != nil {
		v, err := t.db.codec.encodeBlob(k, blobRefs(old), policy)
		if err != nil {
			return k, nil, err
		}
		if err := t.policies.Put(k[:], v); err != nil {
			return k, nil, fmt.Errorf("writing policy: %w", err)
		}
	}
	p := bytes.Clone(policy)
	t.shared[k] = p
	t.refs[k]++
	return k, p, nil
}

// unref counts one reference less to the policy of the record value v
// (none for a schema 1 value, which holds its policy).
func (t *txn) unref(v []byte) {
	if k, ok := refKey(v); ok {
		t.refs[k]--
	}
}

// flushRefs writes the transaction's reference count changes and drops
// the blobs no record references any more.
func (t *txn) flushRefs() error {
	for k, d := range t.refs {
		// d == 0 still needs a look: a policy first written in this
		// transaction and dropped again in it (an upsert then a tombstone
		// in one Apply) is stored with 0 references, and must go.
		v := t.policies.Get(k[:])
		if v == nil {
			if d > 0 {
				return fmt.Errorf("%w: policy %s written in this transaction is missing", ErrCorrupt, k.short())
			}
			t.db.logger.Warn("a dropped record referenced a missing policy", "policy", k.short())
			continue
		}
		n := int64(blobRefs(v)) + int64(d)
		if d == 0 && n > 0 {
			continue
		}
		if n < 0 {
			t.db.logger.Warn("policy reference count below zero; dropping the policy", "policy", k.short())
			n = 0
		}
		var err error
		if n == 0 {
			err = t.policies.Delete(k[:])
		} else {
			err = t.policies.Put(k[:], withRefs(v, uint64(n)))
		}
		if err != nil {
			return fmt.Errorf("counting references to policy %s: %w", k.short(), err)
		}
	}
	clear(t.refs)
	return nil
}

// countRefs counts the references of every schema 2 record in records,
// by policy key.
func countRefs(records *bbolt.Bucket) (map[policyKey]uint64, error) {
	counts := map[policyKey]uint64{}
	if records == nil {
		return counts, nil
	}
	err := records.ForEach(func(_, v []byte) error {
		if k, ok := refKey(v); ok {
			counts[k]++
		}
		return nil
	})
	return counts, err
}

// checkRefs compares the policies bucket with the records' references: a
// record naming a missing policy or a malformed policy value is
// corruption (err); reference counts that differ from the records' are
// returned in fix, with the count they should have (0: an orphan).
func checkRefs(tx *bbolt.Tx) (fix map[policyKey]uint64, err error) {
	counts, err := countRefs(tx.Bucket(bucketRecords))
	if err != nil {
		return nil, err
	}
	pols := tx.Bucket(bucketPolicies)
	fix = map[policyKey]uint64{}
	if pols != nil {
		err = pols.ForEach(func(kb, v []byte) error {
			if len(kb) != policyKeyLen || len(v) < blobHeadLen || (v[8] != blobPlain && v[8] != blobSealed) {
				return fmt.Errorf("%w: malformed policy value under %x", ErrCorrupt, kb[:min(6, len(kb))])
			}
			k := policyKey(kb)
			if want := counts[k]; blobRefs(v) != want {
				fix[k] = want
			}
			delete(counts, k)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for k := range counts {
		return nil, fmt.Errorf("%w: %d record(s) reference policy %s, which is missing", ErrCorrupt, counts[k], k.short())
	}
	return fix, nil
}

// repairRefs sets the counts checkRefs found wrong, dropping orphans.
func (db *DB) repairRefs(pols *bbolt.Bucket, fix map[policyKey]uint64) error {
	for k, n := range fix {
		var err error
		if n == 0 {
			err = pols.Delete(k[:])
		} else if v := pols.Get(k[:]); v != nil {
			err = pols.Put(k[:], withRefs(v, n))
		}
		if err != nil {
			return fmt.Errorf("repairing policy %s: %w", k.short(), err)
		}
	}
	if len(fix) > 0 {
		db.logger.Warn("repaired policy reference counts that did not match the records", "policies", len(fix))
	}
	return nil
}
