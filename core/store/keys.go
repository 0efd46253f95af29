package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/scrypt"
)

// How a passphrase becomes the AES-256 key. The derivation a database
// uses is recorded in meta/enc_kdf beside enc_check, with its salt in
// meta/enc_salt, so databases created by older builds keep opening:
//
//	enc_kdf absent  → kdfLegacy: one unsalted SHA-256 of the passphrase
//	                   (the only derivation before it was recorded)
//	"scrypt" ‖ N, r, p (uint32 BE each) → scrypt with enc_salt
//
// A raw 32-byte key is used as given under either. `tokenomics rekey`
// moves a legacy database to scrypt (see DB.Rekey).
var (
	keyEncKDF  = []byte("enc_kdf")
	keyEncSalt = []byte("enc_salt")
	kdfScrypt  = []byte("scrypt")
)

// scrypt cost: N=2^15, r=8 uses 32 MiB and about 0.1 s per open, which an
// operator pays once per process and an attacker pays per guess.
const (
	scryptN    = 1 << 15
	scryptR    = 8
	scryptP    = 1
	saltLen    = 16
	maxScryptN = 1 << 20 // refuse to spend more on a tampered record
)

// ErrLegacyKDF is reported (through DB.LegacyKDF) for a database whose
// passphrase is stretched the old way; it opens, and rekey upgrades it.
var ErrLegacyKDF = errors.New("store: the encryption key is derived with one unsalted SHA-256 (legacy); run `tokenomics rekey`")

// kdf is one recorded derivation.
type kdf struct {
	legacy  bool
	n, r, p uint32
	salt    []byte
}

func newScryptKDF() (kdf, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return kdf{}, fmt.Errorf("generating salt: %w", err)
	}
	return kdf{n: scryptN, r: scryptR, p: scryptP, salt: salt}, nil
}

// readKDF reads the derivation recorded in meta; none recorded is legacy.
func readKDF(meta MetaKV) (kdf, error) {
	v := meta.Get(keyEncKDF)
	if v == nil {
		return kdf{legacy: true}, nil
	}
	if len(v) != len(kdfScrypt)+12 || !bytes.HasPrefix(v, kdfScrypt) {
		return kdf{}, fmt.Errorf("%w: unknown key derivation %q", ErrCorrupt, v)
	}
	b := v[len(kdfScrypt):]
	k := kdf{n: binary.BigEndian.Uint32(b), r: binary.BigEndian.Uint32(b[4:]), p: binary.BigEndian.Uint32(b[8:]),
		salt: bytes.Clone(meta.Get(keyEncSalt))}
	if k.n < 2 || k.n > maxScryptN || k.n&(k.n-1) != 0 || k.r == 0 || k.r > 32 || k.p == 0 || k.p > 16 || len(k.salt) < saltLen {
		return kdf{}, fmt.Errorf("%w: unusable scrypt parameters", ErrCorrupt)
	}
	return k, nil
}

// write records k in meta.
func (k kdf) write(meta MetaKV) error {
	if k.legacy {
		if err := meta.Delete(keyEncKDF); err != nil {
			return err
		}
		return meta.Delete(keyEncSalt)
	}
	v := make([]byte, 0, len(kdfScrypt)+12)
	v = append(v, kdfScrypt...)
	v = binary.BigEndian.AppendUint32(v, k.n)
	v = binary.BigEndian.AppendUint32(v, k.r)
	v = binary.BigEndian.AppendUint32(v, k.p)
	if err := meta.Put(keyEncKDF, v); err != nil {
		return err
	}
	return meta.Put(keyEncSalt, k.salt)
}

// derive stretches passphrase into an EncryptionKeyLen key.
func (k kdf) derive(passphrase []byte) ([]byte, error) {
	if k.legacy {
		sum := sha256.Sum256(passphrase)
		return sum[:], nil
	}
	key, err := scrypt.Key(passphrase, k.salt, int(k.n), int(k.r), int(k.p), EncryptionKeyLen)
	if err != nil {
		return nil, fmt.Errorf("deriving the encryption key: %w", err)
	}
	return key, nil
}

// derivePassphraseKey builds the codec from Options.EncryptionPassphrase
// with the database's recorded derivation; a database without enc_check
// gets a fresh scrypt salt, recorded before enc_check is written.
func (db *DB) derivePassphraseKey(meta *bbolt.Bucket, readOnly bool) error {
	if db.passphrase == nil {
		return nil
	}
	var k kdf
	var err error
	if meta.Get(keyEncCheck) == nil {
		if k, err = newScryptKDF(); err != nil {
			return err
		}
		if !readOnly {
			if err := k.write(meta); err != nil {
				return fmt.Errorf("recording the key derivation: %w", err)
			}
		}
	} else if k, err = readKDF(meta); err != nil {
		return fmt.Errorf("opening database %q: %w", db.path, err)
	}
	key, err := k.derive(db.passphrase)
	if err != nil {
		return err
	}
	if db.codec, err = newCodec(key); err != nil {
		return err
	}
	db.legacyKDF = k.legacy
	return nil
}

