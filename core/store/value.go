package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// Record values start with a format byte and the record's revision, so the
// revision index can be maintained without decrypting anything:
//
//	valuePlain:  0x01 ‖ revision (8, BE) ‖ JSON
//	valueSealed: 0x02 ‖ revision (8, BE) ‖ nonce (12) ‖ AES-256-GCM(JSON)
//
// The GCM associated data is the 9-byte header followed by the record's
// hash, so a ciphertext copied under another hash or revision fails to open.
const (
	valuePlain  byte = 0x01
	valueSealed byte = 0x02
	headerLen        = 1 + 8
	// EncryptionKeyLen is the AES-256 key length Options.EncryptionKey needs.
	EncryptionKeyLen = 32
)

// storedRecord is the JSON inside a value; the hash is the bucket key and
// the revision is in the header.
type storedRecord struct {
	Policy    json.RawMessage `json:"policy"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	ExpiresAt *time.Time      `json:"expires_at,omitempty"`
}

// codec encodes record values, sealing them when it has an AEAD.
type codec struct {
	aead cipher.AEAD // nil = plain
	// strict refuses plain values. It is set once the database has
	// adopted its encryption key (enc_check written, older plain records
	// sealed); only a read-only open of a database that has not adopted
	// it yet reads plain records with a key.
	strict bool
}

func newCodec(key []byte) (codec, error) {
	if key == nil {
		return codec{}, nil
	}
	if len(key) != EncryptionKeyLen {
		return codec{}, fmt.Errorf("%w: the encryption key must be %d bytes, got %d", ErrInvalidKey, EncryptionKeyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return codec{}, fmt.Errorf("creating cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return codec{}, fmt.Errorf("creating GCM: %w", err)
	}
	return codec{aead: aead}, nil
}

func (c codec) encrypted() bool { return c.aead != nil }

// encode returns the stored value of rec.
func (c codec) encode(rec Record) ([]byte, error) {
	body, err := json.Marshal(storedRecord{
		Policy:    rec.Policy,
		CreatedAt: rec.CreatedAt,
		UpdatedAt: rec.UpdatedAt,
		ExpiresAt: rec.ExpiresAt,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding record: %w", err)
	}
	if c.aead == nil {
		out := make([]byte, headerLen, headerLen+len(body))
		out[0] = valuePlain
		binary.BigEndian.PutUint64(out[1:headerLen], rec.Revision)
		return append(out, body...), nil
	}
	ns := c.aead.NonceSize()
	out := make([]byte, headerLen+ns, headerLen+ns+len(body)+c.aead.Overhead())
	out[0] = valueSealed
	binary.BigEndian.PutUint64(out[1:headerLen], rec.Revision)
	if _, err := rand.Read(out[headerLen:]); err != nil {
		return nil, fmt.Errorf("generating nonce: %w", err)
	}
	return c.aead.Seal(out, out[headerLen:], body, associatedData(out[:headerLen], rec.Hash)), nil
}

// decode parses a stored value of the record keyed by hash. It never keeps
// a reference to v, which bbolt owns.
func (c codec) decode(hash string, v []byte) (Record, error) {
	if len(v) < headerLen {
		return Record{}, fmt.Errorf("%w: record %s is %d bytes", ErrCorrupt, short(hash), len(v))
	}
	body := v[headerLen:]
	switch v[0] {
	case valuePlain:
		if c.aead != nil && c.strict {
			return Record{}, fmt.Errorf("%w: record %s", ErrUnsealed, short(hash))
		}
	case valueSealed:
		if c.aead == nil {
			return Record{}, fmt.Errorf("%w: record %s is encrypted and no encryption key was given", ErrDecrypt, short(hash))
		}
		ns := c.aead.NonceSize()
		if len(body) < ns+c.aead.Overhead() {
			return Record{}, fmt.Errorf("%w: record %s is truncated", ErrCorrupt, short(hash))
		}
		var err error
		body, err = c.aead.Open(nil, body[:ns], body[ns:], associatedData(v[:headerLen], hash))
		if err != nil {
			return Record{}, fmt.Errorf("%w: record %s: wrong encryption key or tampered record", ErrDecrypt, short(hash))
		}
	default:
		return Record{}, fmt.Errorf("%w: record %s has format 0x%02x", ErrCorrupt, short(hash), v[0])
	}
	var sr storedRecord
	if err := json.Unmarshal(body, &sr); err != nil {
		return Record{}, fmt.Errorf("%w: decoding record %s: %w", ErrCorrupt, short(hash), err)
	}
	return Record{
		Hash:      hash,
		Policy:    sr.Policy,
		CreatedAt: sr.CreatedAt,
		UpdatedAt: sr.UpdatedAt,
		ExpiresAt: sr.ExpiresAt,
		Revision:  valueRevision(v),
	}, nil
}

// valueRevision reads the revision from a value's header (0 if too short).
func valueRevision(v []byte) uint64 {
	if len(v) < headerLen {
		return 0
	}
	return binary.BigEndian.Uint64(v[1:headerLen])
}

// seal and open protect the meta check value with the same AEAD.
func (c codec) seal(plain, ad []byte) ([]byte, error) {
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plain)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("generating nonce: %w", err)
	}
	return c.aead.Seal(nonce, nonce, plain, ad), nil
}

func (c codec) open(sealed, ad []byte) ([]byte, error) {
	ns := c.aead.NonceSize()
	if len(sealed) < ns {
		return nil, ErrCorrupt
	}
	return c.aead.Open(nil, sealed[:ns], sealed[ns:], ad)
}

func associatedData(header []byte, hash string) []byte {
	ad := make([]byte, 0, len(header)+len(hash))
	ad = append(ad, header...)
	return append(ad, hash...)
}

// short abbreviates a hash for messages and logs.
func short(hash string) string {
	return hash[:min(12, len(hash))]
}

// Schema 2 record values name their policy in the policies bucket
// (policies.go) instead of holding it:
//
//	valueRef:       0x03 ‖ revision (8, BE) ‖ policy key (32) ‖ times
//	valueRefSealed: 0x04 ‖ revision (8, BE) ‖ policy key (32) ‖ nonce (12) ‖ AES-256-GCM(times)
//
// times is created, updated and expires, each a length byte and
// time.MarshalBinary (length 0: no expiry): a fixed binary form, because
// decoding ten thousand records at start should cost microseconds, not a
// JSON pass each. The policy key sits in the clear header, like the
// revision, so reference counts are kept without decrypting anything; the
// GCM associated data is the header followed by the hash.
const (
	valueRef       byte = 0x03
	valueRefSealed byte = 0x04
	refHeaderLen        = headerLen + policyKeyLen
)

// refKey returns the policy key of a schema 2 record value.
func refKey(v []byte) (policyKey, bool) {
	if len(v) < refHeaderLen || (v[0] != valueRef && v[0] != valueRefSealed) {
		return policyKey{}, false
	}
	return policyKey(v[headerLen:refHeaderLen]), true
}

// encodeRef returns the schema 2 value of rec, whose policy is stored under k.
func (c codec) encodeRef(rec Record, k policyKey) ([]byte, error) {
	var times [3 * 17]byte
	body := times[:0]
	for _, t := range []*time.Time{&rec.CreatedAt, &rec.UpdatedAt, rec.ExpiresAt} {
		if t == nil {
			body = append(body, 0)
			continue
		}
		b, err := t.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("encoding record: %w", err)
		}
		body = append(body, byte(len(b)))
		body = append(body, b...)
	}
	if c.aead == nil {
		out := make([]byte, refHeaderLen, refHeaderLen+len(body))
		out[0] = valueRef
		binary.BigEndian.PutUint64(out[1:headerLen], rec.Revision)
		copy(out[headerLen:], k[:])
		return append(out, body...), nil
	}
	ns := c.aead.NonceSize()
	out := make([]byte, refHeaderLen+ns, refHeaderLen+ns+len(body)+c.aead.Overhead())
	out[0] = valueRefSealed
	binary.BigEndian.PutUint64(out[1:headerLen], rec.Revision)
	copy(out[headerLen:], k[:])
	if _, err := rand.Read(out[refHeaderLen:]); err != nil {
		return nil, fmt.Errorf("generating nonce: %w", err)
	}
	return c.aead.Seal(out, out[refHeaderLen:], body, associatedData(out[:refHeaderLen], rec.Hash)), nil
}

// decodeRef parses a schema 2 value of the record keyed by hash: the
// record without its policy, and the policy's key.
func (c codec) decodeRef(hash string, v []byte) (Record, policyKey, error) {
	k, ok := refKey(v)
	if !ok {
		return Record{}, k, fmt.Errorf("%w: record %s is %d bytes", ErrCorrupt, short(hash), len(v))
	}
	body := v[refHeaderLen:]
	var buf [3 * 17]byte
	if v[0] == valueRefSealed {
		if c.aead == nil {
			return Record{}, k, fmt.Errorf("%w: record %s is encrypted and no encryption key was given", ErrDecrypt, short(hash))
		}
		ns := c.aead.NonceSize()
		if len(body) < ns+c.aead.Overhead() || len(body)-ns-c.aead.Overhead() > len(buf) {
			return Record{}, k, fmt.Errorf("%w: record %s has a malformed body", ErrCorrupt, short(hash))
		}
		var err error
		body, err = c.aead.Open(buf[:0], body[:ns], body[ns:], associatedData(v[:refHeaderLen], hash))
		if err != nil {
			return Record{}, k, fmt.Errorf("%w: record %s: wrong encryption key or tampered record", ErrDecrypt, short(hash))
		}
	} else if c.aead != nil && c.strict {
		return Record{}, k, fmt.Errorf("%w: record %s", ErrUnsealed, short(hash))
	}
	rec := Record{Hash: hash, Revision: valueRevision(v)}
	for i, t := range []*time.Time{&rec.CreatedAt, &rec.UpdatedAt, nil} {
		if len(body) == 0 || len(body) < 1+int(body[0]) {
			return Record{}, k, fmt.Errorf("%w: record %s has a truncated body", ErrCorrupt, short(hash))
		}
		n := int(body[0])
		b := body[1 : 1+n]
		body = body[1+n:]
		if n == 0 {
			if i < 2 {
				return Record{}, k, fmt.Errorf("%w: record %s lacks a time", ErrCorrupt, short(hash))
			}
			continue
		}
		if t == nil {
			rec.ExpiresAt = new(time.Time)
			t = rec.ExpiresAt
		}
		if err := t.UnmarshalBinary(b); err != nil {
			return Record{}, k, fmt.Errorf("%w: decoding record %s: %w", ErrCorrupt, short(hash), err)
		}
	}
	return rec, k, nil
}
