package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpand(t *testing.T) {
	t.Parallel()
	env := map[string]string{"A": "alpha", "B_2": "beta", "EMPTY": "", "NL": "a\nb: c"}
	lookup := func(name string) string { return env[name] }
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "no variables", in: "plain $text", want: "plain $text"},
		{name: "whole value", in: "${A}", want: "alpha"},
		{name: "embedded", in: "x-${A}-${B_2}-y", want: "x-alpha-beta-y"},
		{name: "adjacent", in: "${A}${A}", want: "alphaalpha"},
		{name: "unset is empty", in: "[${NOPE}]", want: "[]"},
		{name: "set but empty", in: "[${EMPTY}]", want: "[]"},
		{name: "escape", in: "$${A}", want: "${A}"},
		{name: "escape then variable", in: "$${A}${A}", want: "${A}alpha"},
		{name: "dollar dollar without brace", in: "$$A", want: "$$A"},
		{name: "value is not re-expanded", in: "${NL}", want: "a\nb: c"},
		{name: "default unused", in: "${A:-x}", want: "alpha"},
		{name: "default for unset", in: "${NOPE:-http://h:1}", want: "http://h:1"},
		{name: "default for empty", in: "${EMPTY:-d}", want: "d"},
		{name: "empty default", in: "[${NOPE:-}]", want: "[]"},
		{name: "unterminated", in: "${A", wantErr: true},
		{name: "empty name", in: "${}", wantErr: true},
		{name: "bad name", in: "${A-B}", wantErr: true},
		{name: "leading digit", in: "${1A}", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := expand(tc.in, lookup)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestLoadExpansion(t *testing.T) {
	t.Parallel()
	env := []string{
		"PORT=9000",
		"DB=/data/t.db",
		"INJECT=a\nb: c",
		"INJECT_FLOW=x, events: [y]}",
		"SECRET=s3cr3t",
		"ON=true",
		"WAIT=7d",
		"REDIS_PW=pw",
		"KEY_VAR=GROQ_KEY",
		"VERSION=2024-01-01",
	}
	tests := []struct {
		name      string
		config    string
		providers string
		check     func(t *testing.T, c *Config)
	}{
		{
			name:   "string",
			config: "storage:\n  db_path: ${DB}\n",
			check:  func(t *testing.T, c *Config) { assert.Equal(t, "/data/t.db", c.Storage.DBPath) },
		},
		{
			name:   "plain scalar is re-typed as integer",
			config: "server:\n  http_port: ${PORT}\n",
			check:  func(t *testing.T, c *Config) { assert.Equal(t, 9000, c.Server.HTTPPort) },
		},
		{
			name:   "bool and duration",
			config: "logging:\n  hide_token_hash: ${ON}\nserver:\n  shutdown_timeout: ${WAIT}\n",
			check: func(t *testing.T, c *Config) {
				assert.True(t, c.Logging.HideTokenHash)
				assert.Equal(t, Duration(7*24*time.Hour), c.Server.ShutdownTimeout)
			},
		},
		{
			name:   "escape keeps a literal",
			config: "remote:\n  api_key: \"$${SECRET}\"\n",
			check:  func(t *testing.T, c *Config) { assert.Equal(t, "${SECRET}", c.Remote.APIKey) },
		},
		{
			name:   "unset variable is empty and the default applies",
			config: "storage:\n  db_path: ${NOT_SET}\n",
			check:  func(t *testing.T, c *Config) { assert.Equal(t, DefaultDBPath, c.Storage.DBPath) },
		},
		{
			name:   "injection stays one string",
			config: "remote:\n  api_key: ${INJECT}\n",
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, "a\nb: c", c.Remote.APIKey)
			},
		},
		{
			name:   "injection into flow mapping stays one string",
			config: "events:\n  webhooks:\n    - {url: http://h.example, secret: \"${INJECT_FLOW}\"}\n",
			check: func(t *testing.T, c *Config) {
				require.Len(t, c.Events.Webhooks, 1)
				assert.Equal(t, "x, events: [y]}", c.Events.Webhooks[0].Secret)
				assert.Empty(t, c.Events.Webhooks[0].Events)
			},
		},
		{
			name:   "list items and map values",
			config: "memory:\n  allowed_dirs: [\"${DB}\", plain]\ncli_maps:\n  ${PORT}: openai\n",
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, []string{"/data/t.db", "plain"}, c.Memory.AllowedDirs)
				// Keys are not expanded.
				assert.Equal(t, map[string]string{"${PORT}": "openai"}, c.CLIMaps)
			},
		},
		{
			name:   "redis password",
			config: "session:\n  redis:\n    password: ${REDIS_PW}\n",
			check:  func(t *testing.T, c *Config) { assert.Equal(t, "pw", c.RedisPassword()) },
		},
		{
			name:      "providers file",
			providers: "providers:\n  groq:\n    upstream_url: https://groq.example\n    api_key_env: ${KEY_VAR}\n    headers:\n      x-version: ${VERSION}\n",
			check: func(t *testing.T, c *Config) {
				p, ok := c.Provider("groq")
				require.True(t, ok)
				assert.Equal(t, "GROQ_KEY", p.APIKeyEnv)
				assert.Equal(t, map[string]string{"x-version": "2024-01-01"}, p.Headers)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, tc.config, tc.providers)
			c, err := Load(path, LoadOptions{Environ: env})
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func TestLoadExpansionTypeError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config string
		field  string
	}{
		{name: "injected text into integer", config: "server:\n  http_port: ${INJECT}\n", field: "server.http_port"},
		{name: "quoted variable into integer", config: "server:\n  http_port: \"${PORT}\"\n", field: "server.http_port"},
		{name: "text into duration", config: "server:\n  shutdown_timeout: ${INJECT}\n", field: "server.shutdown_timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, tc.config, "")
			_, err := Load(path, LoadOptions{Environ: []string{"PORT=9000", "INJECT=1\nb: 2"}})
			fe := findField(t, err, tc.field)
			assert.Equal(t, 2, fe.Line)
		})
	}
}