// LegacyKDF reports whether the database's passphrase is stretched the
// old, unsalted way (ErrLegacyKDF); Rekey moves it to scrypt.
func (db *DB) LegacyKDF() bool { return db.legacyKDF }

// Rekey re-seals every record, and enc_check, under a new key: raw (32
// bytes, used as given) or a passphrase stretched with scrypt and a fresh
// salt. Given the passphrase the database already uses, it moves a legacy
// database to scrypt. Revisions do not change: a rekey is not a token
// change. Records stored in the clear (refused, see ErrUnsealed) are left
// as they are. It returns the number of records re-sealed.
func (db *DB) Rekey(raw, passphrase []byte) (int, error) {
	if !db.codec.encrypted() {
		return 0, fmt.Errorf("%w: the database is not encrypted; open it with an encryption key first", ErrInvalidKey)
	}
	if (raw == nil) == (passphrase == nil) {
		return 0, fmt.Errorf("%w: give a new key or a new passphrase", ErrInvalidKey)
	}
	k := kdf{legacy: true} // nothing recorded: a raw key is used as given
	key := raw
	if passphrase != nil {
		var err error
		if k, err = newScryptKDF(); err != nil {
			return 0, err
		}
		if key, err = k.derive(passphrase); err != nil {
			return 0, err
		}
	}
	next, err := newCodec(key)
	if err != nil {
		return 0, err
	}
	next.strict = true
	// No read runs meanwhile: one that began after the commit would
	// find the new key's values and open them with the old key.
	db.codecMu.Lock()
	defer db.codecMu.Unlock()
	n := 0
	err = db.write(func(t *txn) error {
		var keys [][]byte
		if err := t.records.ForEach(func(k, _ []byte) error {
			keys = append(keys, bytes.Clone(k))
			return nil
		}); err != nil {
			return err
		}
		for _, hk := range keys {
			v := t.records.Get(hk)
			pk, isRef := refKey(v)
			var rec Record
			var err error
			if isRef {
				rec, _, err = db.codec.decodeRef(string(hk), v)
			} else {
				rec, err = db.codec.decode(string(hk), v)
			}
			if errors.Is(err, ErrUnsealed) {
				db.skipUnsealed(hk)
				continue
			}
			if err != nil {
				return fmt.Errorf("rekeying: %w", err)
			}
			if isRef {
				v, err = next.encodeRef(rec, pk)
			} else {
				v, err = next.encode(rec)
			}
			if err != nil {
				return err
			}
			if err := t.records.Put(hk, v); err != nil {
				return fmt.Errorf("rekeying record %s: %w", short(rec.Hash), err)
			}
			n++
		}
		if err := rekeyPolicies(t.policies, db.codec, next); err != nil {
			return err
		}
		check, err := next.seal(encCheckLabel, keyEncCheck)
		if err != nil {
			return err
		}
		if err := t.meta.Put(keyEncCheck, check); err != nil {
			return err
		}
		// The new key takes over before writeMu is released: a write
		// queued behind this one must not seal with the old key.
		t.committed = func() {
			db.codec = next
			db.legacyKDF = false
		}
		return k.write(t.meta)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// rekeyPolicies re-seals every policy from the codec cur to next, keeping
// its reference count. A policy stored in the clear (refused) is left.
func rekeyPolicies(pols *bbolt.Bucket, cur, next codec) error {
	var keys [][]byte
	if err := pols.ForEach(func(k, _ []byte) error {
		keys = append(keys, bytes.Clone(k))
		return nil
	}); err != nil {
		return err
	}
	for _, kb := range keys {
		k := policyKey(kb)
		v := pols.Get(kb)
		p, err := cur.decodeBlob(k, v)
		if errors.Is(err, ErrUnsealed) {
			continue
		}
		if err != nil {
			return fmt.Errorf("rekeying: %w", err)
		}
		sealed, err := next.encodeBlob(k, blobRefs(v), p)
		if err != nil {
			return err
		}
		if err := pols.Put(kb, sealed); err != nil {
			return fmt.Errorf("rekeying policy %x: %w", kb[:6], err)
		}
	}
	return nil
}
