package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
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

// keyAdvice ends every message about a weak or malformed key.
const keyAdvice = "; generate one with: openssl rand -hex 32"

// HashKey returns the HMAC key for token hashes: the bytes of the variable
// named by security.hash_key_env, used as written. It refuses an unset
// variable, one shorter than MinHashKeyLen bytes, and a weak one (an
// example placeholder, or too few distinct characters); there is no
// default key.
//
// The hash key is not stretched: every node of a fleet (the central
// server, each proxy with its own database) must turn a token into the
// same hash, and tokens, which carry 256 random bits, cannot be re-hashed
// under a new derivation. Its strength protects nothing a token's own
// randomness does not; the encryption key, which does protect stored
// policies, is stretched (see EncryptionSecret).
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
			Reason: fmt.Sprintf("is too short: need at least %d bytes, got %d%s", MinHashKeyLen, len(v), keyAdvice),
		}
	}
	if reason := weakSecret(v); reason != "" {
		return nil, &SecretError{Var: c.Security.HashKeyEnv, Field: field, Err: ErrSecretInvalid, Reason: reason + keyAdvice}
	}
	return []byte(v), nil
}

// KeySecret is the encryption key as configured: Raw when the variable
// holds 32 random bytes (64 hex digits or base64), else Passphrase, which
// the store stretches with scrypt and a salt kept in the database.
type KeySecret struct {
	Raw        []byte
	Passphrase []byte
}

// EncryptionSecret returns the policy encryption key material, or nil,
// nil when security.encryption_key_env is "" (no encryption). The
// variable's value is read, in this order, as:
//
//   - 64 hex digits: a raw 32-byte key;
//   - base64 (standard or URL alphabet, padded or not) of exactly 32 bytes:
//     a raw key;
//   - otherwise a passphrase of at least 16 characters, which the store
//     stretches with scrypt (salt stored beside enc_check).
//
// An unset variable, a shorter passphrase and a weak one (an example
// placeholder such as change-me…, or too few distinct characters) are
// errors whose message shows how to generate a key.
func (c *Config) EncryptionSecret() (*KeySecret, error) {
	if c.Security.EncryptionKeyEnv == "" {
		return nil, nil
	}
	return c.KeySecret(c.Security.EncryptionKeyEnv)
}

// KeySecret reads the variable envName by the rules of EncryptionSecret;
// `tokenomics rekey --new-key-env` uses it for the new key.
func (c *Config) KeySecret(envName string) (*KeySecret, error) {
	v, err := c.Secret(envName)
	if err != nil {
		return nil, err
	}
	field := c.secretField(envName)
	if key, ok := decodeKey32(v); ok {
		return &KeySecret{Raw: key}, nil
	}
	if utf8.RuneCountInString(v) < minPassphraseLen {
		return nil, &SecretError{
			Var: envName, Field: field, Err: ErrSecretInvalid,
			Reason: fmt.Sprintf("is neither a 32-byte key (64 hex digits or base64) nor a passphrase of at least %d characters%s", minPassphraseLen, keyAdvice),
		}
	}
	if reason := weakSecret(v); reason != "" {
		return nil, &SecretError{Var: envName, Field: field, Err: ErrSecretInvalid, Reason: reason + keyAdvice}
	}
	return &KeySecret{Passphrase: []byte(v)}, nil
}

// placeholders are fragments of the example values in documentation and
// .env templates; a secret containing one was never changed.
var placeholders = []string{"change-me", "changeme", "change_me", "replace-me", "replaceme", "replace_me",
	"placeholder", "example", "your-key", "your_key", "yourkey", "your-secret", "your_secret", "..."}

// minDistinct is the fewest distinct bytes a passphrase or hash key may
// have: "passwordpassword" has 7, a random key of 16 characters about 14.
const minDistinct = 8

// weakSecret says why v is unfit as a key, or "" when it is not obviously
// weak.
func weakSecret(v string) string {
	lower := strings.ToLower(v)
	for _, p := range placeholders {
		if strings.Contains(lower, p) {
			return "still holds an example placeholder (" + strconv.Quote(p) + ")"
		}
	}
	if strings.Contains(v, "<") && strings.Contains(v, ">") {
		return "still holds an example placeholder (<...>)"
	}
	var seen [256]bool
	distinct := 0
	for i := 0; i < len(v); i++ {
		if !seen[v[i]] {
			seen[v[i]] = true
			distinct++
		}
	}
	if distinct < minDistinct {
		return fmt.Sprintf("is too predictable: %d distinct characters, need at least %d", distinct, minDistinct)
	}
	return ""
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
