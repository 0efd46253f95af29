package config

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateDefaultsAreValid(t *testing.T) {
	t.Parallel()
	require.NoError(t, Default().Validate())
}

func TestValidateFieldNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(c *Config)
		field  string
	}{
		{name: "http port too high", mutate: func(c *Config) { c.Server.HTTPPort = 70000 }, field: "server.http_port"},
		{name: "http port negative", mutate: func(c *Config) { c.Server.HTTPPort = -1 }, field: "server.http_port"},
		{name: "http port zero without https", mutate: func(c *Config) { c.Server.HTTPPort = 0 }, field: "server.http_port"},
		{name: "https port too high", mutate: func(c *Config) { c.Server.HTTPSPort = 65536; c.Server.TLS.Enabled = true }, field: "server.https_port"},
		{name: "https port equals http", mutate: func(c *Config) { c.Server.HTTPSPort = 8080; c.Server.TLS.Enabled = true }, field: "server.https_port"},
		{name: "https without tls", mutate: func(c *Config) { c.Server.HTTPSPort = 8443 }, field: "server.tls.enabled"},
		{name: "tls without https port", mutate: func(c *Config) { c.Server.TLS.Enabled = true }, field: "server.https_port"},
		{name: "key file without cert", mutate: func(c *Config) { c.Server.TLS.KeyFile = "k.pem" }, field: "server.tls.cert_file"},
		{name: "cert file without key", mutate: func(c *Config) { c.Server.TLS.CertFile = "c.pem" }, field: "server.tls.key_file"},
		{name: "host with port", mutate: func(c *Config) { c.Server.Host = "0.0.0.0:8080" }, field: "server.host"},
		{name: "upstream url scheme", mutate: func(c *Config) { c.Server.UpstreamURL = "ftp://x" }, field: "server.upstream_url"},
		{name: "upstream url no host", mutate: func(c *Config) { c.Server.UpstreamURL = "https://" }, field: "server.upstream_url"},
		{name: "upstream url unparsable", mutate: func(c *Config) { c.Server.UpstreamURL = "http://a b\x7f" }, field: "server.upstream_url"},
		{name: "upstream url empty", mutate: func(c *Config) { c.Server.UpstreamURL = "" }, field: "server.upstream_url"},
		{name: "max body", mutate: func(c *Config) { c.Server.MaxBodyBytes = -1 }, field: "server.max_body_bytes"},
		{name: "shutdown timeout", mutate: func(c *Config) { c.Server.ShutdownTimeout = -1 }, field: "server.shutdown_timeout"},
		{name: "admin all interfaces", mutate: func(c *Config) { c.Server.AdminAddr = ":9091" }, field: "server.admin_addr"},
		{name: "admin public ip", mutate: func(c *Config) { c.Server.AdminAddr = "10.0.0.1:9091" }, field: "server.admin_addr"},
		{name: "admin no port", mutate: func(c *Config) { c.Server.AdminAddr = "127.0.0.1" }, field: "server.admin_addr"},
		{name: "default max output", mutate: func(c *Config) { c.Server.DefaultMaxOutputTokens = -5 }, field: "server.default_max_output_tokens"},
		{name: "db path", mutate: func(c *Config) { c.Storage.DBPath = "" }, field: "storage.db_path"},
		{name: "backend", mutate: func(c *Config) { c.Session.Backend = "etcd" }, field: "session.backend"},
		{name: "fail mode", mutate: func(c *Config) { c.Session.FailMode = "maybe" }, field: "session.fail_mode"},
		{name: "persist interval", mutate: func(c *Config) { c.Session.PersistInterval = -1 }, field: "session.persist_interval"},
		{name: "redis addr", mutate: func(c *Config) { c.Session.Backend = BackendRedis; c.Session.Redis.Addr = "redis" }, field: "session.redis.addr"},
		{name: "redis db", mutate: func(c *Config) { c.Session.Redis.DB = -1 }, field: "session.redis.db"},
		{name: "redis timeout", mutate: func(c *Config) { c.Session.Redis.Timeout = -1 }, field: "session.redis.timeout"},
		{name: "redis password env", mutate: func(c *Config) { c.Session.Redis.PasswordEnv = "hunter2!" }, field: "session.redis.password_env"},
		{name: "hash key env empty", mutate: func(c *Config) { c.Security.HashKeyEnv = "" }, field: "security.hash_key_env"},
		{name: "hash key env holds a key", mutate: func(c *Config) { c.Security.HashKeyEnv = "s3cr3t-k3y=" }, field: "security.hash_key_env"},
		{name: "encryption key env", mutate: func(c *Config) { c.Security.EncryptionKeyEnv = "a b" }, field: "security.encryption_key_env"},
		{name: "console idle timeout", mutate: func(c *Config) { c.Console.IdleTimeout = Duration(time.Second) }, field: "console.idle_timeout"},
		{name: "console max session", mutate: func(c *Config) { c.Console.MaxSession = Duration(30 * time.Second) }, field: "console.max_session"},
		{name: "console max session below idle", mutate: func(c *Config) {
			c.Console.IdleTimeout = Duration(time.Hour)
			c.Console.MaxSession = Duration(30 * time.Minute)
		}, field: "console.max_session"},
		{name: "log level", mutate: func(c *Config) { c.Logging.Level = "verbose" }, field: "logging.level"},
		{name: "log format", mutate: func(c *Config) { c.Logging.Format = "xml" }, field: "logging.format"},
		{name: "remote url", mutate: func(c *Config) { c.Remote.URL = "config-server:9090" }, field: "remote.url"},
		{name: "remote api key env", mutate: func(c *Config) { c.Remote.APIKeyEnv = "1KEY" }, field: "remote.api_key_env"},
		{name: "remote sync", mutate: func(c *Config) { c.Remote.Sync = -1 }, field: "remote.sync"},
		{name: "webhook path", mutate: func(c *Config) { c.Remote.Webhook.Path = "v1/webhook" }, field: "remote.webhook.path"},
		{name: "webhook max skew", mutate: func(c *Config) { c.Remote.Webhook.MaxSkew = -1 }, field: "remote.webhook.max_skew"},
		{name: "webhook without secret", mutate: func(c *Config) {
			c.Remote.URL = "http://central"
			c.Remote.Webhook.Enabled = true
		}, field: "remote.webhook.signing_key"},
		{name: "webhook without remote", mutate: func(c *Config) {
			c.Remote.Webhook.Enabled = true
			c.Remote.Webhook.Secret = "s"
		}, field: "remote.url"},
		{name: "queue size", mutate: func(c *Config) { c.Events.QueueSize = -1 }, field: "events.queue_size"},
		{name: "event webhook url", mutate: func(c *Config) {
			c.Events.Webhooks = []WebhookTarget{{URL: "http://ok", Timeout: 1}, {URL: "mailto:x@y", Timeout: 1}}
		}, field: "events.webhooks[1].url"},
		{name: "event webhook url missing", mutate: func(c *Config) { c.Events.Webhooks = []WebhookTarget{{Timeout: 1}} }, field: "events.webhooks[0].url"},
		{name: "event webhook timeout", mutate: func(c *Config) { c.Events.Webhooks = []WebhookTarget{{URL: "http://ok", Timeout: -1}} }, field: "events.webhooks[0].timeout"},
		{name: "event webhook event name", mutate: func(c *Config) {
			c.Events.Webhooks = []WebhookTarget{{URL: "http://ok", Timeout: 1, Events: []string{"token.*", " "}}}
		}, field: "events.webhooks[0].events[1]"},
		{name: "cli map to unknown provider", mutate: func(c *Config) { c.CLIMaps = map[string]string{"claude": "claud"} }, field: "cli_maps.claude"},
		{name: "allowed dir empty", mutate: func(c *Config) { c.Memory.AllowedDirs = []string{"./m", ""} }, field: "memory.allowed_dirs[1]"},
		{name: "plugins dir", mutate: func(c *Config) { c.Plugins.Dir = "" }, field: "plugins.dir"},
		{name: "plugins cache dir", mutate: func(c *Config) { c.Plugins.CacheDir = "" }, field: "plugins.cache_dir"},
		{name: "trusted key", mutate: func(c *Config) { c.Plugins.TrustedKeys = []string{hexKey, "abc"} }, field: "plugins.trusted_keys[1]"},
		{name: "provider upstream", mutate: func(c *Config) { c.Providers[1].UpstreamURL = "api.anthropic.com" }, field: "providers.anthropic.upstream_url"},
		{name: "provider auth scheme", mutate: func(c *Config) { c.Providers[1].AuthScheme = "basic" }, field: "providers.anthropic.auth_scheme"},
		{name: "provider format", mutate: func(c *Config) { c.Providers[0].Format = "gemini" }, field: "providers.openai.format"},
		{name: "provider chat path", mutate: func(c *Config) { c.Providers[0].ChatPath = "v1/chat" }, field: "providers.openai.chat_path"},
		{name: "provider key env missing", mutate: func(c *Config) { c.Providers[2].APIKeyEnv = "" }, field: "providers.groq.api_key_env"},
		{name: "provider key env holds key", mutate: func(c *Config) { c.Providers[2].APIKeyEnv = "gsk-abc" }, field: "providers.groq.api_key_env"},
		{name: "provider auth header", mutate: func(c *Config) { c.Providers[1].AuthHeader = "x api key" }, field: "providers.anthropic.auth_header"},
		{name: "provider auth query", mutate: func(c *Config) { c.Providers[0].AuthScheme = AuthQuery }, field: "providers.openai.auth_query"},
		{name: "provider header name", mutate: func(c *Config) { c.Providers[0].Headers = map[string]string{"bad header": "v"} }, field: "providers.openai.headers"},
		{name: "provider header injection", mutate: func(c *Config) {
			c.Providers[1].Headers = map[string]string{"anthropic-version": "1\r\nX-Evil: 1"}
		}, field: "providers.anthropic.headers.anthropic-version"},
		{name: "provider model", mutate: func(c *Config) { c.Providers[3].Models = []string{""} }, field: "providers.mistral.models[0]"},
		{name: "provider timeout", mutate: func(c *Config) { c.Providers[3].Timeout = -1 }, field: "providers.mistral.timeout"},
		{name: "provider name", mutate: func(c *Config) { c.Providers[3].Name = "my provider" }, field: "providers.my provider"},
		{name: "provider name empty", mutate: func(c *Config) { c.Providers[3].Name = "" }, field: "providers[3]"},
		{name: "provider duplicate", mutate: func(c *Config) { c.Providers[3].Name = "openai" }, field: "providers.openai"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tc.mutate(c)
			err := c.Validate()
			require.Error(t, err)
			fe := findField(t, err, tc.field)
			assert.NotEmpty(t, fe.Msg)
			assert.Equal(t, "config: "+tc.field+": "+fe.Msg, fe.Error())
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(c *Config)
	}{
		{name: "https only", mutate: func(c *Config) {
			c.Server.HTTPPort, c.Server.HTTPSPort, c.Server.TLS.Enabled = 0, 8443, true
		}},
		{name: "admin on ipv6 loopback", mutate: func(c *Config) { c.Server.AdminAddr = "[::1]:9091" }},
		{name: "admin on localhost", mutate: func(c *Config) { c.Server.AdminAddr = "localhost:9091" }},
		{name: "admin on 127.0.0.2", mutate: func(c *Config) { c.Server.AdminAddr = "127.0.0.2:9091" }},
		{name: "ipv6 host", mutate: func(c *Config) { c.Server.Host = "::" }},
		{name: "upper case enums", mutate: func(c *Config) { c.Logging.Level, c.Logging.Format = "DEBUG", "JSON" }},
		{name: "redis", mutate: func(c *Config) { c.Session.Backend, c.Session.Redis.Addr = BackendRedis, "redis.internal:6379" }},
		{name: "auth none needs no key", mutate: func(c *Config) { c.Providers[0].AuthScheme, c.Providers[0].APIKeyEnv = AuthNone, "" }},
		{name: "explicit empty allowed dirs", mutate: func(c *Config) { c.Memory.AllowedDirs = []string{} }},
		{name: "webhook receiver", mutate: func(c *Config) {
			c.Remote.URL = "https://central.example"
			c.Remote.Webhook.Enabled, c.Remote.Webhook.SigningKey = true, "k"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tc.mutate(c)
			assert.NoError(t, c.Validate())
		})
	}
}

