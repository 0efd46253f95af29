package manifest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
)

const pemTypePrivate = "PRIVATE KEY"

// GenerateKey returns a new ed25519 key pair for signing manifests.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating ed25519 key: %w", err)
	}
	return pub, priv, nil
}

// EncodePrivateKey returns priv as a PKCS#8 PEM block, the format openssl
// and most tools read.
func EncodePrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemTypePrivate, Bytes: der}), nil
}

// ParsePrivateKey reads a PKCS#8 PEM ed25519 key, or a bare 32-byte seed
// or 64-byte key written as hex or base64.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != pemTypePrivate {
			return nil, fmt.Errorf("%w: PEM block %q, want %q", ErrBadKey, block.Type, pemTypePrivate)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: parsing PKCS#8: %w", ErrBadKey, err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: the PEM key is %T, not ed25519", ErrBadKey, k)
		}
		return priv, nil
	}
	raw, ok := decodeBytes(strings.TrimSpace(string(data)))
	switch {
	case ok && len(raw) == ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ok && len(raw) == ed25519.PrivateKeySize:
		return ed25519.PrivateKey(raw), nil
	}
	return nil, fmt.Errorf("%w: not a PKCS#8 PEM ed25519 key nor a hex or base64 seed", ErrBadKey)
}

// EncodePublicKey returns pub as base64, the form plugins.trusted_keys takes.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads a public key written as hex or base64 of its 32 bytes.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	raw, ok := decodeBytes(strings.TrimSpace(s))
	if !ok || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: want hex or base64 of %d bytes", ErrBadKey, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

func decodeBytes(s string) ([]byte, bool) {
	if len(s)%2 == 0 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, true
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}
