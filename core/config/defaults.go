package config

import (
	"strings"
	"time"
)

// Defaults of the fields that have one.
const (
	DefaultHTTPPort               = 8080
	DefaultUpstreamURL            = "https://api.openai.com"
	DefaultCertDir                = "./certs"
	DefaultMaxBodyBytes           = 10 << 20
	DefaultShutdownTimeout        = Duration(30 * time.Second)
	DefaultAdminAddr              = "127.0.0.1:0"
	DefaultMaxResponseBytes       = 32 << 20
	DefaultMaxOutputTokens        = 4096
	DefaultDBPath                 = "./tokenomics.db"
	DefaultPersistInterval        = Duration(10 * time.Second)
	DefaultLeaseTTL               = Duration(2 * time.Minute)
	DefaultRedisAddr              = "127.0.0.1:6379"
	DefaultRedisTimeout           = Duration(200 * time.Millisecond)
	DefaultHashKeyEnv             = "TOKENOMICS_HASH_KEY"
	DefaultLogLevel               = "info"
	DefaultLogFormat              = "text"
	DefaultSyncSeconds            = 300
	DefaultWebhookPath            = "/v1/webhook"
	DefaultWebhookMaxSkew         = Duration(5 * time.Minute)
	DefaultFleetInterval          = Duration(15 * time.Second)
	DefaultEventQueueSize         = 1024
	DefaultWebhookTimeoutSeconds  = 10
	DefaultPluginDir              = "./plugins"
	DefaultPluginCacheDir         = "./cache/wasm"
	defaultMemoryDirSystem        = "/var/log/tokenomics"
	defaultMemoryDirWorkingFolder = "./memory"
)

// DefaultAllowedDirs returns memory.allowed_dirs' default.
func DefaultAllowedDirs() []string {
	return []string{defaultMemoryDirSystem, defaultMemoryDirWorkingFolder}
}

// Default returns a Config with every default set and the built-in
// providers; it reads secrets from the process environment.
func Default() *Config {
	c := &Config{Providers: BuiltinProviders()}
	c.SetDefaults()
	return c
}

// SetDefaults fills every unset (zero) field with its default and
// lower-cases the enum fields. It is idempotent and does not add providers.
// server.http_port stays 0 when Load saw it written as 0 (HTTPS only).
func (c *Config) SetDefaults() {
	s := &c.Server
	if s.HTTPPort == 0 && !c.set["server.http_port"] {
		s.HTTPPort = DefaultHTTPPort
	}
	setString(&s.UpstreamURL, DefaultUpstreamURL)
	setString(&s.TLS.CertDir, DefaultCertDir)
	setInt(&s.MaxBodyBytes, DefaultMaxBodyBytes)
	setInt(&s.MaxResponseBytes, DefaultMaxResponseBytes)
	setInt(&s.ShutdownTimeout, DefaultShutdownTimeout)
	setString(&s.AdminAddr, DefaultAdminAddr)
	setInt(&s.DefaultMaxOutputTokens, DefaultMaxOutputTokens)

	setString(&c.Storage.DBPath, DefaultDBPath)
	c.Storage.Backend = strings.ToLower(c.Storage.Backend)
	setString(&c.Storage.Backend, StorageBolt)

	ss := &c.Session
	ss.Backend = strings.ToLower(ss.Backend)
	setString(&ss.Backend, BackendMemory)
	ss.FailMode = strings.ToLower(ss.FailMode)
	setString(&ss.FailMode, FailClosed)
	setInt(&ss.PersistInterval, DefaultPersistInterval)
	setInt(&ss.LeaseTTL, DefaultLeaseTTL)
	setString(&ss.Redis.Addr, DefaultRedisAddr)
	setInt(&ss.Redis.Timeout, DefaultRedisTimeout)

	setString(&c.Security.HashKeyEnv, DefaultHashKeyEnv)

	c.Logging.Level = strings.ToLower(c.Logging.Level)
	setString(&c.Logging.Level, DefaultLogLevel)
	c.Logging.Format = strings.ToLower(c.Logging.Format)
	setString(&c.Logging.Format, DefaultLogFormat)

	r := &c.Remote
	setInt(&r.Sync, DefaultSyncSeconds)
	setInt(&r.FleetInterval, DefaultFleetInterval)
	setString(&r.Webhook.Path, DefaultWebhookPath)
	setInt(&r.Webhook.MaxSkew, DefaultWebhookMaxSkew)

	setInt(&c.Events.QueueSize, DefaultEventQueueSize)
	for i := range c.Events.Webhooks {
		setInt(&c.Events.Webhooks[i].Timeout, DefaultWebhookTimeoutSeconds)
	}

	if c.Memory.AllowedDirs == nil {
		c.Memory.AllowedDirs = DefaultAllowedDirs()
	}

	setString(&c.Plugins.Dir, DefaultPluginDir)
	c.Console.setDefaults()
	setString(&c.Plugins.CacheDir, DefaultPluginCacheDir)

	for i := range c.Providers {
		c.Providers[i].setDefaults(s.UpstreamURL)
	}
	c.setObservabilityDefaults()
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

func setInt[T ~int | ~int64](p *T, def T) {
	if *p == 0 {
		*p = def
	}
}
