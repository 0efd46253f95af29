package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func providerNames(c *Config) []string {
	var names []string
	for _, p := range c.Providers {
		names = append(names, p.Name)
	}
	return names
}

func TestLoadCompatFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		path  string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "central-config",
			path: "testdata/central-config.yaml",
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, "./tokenomics.db", c.Storage.DBPath)
				assert.Equal(t, "TOKENOMICS_HASH_KEY", c.Security.HashKeyEnv)
				assert.Equal(t, "TOKENOMICS_ENCRYPTION_KEY", c.Security.EncryptionKeyEnv)
				assert.Equal(t, LoggingConfig{Level: "info", Format: "json"}, c.Logging)
				require.Len(t, c.Events.Webhooks, 1)
				assert.Equal(t, WebhookTarget{
					URL:        "https://proxy.internal:8443/v1/webhook",
					Secret:     "change-me-webhook-secret",
					SigningKey: "change-me-signing-key",
					Events:     []string{"token.*"},
					Timeout:    10,
				}, c.Events.Webhooks[0])
				// No server section: defaults.
				assert.Equal(t, 8080, c.Server.HTTPPort)
				assert.Equal(t, 0, c.Server.HTTPSPort)
				assert.Empty(t, c.Remote.URL)
			},
		},
		{
			name: "proxy-config",
			path: "testdata/proxy-config.yaml",
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, 8080, c.Server.HTTPPort)
				assert.Equal(t, 8443, c.Server.HTTPSPort)
				assert.Equal(t, "https://api.openai.com", c.Server.UpstreamURL)
				assert.Equal(t, TLSConfig{Enabled: true, AutoGen: true, CertDir: "./certs"}, c.Server.TLS)
				assert.Equal(t, BackendMemory, c.Session.Backend)
				assert.Equal(t, "json", c.Logging.Format)
				assert.Equal(t, RemoteConfig{
					URL:    "http://config-server:9090",
					APIKey: "change-me-to-match-remote-server",
					Sync:   300, FleetInterval: DefaultFleetInterval,
					Webhook: WebhookReceiver{
						Enabled:    true,
						Path:       "/v1/webhook",
						Secret:     "change-me-webhook-secret",
						SigningKey: "change-me-signing-key",
						MaxSkew:    Duration(5 * time.Minute),
					},
				}, c.Remote)
				assert.Equal(t, "change-me-to-match-remote-server", c.RemoteAPIKey())
				require.Len(t, c.Events.Webhooks, 1)
				assert.Equal(t, "http://localhost:9090/webhook", c.Events.Webhooks[0].URL)
				assert.Empty(t, c.Events.Webhooks[0].Events, "no events = all events")
				assert.Equal(t, map[string]string{
					"claude": "anthropic", "anthropic": "anthropic", "cursor": "openai",
					"python": "generic", "node": "generic",
				}, c.CLIMaps)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tc.path, LoadOptions{Environ: noEnv, Required: true})
			require.NoError(t, err)
			assert.Equal(t, tc.path, c.Path)
			assert.Equal(t, filepath.Join("testdata", ProvidersFile), c.ProvidersPath)
			tc.check(t, c)

			// providers.yaml beside the config file, merged with built-ins.
			assert.Equal(t, []string{"openai", "anthropic", "groq", "mistral", "generic"}, providerNames(c))
			openai, ok := c.Provider("openai")
			require.True(t, ok)
			assert.Equal(t, Provider{
				Name: "openai", UpstreamURL: "https://api.openai.com", APIKeyEnv: "OPENAI_API_KEY",
				AuthScheme: AuthBearer, AuthHeader: "Authorization", ChatPath: DefaultChatPath,
				Format: FormatOpenAI, Models: []string{"gpt-4o", "gpt-4o-mini", "o3-mini", "o4-mini"},
			}, openai)
			anthropic, ok := c.Provider("anthropic")
			require.True(t, ok)
			assert.Equal(t, Provider{
				Name: "anthropic", UpstreamURL: "https://api.anthropic.com", APIKeyEnv: "ANTHROPIC_API_KEY",
				AuthScheme: AuthHeader, AuthHeader: "x-api-key",
				Headers:  map[string]string{"anthropic-version": "2023-06-01"},
				ChatPath: AnthropicChatPath, Format: FormatAnthropic,
				Models: []string{"claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5"},
			}, anthropic)
			groq, _ := c.Provider("groq")
			assert.Equal(t, "https://api.groq.com/openai", groq.UpstreamURL)
			assert.Equal(t, []string{"llama-3.3-70b-versatile", "llama-3.1-8b-instant"}, groq.Models)
			mistral, _ := c.Provider("mistral")
			assert.Equal(t, "MISTRAL_API_KEY", mistral.APIKeyEnv)
			generic, ok := c.Provider("generic")
			require.True(t, ok)
			assert.Equal(t, c.Server.UpstreamURL, generic.UpstreamURL)
			assert.Equal(t, "OPENAI_API_KEY", generic.APIKeyEnv)
		})
	}
}

