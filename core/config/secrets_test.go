package config

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	rawKey = []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	hexKey = hex.EncodeToString(rawKey)
)

// loadEnv loads the defaults with the given environment.
func loadEnv(t *testing.T, env ...string) *Config {
	t.Helper()
	c, err := Load("", LoadOptions{Environ: env})
	require.NoError(t, err)
	return c
}

func TestHashKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     []string
		keyEnv  string
		want    []byte
		wantErr error
	}{
		{name: "set", env: []string{"TOKENOMICS_HASH_KEY=0123456789abcdef"}, want: []byte("0123456789abcdef")},
		{name: "used as written", env: []string{"TOKENOMICS_HASH_KEY=" + hexKey}, want: []byte(hexKey)},
		{name: "other variable", keyEnv: "MY_KEY", env: []string{"MY_KEY=a-long-enough-secret"}, want: []byte("a-long-enough-secret")},
		{name: "unset", wantErr: ErrSecretNotSet},
		{name: "empty", env: []string{"TOKENOMICS_HASH_KEY="}, wantErr: ErrSecretNotSet},
		{name: "too short", env: []string{"TOKENOMICS_HASH_KEY=0123456789abcde"}, wantErr: ErrSecretInvalid},
		{name: "seed placeholder", env: []string{"TOKENOMICS_HASH_KEY=change-me-to-a-strong-random-string"}, wantErr: ErrSecretInvalid},
		{name: "low variety", env: []string{"TOKENOMICS_HASH_KEY=passwordpassword"}, wantErr: ErrSecretInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := loadEnv(t, tc.env...)
			if tc.keyEnv != "" {
				c.Security.HashKeyEnv = tc.keyEnv
			}
			key, err := c.HashKey()
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				var se *SecretError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, "TOKENOMICS_HASH_KEY", se.Var)
				assert.Equal(t, "security.hash_key_env", se.Field)
				assert.Nil(t, key)
				for _, kv := range tc.env {
					_, v, _ := strings.Cut(kv, "=")
					if v != "" {
						assert.NotContains(t, err.Error(), v, "never print the secret")
					}
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, key)
		})
	}
}

func TestSecretMessage(t *testing.T) {
	t.Parallel()
	c := loadEnv(t)
	_, err := c.Secret("TOKENOMICS_HASH_KEY")
	require.ErrorIs(t, err, ErrSecretNotSet)
	// The wording is the user interface of a refused start.
	assert.EqualError(t, err, "environment variable TOKENOMICS_HASH_KEY is not set (security.hash_key_env)")

	_, err = c.Secret("ANTHROPIC_API_KEY")
	var se *SecretError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "providers.anthropic.api_key_env", se.Field)

	c.Security.HashKeyEnv = ""
	_, err = c.HashKey()
	require.ErrorIs(t, err, ErrSecretNotSet)
}

