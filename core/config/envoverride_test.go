package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnvOverrides(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   []string
		check func(t *testing.T, c *Config)
	}{
		{
			name:  "int beats file",
			env:   []string{"TOKENOMICS_SERVER_HTTP_PORT=9000"},
			check: func(t *testing.T, c *Config) { assert.Equal(t, 9000, c.Server.HTTPPort) },
		},
		{
			name: "nested strings",
			env: []string{
				"TOKENOMICS_SESSION_BACKEND=redis",
				"TOKENOMICS_SESSION_REDIS_ADDR=redis.internal:6379",
				"TOKENOMICS_STORAGE_DB_PATH=/data/t.db",
				"TOKENOMICS_LOGGING_LEVEL=debug",
				"TOKENOMICS_REMOTE_URL=https://central.example",
				"TOKENOMICS_REMOTE_WEBHOOK_SECRET=s",
			},
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, BackendRedis, c.Session.Backend)
				assert.Equal(t, "redis.internal:6379", c.Session.Redis.Addr)
				assert.Equal(t, "/data/t.db", c.Storage.DBPath)
				assert.Equal(t, "debug", c.Logging.Level)
				assert.Equal(t, "https://central.example", c.Remote.URL)
				assert.Equal(t, "s", c.Remote.Webhook.Secret)
			},
		},
		{
			name: "bool duration int64 and list",
			env: []string{
				"TOKENOMICS_LOGGING_HIDE_TOKEN_HASH=true",
				"TOKENOMICS_SERVER_SHUTDOWN_TIMEOUT=1m",
				"TOKENOMICS_SESSION_REDIS_TIMEOUT=2",
				"TOKENOMICS_SERVER_MAX_BODY_BYTES=1048576",
				"TOKENOMICS_MEMORY_ALLOWED_DIRS=/a, ./b,,",
				"TOKENOMICS_PLUGINS_TRUSTED_KEYS=" + hexKey,
			},
			check: func(t *testing.T, c *Config) {
				assert.True(t, c.Logging.HideTokenHash)
				assert.Equal(t, Duration(time.Minute), c.Server.ShutdownTimeout)
				assert.Equal(t, Duration(2*time.Second), c.Session.Redis.Timeout)
				assert.Equal(t, int64(1<<20), c.Server.MaxBodyBytes)
				assert.Equal(t, []string{"/a", "./b"}, c.Memory.AllowedDirs)
				assert.Equal(t, []string{hexKey}, c.Plugins.TrustedKeys)
			},
		},
		{
			name: "empty value clears to the default",
			env:  []string{"TOKENOMICS_LOGGING_FORMAT=", "TOKENOMICS_SERVER_HTTP_PORT="},
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, DefaultLogFormat, c.Logging.Format)
				assert.Equal(t, DefaultHTTPPort, c.Server.HTTPPort)
			},
		},
		{
			name: "explicit zero http port means https only",
			env:  []string{"TOKENOMICS_SERVER_HTTP_PORT=0"},
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, 0, c.Server.HTTPPort)
				assert.Equal(t, 8443, c.Server.HTTPSPort)
			},
		},
		{
			name: "unrelated variables are ignored",
			env: []string{
				"TOKENOMICS_HASH_KEY=0123456789abcdef",
				"TOKENOMICS_ENCRYPTION_KEY=whatever",
				"TOKENOMICS_REMOTE_KEY=k",
				"TOKENOMICS_SERVER=x",
				"TOKENOMICS_SERVER_TLS=x",
				"TOKENOMICS_PROVIDERS_OPENAI_UPSTREAM_URL=x",
				"TOKENOMICS_EVENTS_WEBHOOKS=x",
				"TOKENOMICS_CLI_MAPS=x",
				"tokenomics_server_http_port=1",
			},
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, 8080, c.Server.HTTPPort)
				assert.Equal(t, "http://config-server:9090", c.Remote.URL)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load("testdata/proxy-config.yaml", LoadOptions{Environ: tc.env})
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func TestEnvOverrideBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   string
		field string
	}{
		{name: "int", env: "TOKENOMICS_SERVER_HTTP_PORT=abc", field: "server.http_port"},
		{name: "int64", env: "TOKENOMICS_SERVER_MAX_BODY_BYTES=10MB", field: "server.max_body_bytes"},
		{name: "bool", env: "TOKENOMICS_REMOTE_INSECURE=sure", field: "remote.insecure"},
		{name: "duration", env: "TOKENOMICS_SESSION_PERSIST_INTERVAL=often", field: "session.persist_interval"},
		{name: "int range", env: "TOKENOMICS_REMOTE_SYNC=99999999999999999999", field: "remote.sync"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load("testdata/proxy-config.yaml", LoadOptions{Environ: []string{tc.env}})
			fe := findField(t, err, tc.field)
			name, _, _ := strings.Cut(tc.env, "=")
			assert.Equal(t, name, fe.Env)
			assert.Contains(t, fe.Error(), name, "the message names the variable")
		})
	}
}

func TestEnvOverrideNames(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	for _, o := range EnvOverrides() {
		got[o[0]] = o[1]
	}
	for name, path := range map[string]string{
		"TOKENOMICS_SERVER_HTTP_PORT":           "server.http_port",
		"TOKENOMICS_SERVER_TLS_CERT_DIR":        "server.tls.cert_dir",
		"TOKENOMICS_SESSION_REDIS_ADDR":         "session.redis.addr",
		"TOKENOMICS_SECURITY_HASH_KEY_ENV":      "security.hash_key_env",
		"TOKENOMICS_REMOTE_WEBHOOK_SIGNING_KEY": "remote.webhook.signing_key",
		"TOKENOMICS_EVENTS_QUEUE_SIZE":          "events.queue_size",
		"TOKENOMICS_MEMORY_ALLOWED_DIRS":        "memory.allowed_dirs",
	} {
		assert.Equal(t, path, got[name], name)
	}
	for _, absent := range []string{"TOKENOMICS_HASH_KEY", "TOKENOMICS_REMOTE_KEY", "TOKENOMICS_ENCRYPTION_KEY", "TOKENOMICS_CLI_MAPS", "TOKENOMICS_EVENTS_WEBHOOKS"} {
		assert.NotContains(t, got, absent)
	}
}