// TestCompatFilesUnchanged keeps testdata identical to the user's example,
// which must load unchanged.
func TestCompatFilesUnchanged(t *testing.T) {
	t.Parallel()
	const shared = "/work/shared/compat/distributed-team"
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("compat originals not present: %v", err)
	}
	for _, name := range []string{"central-config.yaml", "proxy-config.yaml", "providers.yaml"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(filepath.Join(shared, name))
			require.NoError(t, err)
			got, err := os.ReadFile(filepath.Join("testdata", name))
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "config.yaml")
	tests := []struct {
		name     string
		path     string
		opts     LoadOptions
		wantErr  error
		wantPath string
	}{
		{name: "missing not required gives defaults", path: missing},
		{name: "empty path gives defaults", path: ""},
		{name: "missing required", path: missing, opts: LoadOptions{Required: true}, wantErr: fs.ErrNotExist},
		{name: "empty path required", path: "", opts: LoadOptions{Required: true}, wantErr: ErrNoConfigPath},
		{
			name: "explicit providers path missing", path: missing,
			opts: LoadOptions{ProvidersPath: filepath.Join(dir, "nope.yaml")}, wantErr: fs.ErrNotExist,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.Environ = noEnv
			c, err := Load(tc.path, tc.opts)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Nil(t, c)
				return
			}
			require.NoError(t, err)
			assert.Empty(t, c.Path)
			assert.Empty(t, c.ProvidersPath)
			want := Default()
			want.env, want.set = c.env, c.set
			assert.Equal(t, want, c)
		})
	}
}

func TestLoadEmptyDocuments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, config, providers string }{
		{name: "empty", config: "", providers: ""},
		{name: "comments only", config: "# nothing\n# here\n", providers: "# none\n"},
		{name: "explicit null", config: "~\n", providers: "~\n"},
		{name: "document marker", config: "---\n", providers: "---\n"},
		{name: "null sections", config: "server:\nstorage:\nevents:\n", providers: "providers:\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, tc.config, tc.providers)
			c, err := Load(path, LoadOptions{Environ: noEnv})
			require.NoError(t, err)
			assert.Equal(t, DefaultHTTPPort, c.Server.HTTPPort)
			assert.Equal(t, BuiltinProviders()[0].Name, c.Providers[0].Name)
		})
	}
}

