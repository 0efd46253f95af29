package store

import (
	"crypto/hmac"
	"fmt"
)

// MetaKV is a store's small key/value table of key checks (hash_check,
// enc_check, enc_kdf, enc_salt). A *bbolt.Bucket is one; pgstore keeps a
// table.
type MetaKV interface {
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
}

// Sealer hashes tokens and seals policies exactly as DB does, for stores
// other than bbolt, so a record moved between backends (tokenomics
// migrate) keeps its bytes and a wrong key is refused the same way.
type Sealer struct {
	hasher *Hasher
	codec  codec
	legacy bool
}

// NewSealer checks the hash key and the encryption key (raw or
// passphrase, at most one) against meta, recording them on first use, as
// Open does for a bbolt file. meta must be written in a transaction the
// caller commits only if NewSealer succeeds.
func NewSealer(meta MetaKV, hashKey, encKey, passphrase []byte) (*Sealer, error) {
	h, err := NewHasher(hashKey)
	if err != nil {
		return nil, err
	}
	if encKey != nil && passphrase != nil {
		return nil, fmt.Errorf("%w: give an encryption key or a passphrase, not both", ErrInvalidKey)
	}
	want := h.sumRaw(hashCheckLabel)
	if got := meta.Get(keyHashCheck); got == nil {
		if err := meta.Put(keyHashCheck, want); err != nil {
			return nil, err
		}
	} else if !hmac.Equal(got, want) {
		return nil, fmt.Errorf("%w; use the hash key the store was created with", ErrHashKeyMismatch)
	}
	s := &Sealer{hasher: h}
	if passphrase != nil {
		var k kdf
		if meta.Get(keyEncCheck) == nil {
			if k, err = newScryptKDF(); err != nil {
				return nil, err
			}
			if err := k.write(meta); err != nil {
				return nil, fmt.Errorf("recording the key derivation: %w", err)
			}
		} else if k, err = readKDF(meta); err != nil {
			return nil, err
		}
		if encKey, err = k.derive(passphrase); err != nil {
			return nil, err
		}
		s.legacy = k.legacy
	}
	if s.codec, err = newCodec(encKey); err != nil {
		return nil, err
	}
	sealed := meta.Get(keyEncCheck)
	switch {
	case sealed == nil && !s.codec.encrypted():
		return s, nil
	case sealed == nil:
		v, err := s.codec.seal(encCheckLabel, keyEncCheck)
		if err != nil {
			return nil, err
		}
		if err := meta.Put(keyEncCheck, v); err != nil {
			return nil, err
		}
	case !s.codec.encrypted():
		return nil, fmt.Errorf("%w: the store is encrypted and no encryption key was given", ErrDecrypt)
	default:
		if plain, err := s.codec.open(sealed, keyEncCheck); err != nil || !hmac.Equal(plain, encCheckLabel) {
			return nil, fmt.Errorf("%w: the encryption key is not the one the store was encrypted with", ErrDecrypt)
		}
	}
	s.codec.strict = true
	return s, nil
}

// Hasher returns the token hasher.
func (s *Sealer) Hasher() *Hasher { return s.hasher }

// Encrypted reports whether policies are sealed.
func (s *Sealer) Encrypted() bool { return s.codec.encrypted() }

// Encode returns the stored value of rec (format byte, revision, sealed
// or plain JSON; see value.go).
func (s *Sealer) Encode(rec Record) ([]byte, error) { return s.codec.encode(rec) }

// Decode opens a value Encode produced for hash.
func (s *Sealer) Decode(hash string, v []byte) (Record, error) { return s.codec.decode(hash, v) }

// Short abbreviates a hash for messages and logs.
func Short(hash string) string { return short(hash) }

// ValidPolicy reports whether p is a JSON object (what every store accepts).
func ValidPolicy(p []byte) bool { return validPolicy(p) }

// ValidHash reports whether s is a full lowercase hex token hash.
func ValidHash(s string) bool { return validHash(s) }

// IsLowerHex reports whether s holds only lowercase hex digits.
func IsLowerHex(s string) bool { return isLowerHex(s) }

// CheckChanges validates a change batch as Apply does.
func CheckChanges(changes []Change, revision uint64) error { return checkChanges(changes, revision) }

// Clone returns a copy of r that shares nothing mutable with it.
func (r Record) Clone() Record { return r.clone() }
