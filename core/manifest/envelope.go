package manifest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// PayloadType names what an Envelope's payload is.
const PayloadType = "application/vnd.tokenomics.plugin-manifest.v1+json"

// signingPrefix separates manifest signatures from anything else the same
// key might sign.
const signingPrefix = "tokenomics plugin manifest v1\n"

// MaxEnvelopeSize bounds an envelope file; real ones are under 1 KiB.
const MaxEnvelopeSize = 64 << 10

// maxSignatures bounds the work a hostile envelope can ask for.
const maxSignatures = 8

// Envelope is the signed manifest file (FILE.wasm.manifest.json).
type Envelope struct {
	PayloadType string      `json:"payload_type"`
	Payload     []byte      `json:"payload"` // the Manifest JSON; base64 in the file
	Signatures  []Signature `json:"signatures"`
}

// Signature is one ed25519 signature over SigningMessage(payload).
type Signature struct {
	KeyID     string `json:"key_id"`     // KeyID(PublicKey), for people
	PublicKey []byte `json:"public_key"` // 32 bytes; base64 in the file
	Sig       []byte `json:"sig"`        // 64 bytes; base64 in the file
}

// SigningMessage is the exact byte string each signature covers.
func SigningMessage(payload []byte) []byte {
	msg := make([]byte, 0, len(signingPrefix)+len(payload))
	msg = append(msg, signingPrefix...)
	return append(msg, payload...)
}

// KeyID is a short, stable name for a public key: the first 8 bytes of its
// sha256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// Sign validates m and returns the envelope file signed by every key, in
// order. Keys must be distinct.
func Sign(m Manifest, keys ...ed25519.PrivateKey) ([]byte, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("signing manifest: %w: no key given", ErrBadKey)
	}
	if len(keys) > maxSignatures {
		return nil, fmt.Errorf("signing manifest: %w: at most %d keys", ErrBadKey, maxSignatures)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("signing manifest: %w", err)
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	env := Envelope{PayloadType: PayloadType, Payload: payload}
	msg := SigningMessage(payload)
	seen := map[string]bool{}
	for _, k := range keys {
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("signing manifest: %w: private key has %d bytes", ErrBadKey, len(k))
		}
		pub := k.Public().(ed25519.PublicKey)
		id := KeyID(pub)
		if seen[id] {
			return nil, fmt.Errorf("signing manifest: %w: key %s given twice", ErrBadKey, id)
		}
		seen[id] = true
		env.Signatures = append(env.Signatures, Signature{KeyID: id, PublicKey: pub, Sig: ed25519.Sign(k, msg)})
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding manifest envelope: %w", err)
	}
	return append(out, '\n'), nil
}

// Verify checks that data is an envelope signed by at least one of the
// trusted keys and returns its manifest. An unsigned envelope gives
// ErrUnsigned, one signed only by other keys ErrUntrustedKey, one whose
// signatures do not verify at all ErrBadSignature.
func Verify(data []byte, trusted []ed25519.PublicKey) (Manifest, error) {
	if len(trusted) == 0 {
		return Manifest{}, ErrNoTrustedKeys
	}
	return open(data, func(pub ed25519.PublicKey) bool {
		for _, k := range trusted {
			if bytes.Equal(k, pub) {
				return true
			}
		}
		return false
	})
}

// VerifySelfSigned checks that data is an intact envelope: at least one
// signature verifies with the key it carries. It says nothing about whether
// that key should be trusted; only Verify does.
func VerifySelfSigned(data []byte) (Manifest, error) {
	return open(data, func(ed25519.PublicKey) bool { return true })
}