func TestProvidersOrderAndOverride(t *testing.T) {
	t.Parallel()
	const providers = `
providers:
  groq:
    upstream_url: https://groq.example/openai
    api_key_env: MY_GROQ_KEY
  local:
    upstream_url: http://127.0.0.1:11434
    auth_scheme: none
    models: [llama3]
  openai:
    upstream_url: https://openai.example
    api_key_env: OTHER_OPENAI_KEY
  gemini:
    upstream_url: https://generativelanguage.googleapis.com
    api_key_env: GEMINI_KEY
    auth_scheme: query
  claude-proxy:
    upstream_url: https://claude.example
    api_key_env: CLAUDE_KEY
    auth_scheme: header
    chat_path: /v1/messages
  generic:
    api_key_env: GENERIC_KEY
`
	path := writeConfig(t, "server:\n  upstream_url: https://llm.internal\n", "")
	provPath := filepath.Join(filepath.Dir(path), "custom-providers.yaml")
	require.NoError(t, os.WriteFile(provPath, []byte(providers), 0o600))

	c, err := Load(path, LoadOptions{Environ: noEnv, ProvidersPath: provPath})
	require.NoError(t, err)
	assert.Equal(t, provPath, c.ProvidersPath)
	assert.Equal(t,
		[]string{"groq", "local", "openai", "gemini", "claude-proxy", "generic", "anthropic", "mistral"},
		providerNames(c))

	tests := []struct {
		name string
		want Provider
	}{
		{name: "groq", want: Provider{
			Name: "groq", UpstreamURL: "https://groq.example/openai", APIKeyEnv: "MY_GROQ_KEY",
			AuthScheme: AuthBearer, AuthHeader: "Authorization", ChatPath: DefaultChatPath, Format: FormatOpenAI,
		}},
		{name: "local", want: Provider{
			Name: "local", UpstreamURL: "http://127.0.0.1:11434", AuthScheme: AuthNone,
			ChatPath: DefaultChatPath, Format: FormatOpenAI, Models: []string{"llama3"},
		}},
		// Replaced whole: the built-in's models do not leak in.
		{name: "openai", want: Provider{
			Name: "openai", UpstreamURL: "https://openai.example", APIKeyEnv: "OTHER_OPENAI_KEY", AuthScheme: AuthBearer,
			AuthHeader: "Authorization", ChatPath: DefaultChatPath, Format: FormatOpenAI,
		}},
		{name: "gemini", want: Provider{
			Name: "gemini", UpstreamURL: "https://generativelanguage.googleapis.com", APIKeyEnv: "GEMINI_KEY",
			AuthScheme: AuthQuery, AuthQuery: "key", ChatPath: DefaultChatPath, Format: FormatOpenAI,
		}},
		{name: "claude-proxy", want: Provider{
			Name: "claude-proxy", UpstreamURL: "https://claude.example", APIKeyEnv: "CLAUDE_KEY",
			AuthScheme: AuthHeader, AuthHeader: "x-api-key", ChatPath: AnthropicChatPath, Format: FormatAnthropic,
		}},
		{name: "generic", want: Provider{
			Name: "generic", UpstreamURL: "https://llm.internal", APIKeyEnv: "GENERIC_KEY",
			AuthScheme: AuthBearer, AuthHeader: "Authorization", ChatPath: DefaultChatPath, Format: FormatOpenAI,
		}},
		{name: "anthropic", want: BuiltinProviders()[1]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := c.Provider(tc.name)
			require.True(t, ok)
			assert.Equal(t, tc.want, got)
		})
	}
	_, ok := c.Provider("nope")
	assert.False(t, ok)

	// Replaced whole: without its own api_key_env the file's openai has
	// none, and bearer auth needs one.
	path = writeConfig(t, "", "providers:\n  openai:\n    upstream_url: https://openai.example\n")
	_, err = Load(path, LoadOptions{Environ: noEnv})
	findField(t, err, "providers.openai.api_key_env")
}

func TestLoadDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		config    string
		providers string
		field     string
		line      int
		file      string // "config" or "providers"
		mention   string // the message must name this
	}{
		{name: "unknown top-level key", config: "serverr:\n  http_port: 1\n", field: "serverr", line: 1, file: "config", mention: `"serverr"`},
		{name: "unknown nested key", config: "server:\n  http_port: 80\n  htp_port: 1\n", field: "server.htp_port", line: 3, file: "config", mention: `"htp_port"`},
		{name: "unknown deep key", config: "remote:\n  webhook:\n    secrett: x\n", field: "remote.webhook.secrett", line: 3, file: "config", mention: `"secrett"`},
		{name: "unknown key in list item", config: "events:\n  webhooks:\n    - url: http://a\n      urll: x\n", field: "events.webhooks[0].urll", line: 4, file: "config", mention: `"urll"`},
		{name: "providers in config file", config: "providers:\n  x: {}\n", field: "providers", line: 1, file: "config", mention: "providers.yaml"},
		{name: "unknown provider key", providers: "providers:\n  openai:\n    upstream: https://x\n", field: "providers.openai.upstream", line: 3, file: "providers", mention: `"upstream"`},
		{name: "unknown providers top key", providers: "provider:\n  openai: {}\n", field: "provider", line: 1, file: "providers", mention: `"provider"`},
		{name: "name is not a provider key", providers: "providers:\n  x:\n    name: y\n", field: "providers.x.name", line: 3, file: "providers", mention: `"name"`},
		{name: "duplicate key", config: "logging:\n  level: info\n  level: debug\n", field: "logging.level", line: 3, file: "config", mention: "duplicate"},
		{name: "duplicate provider", providers: "providers:\n  a: {}\n  a: {}\n", field: "providers.a", line: 3, file: "providers", mention: "duplicate"},
		{name: "int from text", config: "server:\n  http_port: abc\n", field: "server.http_port", line: 2, file: "config", mention: "integer"},
		{name: "int quoted", config: "server:\n  http_port: \"8080\"\n", field: "server.http_port", line: 2, file: "config", mention: "quoted"},
		{name: "bool from text", config: "logging:\n  hide_token_hash: maybe\n", field: "logging.hide_token_hash", line: 2, file: "config", mention: "true or false"},
		{name: "int overflow", config: "server:\n  http_port: 99999999999999999999999\n", field: "server.http_port", line: 2, file: "config", mention: "integer"},
		{name: "bad duration", config: "server:\n  shutdown_timeout: soon\n", field: "server.shutdown_timeout", line: 2, file: "config", mention: "soon"},
		{name: "mapping for scalar", config: "storage:\n  db_path:\n    a: b\n", field: "storage.db_path", line: 3, file: "config", mention: "mapping"},
		{name: "scalar for struct", config: "server: 8080\n", field: "server", line: 1, file: "config", mention: "mapping"},
		{name: "scalar for list", config: "memory:\n  allowed_dirs: /tmp\n", field: "memory.allowed_dirs", line: 2, file: "config", mention: "list"},
		{name: "list for map", config: "cli_maps: [a, b]\n", field: "cli_maps", line: 1, file: "config", mention: "mapping"},
		{name: "root not a mapping", config: "- a\n- b\n", field: "", line: 1, file: "config", mention: "mapping"},
		{name: "providers not a mapping", providers: "providers: [openai]\n", field: "providers", line: 1, file: "providers", mention: "mapping"},
		{name: "list key", config: "? [a]\n: b\n", field: "", line: 1, file: "config", mention: "key"},
		{name: "bad merge value", config: "server:\n  <<: 5\n", field: "server", line: 2, file: "config", mention: "merge"},
		{name: "unterminated variable", config: "storage:\n  db_path: ${DB\n", field: "storage.db_path", line: 2, file: "config", mention: "unterminated"},
		{name: "bad variable name", config: "storage:\n  db_path: ${1X}\n", field: "storage.db_path", line: 2, file: "config", mention: "1X"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, tc.config, tc.providers)
			_, err := Load(path, LoadOptions{Environ: noEnv})
			require.Error(t, err)
			fe := findField(t, err, tc.field)
			assert.Equal(t, tc.line, fe.Line, "line")
			want := path
			if tc.file == "providers" {
				want = filepath.Join(filepath.Dir(path), ProvidersFile)
			}
			assert.Equal(t, want, fe.File)
			// The requirement is a message a user can act on: it must name
			// the offending key or problem.
			assert.Contains(t, fe.Error(), tc.mention)
		})
	}
}

