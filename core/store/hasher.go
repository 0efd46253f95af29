package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"
)

const (
	// MinHashKeyLen is the shortest hash key NewHasher accepts.
	MinHashKeyLen = 16
	// HashLen is the length of a token hash in hex characters.
	HashLen = 2 * sha256.Size
)

// Hasher turns tokens into the hex HMAC-SHA256 keys records are stored
// under. It is safe for concurrent use.
type Hasher struct {
	// pool holds keyed HMAC states: hmac.New precomputes the padded key
	// blocks, which is most of the cost, so states are reused, not rebuilt.
	pool sync.Pool
}

// hashState keeps the digest buffer next to the HMAC, so Sum writes into
// pooled memory instead of a fresh slice.
type hashState struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

// NewHasher returns a Hasher for key, which must be at least MinHashKeyLen
// bytes. The key is copied.
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < MinHashKeyLen {
		return nil, fmt.Errorf("%w: the hash key must be at least %d bytes, got %d", ErrInvalidKey, MinHashKeyLen, len(key))
	}
	k := bytes.Clone(key)
	h := &Hasher{}
	h.pool.New = func() any { return &hashState{mac: hmac.New(sha256.New, k)} }
	return h, nil
}

// Hash returns the record key of token.
func (h *Hasher) Hash(token string) string {
	var buf [HashLen]byte
	return string(h.AppendHash(buf[:0], []byte(token)))
}

// AppendHash appends the hex record key of token to dst. It does not
// allocate when dst has room for HashLen more bytes.
func (h *Hasher) AppendHash(dst, token []byte) []byte {
	st := h.pool.Get().(*hashState)
	dst = hex.AppendEncode(dst, st.digest(token))
	h.pool.Put(st)
	return dst
}

// sumRaw returns the raw HMAC of data in a new slice.
func (h *Hasher) sumRaw(data []byte) []byte {
	st := h.pool.Get().(*hashState)
	out := bytes.Clone(st.digest(data))
	h.pool.Put(st)
	return out
}

// digest returns the HMAC of data, valid until the state goes back to the pool.
func (st *hashState) digest(data []byte) []byte {
	st.mac.Reset()
	st.mac.Write(data)
	return st.mac.Sum(st.sum[:0])
}
