package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefault(t *testing.T) {
	t.Parallel()
	c := Default()
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "server.host", got: c.Server.Host, want: ""},
		{name: "server.http_port", got: c.Server.HTTPPort, want: 8080},
		{name: "server.https_port", got: c.Server.HTTPSPort, want: 0},
		{name: "server.upstream_url", got: c.Server.UpstreamURL, want: "https://api.openai.com"},
		{name: "server.tls", got: c.Server.TLS, want: TLSConfig{CertDir: "./certs"}},
		{name: "server.max_body_bytes", got: c.Server.MaxBodyBytes, want: int64(10 << 20)},
		{name: "server.shutdown_timeout", got: c.Server.ShutdownTimeout, want: Duration(30 * time.Second)},
		{name: "server.admin_addr", got: c.Server.AdminAddr, want: "127.0.0.1:0"},
		{name: "server.default_max_output_tokens", got: c.Server.DefaultMaxOutputTokens, want: int64(4096)},
		{name: "storage.db_path", got: c.Storage.DBPath, want: "./tokenomics.db"},
		{name: "session", got: c.Session, want: SessionConfig{
			Backend: "memory", FailMode: "closed", PersistInterval: Duration(10 * time.Second), LeaseTTL: Duration(2 * time.Minute),
			Redis: RedisConfig{Addr: "127.0.0.1:6379", Timeout: Duration(200 * time.Millisecond)},
		}},
		{name: "security", got: c.Security, want: SecurityConfig{HashKeyEnv: "TOKENOMICS_HASH_KEY"}},
		{name: "logging", got: c.Logging, want: LoggingConfig{Level: "info", Format: "text"}},
		{name: "remote", got: c.Remote, want: RemoteConfig{
			Sync: 300, FleetInterval: Duration(15 * time.Second), Webhook: WebhookReceiver{Path: "/v1/webhook", MaxSkew: Duration(5 * time.Minute)},
		}},
		{name: "events", got: c.Events, want: EventsConfig{QueueSize: 1024, Receiver: EventReceiver{Path: "/webhook", Retention: DefaultEventRetention, MaxSkew: DefaultWebhookMaxSkew}}},
		{name: "cli_maps", got: c.CLIMaps, want: map[string]string(nil)},
		{name: "memory", got: c.Memory.AllowedDirs, want: []string{"/var/log/tokenomics", "./memory"}},
		{name: "plugins", got: c.Plugins, want: PluginsConfig{Dir: "./plugins", CacheDir: "./cache/wasm"}},
		{name: "providers", got: providerNames(c), want: []string{"openai", "anthropic", "groq", "mistral", "generic"}},
		{name: "path", got: c.Path, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.got)
		})
	}
}

func TestBuiltinProviders(t *testing.T) {
	t.Parallel()
	want := []Provider{
		{Name: "openai", UpstreamURL: "https://api.openai.com", APIKeyEnv: "OPENAI_API_KEY", AuthScheme: "bearer",
			AuthHeader: "Authorization", ChatPath: "/v1/chat/completions", Format: "openai"},
		{Name: "anthropic", UpstreamURL: "https://api.anthropic.com", APIKeyEnv: "ANTHROPIC_API_KEY", AuthScheme: "header",
			AuthHeader: "x-api-key", Headers: map[string]string{"anthropic-version": "2023-06-01"},
			ChatPath: "/v1/messages", Format: "anthropic"},
		{Name: "groq", UpstreamURL: "https://api.groq.com/openai", APIKeyEnv: "GROQ_API_KEY", AuthScheme: "bearer",
			AuthHeader: "Authorization", ChatPath: "/v1/chat/completions", Format: "openai"},
		{Name: "mistral", UpstreamURL: "https://api.mistral.ai", APIKeyEnv: "MISTRAL_API_KEY", AuthScheme: "bearer",
			AuthHeader: "Authorization", ChatPath: "/v1/chat/completions", Format: "openai"},
		{Name: "generic", APIKeyEnv: "OPENAI_API_KEY", AuthScheme: "bearer",
			AuthHeader: "Authorization", ChatPath: "/v1/chat/completions", Format: "openai"},
	}
	got := BuiltinProviders()
	assert.Equal(t, want, got)

	// Each call is a fresh copy: callers may edit theirs.
	got[1].Headers["anthropic-version"] = "x"
	assert.Equal(t, "2023-06-01", BuiltinProviders()[1].Headers["anthropic-version"])

	c := Default()
	c.Server.UpstreamURL = "https://llm.internal"
	c.Providers = BuiltinProviders()
	c.SetDefaults()
	generic, _ := c.Provider("generic")
	assert.Equal(t, "https://llm.internal", generic.UpstreamURL)
}

func TestSetDefaultsKeepsValuesAndIsIdempotent(t *testing.T) {
	t.Parallel()
	c := &Config{
		Server:  ServerConfig{HTTPPort: 9000, AdminAddr: "127.0.0.1:9091"},
		Session: SessionConfig{Backend: "REDIS", FailMode: "Open"},
		Logging: LoggingConfig{Level: "WARN"},
		Memory:  MemoryConfig{AllowedDirs: []string{}},
		Events:  EventsConfig{Webhooks: []WebhookTarget{{URL: "http://a"}, {URL: "http://b", Timeout: 3}}},
	}
	c.SetDefaults()
	assert.Equal(t, 9000, c.Server.HTTPPort)
	assert.Equal(t, "127.0.0.1:9091", c.Server.AdminAddr)
	assert.Equal(t, BackendRedis, c.Session.Backend)
	assert.Equal(t, FailOpen, c.Session.FailMode)
	assert.Equal(t, "warn", c.Logging.Level)
	assert.Empty(t, c.Memory.AllowedDirs, "an explicit empty list is kept")
	assert.Equal(t, 10, c.Events.Webhooks[0].Timeout)
	assert.Equal(t, 3, c.Events.Webhooks[1].Timeout)

	again := *c
	again.SetDefaults()
	assert.Equal(t, *c, again)
}

func TestExplicitZeroHTTPPort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		config   string
		wantPort int
		wantErr  string
	}{
		{name: "absent gets the default", config: "server:\n  https_port: 8443\n  tls: {enabled: true}\n", wantPort: 8080},
		{name: "null gets the default", config: "server:\n  http_port:\n", wantPort: 8080},
		{name: "zero with https is https only", config: "server:\n  http_port: 0\n  https_port: 8443\n  tls: {enabled: true}\n", wantPort: 0},
		{name: "zero without https is an error", config: "server:\n  http_port: 0\n", wantErr: "server.http_port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(writeConfig(t, tc.config, ""), LoadOptions{Environ: noEnv})
			if tc.wantErr != "" {
				findField(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantPort, c.Server.HTTPPort)
		})
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	require.NoError(t, err)
	c := Default()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "data dir of default", got: c.DataDir(), want: "."},
		{name: "relative", got: c.Abs("./certs"), want: filepath.Join(wd, "certs")},
		{name: "absolute", got: c.Abs("/var/lib/../lib/t.db"), want: "/var/lib/t.db"},
		{name: "data dir of nested", got: (&Config{Storage: StorageConfig{DBPath: "data/db/t.db"}}).DataDir(), want: "data/db"},
		{name: "relative paths stay as written", got: c.Plugins.Dir, want: "./plugins"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.got)
		})
	}
}