func TestValidateCollectsAll(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Server.HTTPPort = 0
	c.Logging.Level = "loud"
	c.Session.Backend = "disk"
	c.Events.Webhooks = []WebhookTarget{{URL: "nope", Timeout: 1}}
	err := c.Validate()
	assert.Equal(t,
		[]string{"server.http_port", "session.backend", "logging.level", "events.webhooks[0].url"},
		fieldsOfErr(err))
	var fe *FieldError
	assert.True(t, errors.As(err, &fe))
}

func TestValidateURLMessageHidesURL(t *testing.T) {
	t.Parallel()
	c := Default()
	const secretURL = "hooks.slack.com/services/T000/B000/XXXXSECRET"
	c.Events.Webhooks = []WebhookTarget{{URL: secretURL, Timeout: 1}}
	err := c.Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "XXXXSECRET")
}

func TestFieldErrorFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  FieldError
		want string
	}{
		{name: "field only", err: FieldError{Field: "server.http_port", Msg: "must be between 1 and 65535"},
			want: "config: server.http_port: must be between 1 and 65535"},
		{name: "file and line", err: FieldError{File: "config.yaml", Line: 3, Field: "server.htp_port", Msg: "unknown key"},
			want: "config: config.yaml:3: server.htp_port: unknown key"},
		{name: "environment", err: FieldError{Env: "TOKENOMICS_SERVER_HTTP_PORT", Field: "server.http_port", Msg: "bad"},
			want: "config: environment variable TOKENOMICS_SERVER_HTTP_PORT: server.http_port: bad"},
		{name: "whole file", err: FieldError{File: "config.yaml", Line: 4, Msg: "only one YAML document is allowed"},
			want: "config: config.yaml:4: only one YAML document is allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.err.Error())
		})
	}
}
