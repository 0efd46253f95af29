package config

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"unicode/utf8"
)

// MinHashKeyLen is the shortest hash key accepted, in bytes.
const MinHashKeyLen = 16

// minPassphraseLen is the shortest encryption passphrase, in characters.
const minPassphraseLen = 16

var (
	// ErrSecretNotSet is wrapped by a SecretError for an unset or empty
	// variable.
	ErrSecretNotSet = errors.New("config: secret not set")
	// ErrSecretInvalid is wrapped by a SecretError for a value too short or
	// malformed.
	ErrSecretInvalid = errors.New("config: secret invalid")
)

// SecretError is a missing or unusable secret. Its message names the
// variable and the setting that names it, never the value:
// "environment variable TOKENOMICS_HASH_KEY is not set (security.hash_key_env)".
type SecretError struct {
	Var    string // the environment variable; "" when none is configured
	Field  string // the setting naming Var, e.g. "security.hash_key_env"; may be ""
	Reason string // "is not set", "is too short: ..."
	Err    error  // ErrSecretNotSet or ErrSecretInvalid
}

func (e *SecretError) Error() string {
	msg := "environment variable " + e.Var + " " + e.Reason
	if e.Var == "" {
		msg = "no environment variable is configured"
	}
	if e.Field != "" {
		msg += " (" + e.Field + ")"
	}
	return msg
}

func (e *SecretError) Unwrap() error { return e.Err }

// lookupEnv reads the environment given to Load, or the process's for a
// Config that did not come from Load.
func (c *Config) lookupEnv(name string) string {
	if c.env != nil {
		return c.env[name]
	}
	return os.Getenv(name)
}

// Secret returns the value of the environment variable envName; an unset
// or empty variable is a *SecretError naming it and the setting that refers
// to it.
func (c *Config) Secret(envName string) (string, error) {
	if envName == "" {
		return "", &SecretError{Reason: "is not set", Err: ErrSecretNotSet}
	}
	v := c.lookupEnv(envName)
	if v == "" {
		return "", &SecretError{Var: envName, Field: c.secretField(envName), Reason: "is not set", Err: ErrSecretNotSet}
	}
	return v, nil
}

// secretField finds the setting that names envName, for messages.
func (c *Config) secretField(envName string) string {
	switch envName {
	case c.Security.HashKeyEnv:
		return "security.hash_key_env"
	case c.Security.EncryptionKeyEnv:
		return "security.encryption_key_env"
	case c.Remote.APIKeyEnv:
		return "remote.api_key_env"
	case c.Session.Redis.PasswordEnv:
		return "session.redis.password_env"
	}
	for _, p := range c.Providers {
		if p.APIKeyEnv == envName {
			return "providers." + p.Name + ".api_key_env"
		}
	}
	return ""
}

// HashKey returns the HMAC key for token hashes: the bytes of the variable
// named by security.hash_key_env, used as written. It refuses an unset
// variable or one shorter than MinHashKeyLen bytes; there is no default
// key.
func (c *Config) HashKey() ([]byte, error) {
	const field = "security.hash_key_env"
	if c.Security.HashKeyEnv == "" {
		return nil, &SecretError{Field: field, Err: ErrSecretNotSet}
	}
	v, err := c.Secret(c.Security.HashKeyEnv)
	if err != nil {
		return nil, err
	}
	if len(v) < MinHashKeyLen {
		return nil, &SecretError{
			Var: c.Security.HashKeyEnv, Field: field, Err: ErrSecretInvalid,
			Reason: fmt.Sprintf("is too short: need at least %d bytes, got %d", MinHashKeyLen, len(v)),
		}
	}
	return []byte(v), nil
}

// EncryptionKey returns the 32-byte AES-256 key for stored policies, or
// nil, nil when security.encryption_key_env is "" (no encryption). The
// variable's value is read, in this order, as:
//
//   - 64 hex digits: the raw key;
//   - base64 (standard or URL alphabet, padded or not) of exactly 32 bytes:
//     the raw key;
//   - otherwise a passphrase of at least 16 characters, whose SHA-256
//     digest is the key. SHA-256 is a fast hash, not a password KDF, so a
//     passphrase must carry enough entropy by itself; prefer a random key
//     (openssl rand -hex 32).
//
// An unset variable or a shorter passphrase is an error.
func (c *Config) EncryptionKey() ([]byte, error) {
	name := c.Security.EncryptionKeyEnv
	if name == "" {
		return nil, nil
	}
	v, err := c.Secret(name)
	if err != nil {
		return nil, err
	}
	if key, ok := decodeKey32(v); ok {
		return key, nil
	}
	if utf8.RuneCountInString(v) < minPassphraseLen {
		return nil, &SecretError{
			Var: name, Field: "security.encryption_key_env", Err: ErrSecretInvalid,
			Reason: fmt.Sprintf("is neither a 32-byte key (64 hex digits or base64) nor a passphrase of at least %d characters", minPassphraseLen),
		}
	}
	sum := sha256.Sum256([]byte(v))
	return sum[:], nil
}

// decodeKey32 reads 32 raw bytes written as 64 hex digits or base64.
func decodeKey32(s string) ([]byte, bool) {
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, true
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, true
		}
	}
	return nil, false
}

// PublicKeys decodes TrustedKeys (hex or base64 ed25519 public keys).
func (p PluginsConfig) PublicKeys() ([]ed25519.PublicKey, error) {
	keys := make([]ed25519.PublicKey, 0, len(p.TrustedKeys))
	for i, k := range p.TrustedKeys {
		b, ok := decodeKey32(k)
		if !ok {
			return nil, &FieldError{
				Field: fmt.Sprintf("plugins.trusted_keys[%d]", i),
				Msg:   "must be an ed25519 public key: 64 hex digits or base64 of 32 bytes",
			}
		}
		keys = append(keys, ed25519.PublicKey(b))
	}
	return keys, nil
}

// RemoteAPIKey returns remote.api_key, else the variable named by
// remote.api_key_env, else "".
func (c *Config) RemoteAPIKey() string {
	if c.Remote.APIKey != "" {
		return c.Remote.APIKey
	}
	if c.Remote.APIKeyEnv != "" {
		return c.lookupEnv(c.Remote.APIKeyEnv)
	}
	return ""
}

// RedisPassword returns session.redis.password, else the variable named by
// session.redis.password_env, else "".
func (c *Config) RedisPassword() string {
	if c.Session.Redis.Password != "" {
		return c.Session.Redis.Password
	}
	if c.Session.Redis.PasswordEnv != "" {
		return c.lookupEnv(c.Session.Redis.PasswordEnv)
	}
	return ""
}