func TestEncryptionSecret(t *testing.T) {
	t.Parallel()
	passphrase := "correct horse battery"
	tests := []struct {
		name     string
		keyEnv   string // "" = encryption off
		value    *string
		wantRaw  []byte
		wantPass string
		wantErr  error
	}{
		{name: "off"},
		{name: "hex", keyEnv: "K", value: ptr(hexKey), wantRaw: rawKey},
		{name: "hex upper case", keyEnv: "K", value: ptr(strings.ToUpper(hexKey)), wantRaw: rawKey},
		{name: "base64", keyEnv: "K", value: ptr(base64.StdEncoding.EncodeToString(rawKey)), wantRaw: rawKey},
		{name: "base64 raw url", keyEnv: "K", value: ptr(base64.RawURLEncoding.EncodeToString(rawKey)), wantRaw: rawKey},
		{name: "passphrase", keyEnv: "K", value: ptr(passphrase), wantPass: passphrase},
		{name: "passphrase of 16 characters", keyEnv: "K", value: ptr("ünïcödé-pässwörd"), wantPass: "ünïcödé-pässwörd"},
		{name: "base64 of 16 bytes is a passphrase", keyEnv: "K", value: ptr(base64.StdEncoding.EncodeToString(rawKey[:16])), wantPass: base64.StdEncoding.EncodeToString(rawKey[:16])},
		{name: "unset", keyEnv: "K", wantErr: ErrSecretNotSet},
		{name: "empty", keyEnv: "K", value: ptr(""), wantErr: ErrSecretNotSet},
		{name: "short passphrase", keyEnv: "K", value: ptr("too-short"), wantErr: ErrSecretInvalid},
		{name: "seed placeholder", keyEnv: "K", value: ptr("change-me-another-strong-secret"), wantErr: ErrSecretInvalid},
		{name: "angle-bracket placeholder", keyEnv: "K", value: ptr("<your encryption key here>"), wantErr: ErrSecretInvalid},
		{name: "too few distinct characters", keyEnv: "K", value: ptr("passwordpassword"), wantErr: ErrSecretInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var env []string
			if tc.value != nil {
				env = append(env, "K="+*tc.value)
			}
			c := loadEnv(t, env...)
			c.Security.EncryptionKeyEnv = tc.keyEnv
			key, err := c.EncryptionSecret()
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				var se *SecretError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, "K", se.Var)
				assert.Equal(t, "security.encryption_key_env", se.Field)
				if tc.wantErr == ErrSecretInvalid {
					assert.Contains(t, err.Error(), "openssl rand -hex 32", "the message shows how to generate a key")
					assert.NotContains(t, err.Error(), *tc.value, "the message never repeats the secret")
				}
				return
			}
			require.NoError(t, err)
			if tc.keyEnv == "" {
				assert.Nil(t, key)
				return
			}
			assert.Equal(t, tc.wantRaw, key.Raw)
			if tc.wantPass != "" {
				assert.Equal(t, []byte(tc.wantPass), key.Passphrase)
			} else {
				assert.Nil(t, key.Passphrase)
			}
		})
	}
}

func TestRemoteAPIKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		key    string
		keyEnv string
		want   string
	}{
		{name: "none"},
		{name: "written", key: "k1", want: "k1"},
		{name: "from env", keyEnv: "REMOTE_K", want: "k2"},
		{name: "written wins", key: "k1", keyEnv: "REMOTE_K", want: "k1"},
		{name: "env unset", keyEnv: "UNSET_K", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := loadEnv(t, "REMOTE_K=k2")
			c.Remote.APIKey, c.Remote.APIKeyEnv = tc.key, tc.keyEnv
			assert.Equal(t, tc.want, c.RemoteAPIKey())
		})
	}
}

func TestPublicKeys(t *testing.T) {
	t.Parallel()
	p := PluginsConfig{TrustedKeys: []string{hexKey, base64.StdEncoding.EncodeToString(rawKey)}}
	keys, err := p.PublicKeys()
	require.NoError(t, err)
	require.Len(t, keys, 2)
	assert.Equal(t, rawKey, []byte(keys[0]))
	assert.Equal(t, rawKey, []byte(keys[1]))

	p.TrustedKeys = append(p.TrustedKeys, "nope")
	_, err = p.PublicKeys()
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "plugins.trusted_keys[2]", fe.Field)
}

func ptr(s string) *string { return &s }

func sha(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func TestRedisPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pw, pwEnv, want string
	}{
		{name: "none"},
		{name: "written", pw: "p1", want: "p1"},
		{name: "from env", pwEnv: "REDIS_PW", want: "p2"},
		{name: "written wins", pw: "p1", pwEnv: "REDIS_PW", want: "p1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := loadEnv(t, "REDIS_PW=p2")
			c.Session.Redis.Password, c.Session.Redis.PasswordEnv = tc.pw, tc.pwEnv
			assert.Equal(t, tc.want, c.RedisPassword())
		})
	}
}

// TestDefaultReadsProcessEnv covers a Config not built by Load.
func TestDefaultReadsProcessEnv(t *testing.T) {
	t.Setenv("TOKENOMICS_HASH_KEY", "0123456789abcdef-process")
	key, err := Default().HashKey()
	require.NoError(t, err)
	assert.Equal(t, []byte("0123456789abcdef-process"), key)
}