func open(data []byte, trusted func(ed25519.PublicKey) bool) (Manifest, error) {
	env, err := ParseEnvelope(data)
	if err != nil {
		return Manifest{}, err
	}
	if len(env.Signatures) == 0 {
		return Manifest{}, ErrUnsigned
	}
	msg := SigningMessage(env.Payload)
	valid, trustedValid := false, false
	for _, s := range env.Signatures {
		if len(s.PublicKey) != ed25519.PublicKeySize || len(s.Sig) != ed25519.SignatureSize {
			continue
		}
		if !ed25519.Verify(s.PublicKey, msg, s.Sig) {
			continue
		}
		valid = true
		if trusted(s.PublicKey) {
			trustedValid = true
			break
		}
	}
	switch {
	case trustedValid:
	case valid:
		return Manifest{}, ErrUntrustedKey
	default:
		return Manifest{}, ErrBadSignature
	}
	// Only signed bytes are decoded: a malformed payload that was signed is
	// the signer's mistake, reported as such.
	m, err := decodeManifest(env.Payload)
	if err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// ParseEnvelope decodes an envelope strictly, without checking signatures.
// Use Verify or VerifySelfSigned to trust what it says.
func ParseEnvelope(data []byte) (Envelope, error) {
	var env Envelope
	if len(data) > MaxEnvelopeSize {
		return env, fmt.Errorf("%w: envelope is over %d bytes", ErrMalformed, MaxEnvelopeSize)
	}
	if err := decodeStrict(data, &env); err != nil {
		return env, fmt.Errorf("%w: decoding envelope: %w", ErrMalformed, err)
	}
	if env.PayloadType != PayloadType {
		return env, fmt.Errorf("%w: payload_type %q, want %q", ErrMalformed, env.PayloadType, PayloadType)
	}
	if len(env.Payload) == 0 {
		return env, fmt.Errorf("%w: empty payload", ErrMalformed)
	}
	if len(env.Signatures) > maxSignatures {
		return env, fmt.Errorf("%w: more than %d signatures", ErrMalformed, maxSignatures)
	}
	return env, nil
}

// Peek decodes the manifest of an envelope WITHOUT verifying it, for
// display. Never act on what it returns.
func Peek(data []byte) (Manifest, error) {
	env, err := ParseEnvelope(data)
	if err != nil {
		return Manifest{}, err
	}
	return decodeManifest(env.Payload)
}

// SignerIDs lists the key ids of an envelope's signatures that verify with
// their own keys.
func SignerIDs(data []byte) []string {
	env, err := ParseEnvelope(data)
	if err != nil {
		return nil
	}
	msg := SigningMessage(env.Payload)
	var ids []string
	for _, s := range env.Signatures {
		if len(s.PublicKey) == ed25519.PublicKeySize && len(s.Sig) == ed25519.SignatureSize &&
			ed25519.Verify(s.PublicKey, msg, s.Sig) {
			ids = append(ids, KeyID(s.PublicKey))
		}
	}
	return ids
}

func decodeManifest(payload []byte) (Manifest, error) {
	var m Manifest
	if err := decodeStrict(payload, &m); err != nil {
		return m, fmt.Errorf("%w: decoding manifest: %w", ErrMalformed, err)
	}
	if err := m.Validate(); err != nil {
		return m, err
	}
	return m, nil
}

// decodeStrict decodes one JSON value, refusing unknown fields and
// trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// CheckBinary reports whether wasm is the binary m describes.
func CheckBinary(m Manifest, wasm []byte) error {
	if int64(len(wasm)) != m.Size {
		return fmt.Errorf("%w: %s has %d bytes, the manifest says %d", ErrDigestMismatch, m.Name, len(wasm), m.Size)
	}
	sum := sha256.Sum256(wasm)
	if got := hex.EncodeToString(sum[:]); got != m.SHA256 {
		return fmt.Errorf("%w: %s has sha256 %s, the manifest says %s", ErrDigestMismatch, m.Name, got, m.SHA256)
	}
	return nil
}

// Sum returns the lowercase hex sha256 of wasm.
func Sum(wasm []byte) string {
	s := sha256.Sum256(wasm)
	return hex.EncodeToString(s[:])
}

// SidecarPath is where `plugin sign` writes the manifest of a binary.
func SidecarPath(wasmPath string) string {
	return strings.TrimSuffix(wasmPath, "/") + ".manifest.json"
}