func TestLoadCollectsAllDecodeErrors(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "server:\n  htp_port: 1\n  https_port: x\nlogging:\n  lvl: info\n",
		"providers:\n  a:\n    bogus: 1\n")
	_, err := Load(path, LoadOptions{Environ: []string{"TOKENOMICS_SERVER_HTTP_PORT=abc"}})
	assert.ElementsMatch(t,
		[]string{"server.htp_port", "server.https_port", "logging.lvl", "providers.a.bogus", "server.http_port"},
		fieldsOfErr(err))
}

func TestLoadParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config string
	}{
		{name: "syntax", config: "server:\n  http_port: [1\n"},
		{name: "tab indentation", config: "server:\n\thttp_port: 1\n"},
		{name: "unknown anchor", config: "server: *nope\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, tc.config, "")
			_, err := Load(path, LoadOptions{Environ: noEnv})
			require.Error(t, err)
			assert.Contains(t, err.Error(), path, "a parse error names the file")
		})
	}

	t.Run("second document", func(t *testing.T) {
		t.Parallel()
		path := writeConfig(t, "server: {}\n---\nserver: {}\n", "")
		_, err := Load(path, LoadOptions{Environ: noEnv})
		var fe *FieldError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, 2, fe.Line, "the line of the second ---")
	})
}

func TestLoadAnchorsAndMerge(t *testing.T) {
	t.Parallel()
	const providers = `
x-base: &base
  api_key_env: SHARED_KEY
  timeout: 30
providers:
  a:
    <<: *base
    upstream_url: https://a.example
  b:
    <<: [{timeout: 5}, *base]
    upstream_url: https://b.example
`
	// x-base is not a providers.yaml key, so it must be rejected...
	path := writeConfig(t, "", providers)
	_, err := Load(path, LoadOptions{Environ: noEnv})
	findField(t, err, "x-base")

	// ...while anchors defined inside known keys work.
	const ok = `
providers:
  a: &a
    api_key_env: SHARED_KEY
    upstream_url: https://a.example
    timeout: 30
  b:
    <<: [{timeout: 5}, *a]
    upstream_url: https://b.example
  c: *a
`
	path = writeConfig(t, "server:\n  http_port: &p 9000\nremote:\n  sync: *p\n", ok)
	c, err := Load(path, LoadOptions{Environ: noEnv})
	require.NoError(t, err)
	assert.Equal(t, 9000, c.Server.HTTPPort)
	assert.Equal(t, 9000, c.Remote.Sync)
	b, _ := c.Provider("b")
	assert.Equal(t, "https://b.example", b.UpstreamURL, "explicit key beats merged")
	assert.Equal(t, 5, b.Timeout, "earlier merged mapping beats later")
	assert.Equal(t, "SHARED_KEY", b.APIKeyEnv)
	cc, _ := c.Provider("c")
	assert.Equal(t, "https://a.example", cc.UpstreamURL)
}

func TestLoadAliasBomb(t *testing.T) {
	t.Parallel()
	// Merge keys are the one place where aliases re-walk mappings: each
	// level merges the previous one ten times, 10^12 pairs if expanded.
	var b strings.Builder
	b.WriteString("providers:\n  p0: &p0 {upstream_url: https://x.example, api_key_env: K}\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "  p%d: &p%d {<<: [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*p%d", i-1)
		}
		b.WriteString("]}\n")
	}
	path := writeConfig(t, "", b.String())
	done := make(chan error, 1)
	go func() {
		_, err := Load(path, LoadOptions{Environ: noEnv})
		done <- err
	}()
	select {
	case err := <-done:
		require.Error(t, err)
		var found bool
		for _, fe := range fieldErrors(err) {
			found = found || strings.Contains(fe.Msg, "too large")
		}
		assert.True(t, found, "want the node budget error, got %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("alias expansion not bounded")
	}
}

func TestLoadReadError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Load(dir, LoadOptions{Environ: noEnv})
	require.Error(t, err)
	assert.False(t, errors.Is(err, fs.ErrNotExist))
}
