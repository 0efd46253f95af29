package config

// Config is the whole configuration of one tokenomics process. Build it with
// [Load] or [Default]; a Config built by hand should get SetDefaults and
// Validate before use.
type Config struct {
	Server   ServerConfig      `yaml:"server"`
	Storage  StorageConfig     `yaml:"storage"`
	Session  SessionConfig     `yaml:"session"`
	Security SecurityConfig    `yaml:"security"`
	Logging  LoggingConfig     `yaml:"logging"`
	Remote   RemoteConfig      `yaml:"remote"`
	Events   EventsConfig      `yaml:"events"`
	CLIMaps  map[string]string `yaml:"cli_maps"` // CLI tool name -> provider name, used by init
	Memory   MemoryConfig      `yaml:"memory"`
	Plugins  PluginsConfig     `yaml:"plugins"`
	Usage    UsageConfig       `yaml:"usage"`   // observability.go
	Tracing  TracingConfig     `yaml:"tracing"` // observability.go
	Console  ConsoleConfig     `yaml:"console"`

	// Providers come from providers.yaml merged over the built-ins: the
	// file's providers in written order, then the unnamed built-ins.
	Providers []Provider `yaml:"-"`
	// Pricing is providers.yaml's top-level pricing: model prices that
	// replace the shipped defaults (see PriceTable).
	Pricing map[string]ModelPrice `yaml:"-"`

	// Path is the config file that was read; "" when defaults only.
	Path string `yaml:"-"`
	// ProvidersPath is the providers file that was read; "" when none.
	ProvidersPath string `yaml:"-"`

	// env is the environment given to Load; nil means the process's.
	env map[string]string
	// set holds the YAML paths written by the file or an override, for the
	// few fields whose zero value is meaningful (server.http_port).
	set map[string]bool
}

// ServerConfig is the proxy's listeners and request limits.
type ServerConfig struct {
	// Host is the bind address of the HTTP and HTTPS listeners; "" is all
	// interfaces.
	Host string `yaml:"host"`
	// HTTPPort is the plain HTTP port. Default 8080. An explicit 0 turns
	// plain HTTP off, which is allowed only with https_port set.
	HTTPPort int `yaml:"http_port"`
	// HTTPSPort is the TLS port; 0 (the default) is off.
	HTTPSPort int `yaml:"https_port"`
	// UpstreamURL is where the "generic" provider points. Default
	// https://api.openai.com.
	UpstreamURL string    `yaml:"upstream_url"`
	TLS         TLSConfig `yaml:"tls"`
	// MaxBodyBytes bounds a request body. Default 10 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxResponseBytes bounds an upstream answer after decompression,
	// whole body or stream: a compressed answer that expands past it is
	// cut and the request fails (502, or an error event in a stream).
	// Default 32 MiB.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
	// ShutdownTimeout bounds the graceful drain. Default 30s.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// AdminAddr is the local token-admin endpoint (token commands reach a
	// running server through it); its host must be loopback. Default
	// "127.0.0.1:0". Metrics have their own listener: MetricsAddr.
	AdminAddr string `yaml:"admin_addr"`
	// MetricsAddr, when set, is a separate listener (host:port) for
	// /metrics and the detailed /ready; the public ports then answer
	// /metrics with 404 and /ready with its status only. "" (the default)
	// keeps both on the public ports, for compatibility.
	MetricsAddr string `yaml:"metrics_addr"`
	// DefaultMaxOutputTokens is reserved against a budget when a request
	// does not say how many tokens it may produce. Default 4096.
	DefaultMaxOutputTokens int64 `yaml:"default_max_output_tokens"`
}

// TLSConfig is the HTTPS listener's certificate.
type TLSConfig struct {
	Enabled bool `yaml:"enabled"`
	// AutoGen generates a self-signed certificate in CertDir when none
	// exists.
	AutoGen bool `yaml:"auto_gen"`
	// CertDir holds generated certificates. Default "./certs".
	CertDir  string `yaml:"cert_dir"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Hosts are extra names and addresses the generated certificate
	// covers, beside localhost, the loopback addresses and the hostname
	// (proxy.internal, 10.0.0.7).
	Hosts []string `yaml:"hosts"`
	// AllowPlainHTTP says whether the https port also answers plain http;
	// see Config.PlainHTTPOnTLSPort for the unset case.
	AllowPlainHTTP bool `yaml:"allow_plain_http"`
}

// StorageConfig is the local bbolt database.
type StorageConfig struct {
	// DBPath is the database file. Default "./tokenomics.db". Its directory
	// is the data directory (see Config.DataDir).
	DBPath string `yaml:"db_path"`
	// Backend is where the central server (remote) keeps tokens and
	// plugins: "bolt" (default, the db_path file) or "postgres" (shared
	// by several replicas). Proxies always keep their copy in db_path.
	Backend string `yaml:"backend"`
	// Postgres configures the postgres backend.
	Postgres PostgresConfig `yaml:"postgres"`
}

// PostgresConfig is storage.postgres.
type PostgresConfig struct {
	// DSN is a libpq URL or key=value string, usually
	// "${TOKENOMICS_POSTGRES_DSN}" so the password stays out of the file.
	DSN string `yaml:"dsn"`
}

// Storage backends.
const (
	StorageBolt     = "bolt"
	StoragePostgres = "postgres"
)

// Session backends and fail modes.
const (
	BackendMemory = "memory"
	BackendRedis  = "redis"

	FailClosed = "closed"
	FailOpen   = "open"
)

// SessionConfig is where usage counters (budgets, rate limits) live.
type SessionConfig struct {
	// Backend is "memory" (default, per proxy) or "redis" (shared).
	Backend string      `yaml:"backend"`
	Redis   RedisConfig `yaml:"redis"`
	// FailMode says what happens when Redis is unreachable: "closed"
	// (default) refuses requests, "open" falls back to local counters.
	FailMode string `yaml:"fail_mode"`
	// PersistInterval is how often memory counters are saved. Default 10s.
	PersistInterval Duration `yaml:"persist_interval"`
	// LeaseTTL is how long a request's reservation and max_parallel slot
	// outlive a proxy that stopped renewing them (it renews every quarter
	// of it while the request runs). Default 2m.
	LeaseTTL Duration `yaml:"lease_ttl"`
}

// RedisConfig is the Redis session backend.
type RedisConfig struct {
	// Addr is host:port. Default "127.0.0.1:6379".
	Addr string `yaml:"addr"`
	// Password is used as written; PasswordEnv names a variable holding it
	// instead (see Config.RedisPassword).
	Password    string `yaml:"password"`
	PasswordEnv string `yaml:"password_env"`
	DB          int    `yaml:"db"`
	// Timeout bounds each Redis call. Default 200ms.
	Timeout Duration `yaml:"timeout"`
	// Sentinel, when its master_name is set, finds the primary through
	// Redis Sentinel instead of addr, and follows it across failovers.
	Sentinel RedisSentinelConfig `yaml:"sentinel"`
	// Cluster, when its addrs are set, talks to a Redis Cluster instead
	// of addr. A token's counters share one hash slot ({hash} tags).
	Cluster RedisClusterConfig `yaml:"cluster"`
}

// RedisSentinelConfig is session.redis.sentinel.
type RedisSentinelConfig struct {
	MasterName string   `yaml:"master_name"`
	Addrs      []string `yaml:"addrs"`
	// Password of the sentinels themselves, if they require one (the
	// data nodes use session.redis.password).
	Password string `yaml:"password"`
}

// RedisClusterConfig is session.redis.cluster.
type RedisClusterConfig struct {
	// Addrs are seed nodes; the rest are discovered.
	Addrs []string `yaml:"addrs"`
}

// SecurityConfig names the environment variables holding the keys.
type SecurityConfig struct {
	// HashKeyEnv names the HMAC key for token hashes. Default
	// "TOKENOMICS_HASH_KEY".
	HashKeyEnv string `yaml:"hash_key_env"`
	// EncryptionKeyEnv names the policy encryption key; "" (the default)
	// stores policies unencrypted.
	EncryptionKeyEnv string `yaml:"encryption_key_env"`
	// AllowedUpstreams are base URLs, beside the providers' upstream_url,
	// that a token's upstream_url may point at (see Upstreams). Provider
	// keys are never sent anywhere else.
	AllowedUpstreams []string `yaml:"allowed_upstreams"`
}

// LoggingConfig is the root logger.
type LoggingConfig struct {
	// Level is trace, debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Format is "text" (default) or "json".
	Format string `yaml:"format"`
	// HideTokenHash leaves the token hash prefix out of request logs.
	HideTokenHash bool `yaml:"hide_token_hash"`
}

// RemoteConfig points a proxy or an admin command at the central server.
type RemoteConfig struct {
	// URL of the central server; "" means standalone. Several replicas
	// of one central server (storage.backend: postgres) may be listed,
	// comma-separated: the proxy pulls from the one that answers.
	URL string `yaml:"url"`
	// APIKey is used as written; APIKeyEnv names a variable holding it
	// instead (see Config.RemoteAPIKey).
	APIKey    string `yaml:"api_key"`
	APIKeyEnv string `yaml:"api_key_env"`
	// Sync is the poll interval in seconds. Default 300.
	Sync int `yaml:"sync"`
	// FleetInterval is how often the proxy reports its state (revision,
	// plugin versions) to the central server's /api/v1/fleet, besides
	// at start and after each sync. Default 15s.
	FleetInterval Duration `yaml:"fleet_interval"`
	// Insecure skips TLS certificate verification towards URL.
	Insecure bool `yaml:"insecure"`
	// CAFile is a PEM file of extra CAs trusted for URL (relative paths
	// are from the config file's directory).
	CAFile  string          `yaml:"ca_file"`
	Webhook WebhookReceiver `yaml:"webhook"`
}

// WebhookReceiver accepts push events from the central server.
type WebhookReceiver struct {
	Enabled bool `yaml:"enabled"`
	// Path is served on the proxy's listeners. Default "/v1/webhook".
	Path       string `yaml:"path"`
	Secret     string `yaml:"secret"`
	SigningKey string `yaml:"signing_key"`
	// MaxSkew is the oldest signature timestamp accepted. Default 5m.
	MaxSkew Duration `yaml:"max_skew"`
}

// EventsConfig is outbound event delivery.
type EventsConfig struct {
	Webhooks []WebhookTarget `yaml:"webhooks"`
	// QueueSize bounds undelivered events in memory. Default 1024.
	QueueSize int `yaml:"queue_size"`
	// Receiver is central's inbox for proxies' events (observability.go).
	Receiver EventReceiver `yaml:"receiver"`
}

// WebhookTarget is one outbound webhook.
type WebhookTarget struct {
	URL        string `yaml:"url"`
	Secret     string `yaml:"secret"`
	SigningKey string `yaml:"signing_key"`
	// Events are the event names (or patterns like "token.*") sent; empty
	// means all.
	Events []string `yaml:"events"`
	// Timeout per delivery attempt, in seconds. Default 10.
	Timeout int `yaml:"timeout"`
	// CAFile is a PEM file of extra CAs trusted for URL, such as the CA a
	// proxy generated for its https port (relative paths are from the
	// config file's directory).
	CAFile string `yaml:"ca_file"`
	// Insecure skips TLS certificate verification towards URL.
	Insecure bool `yaml:"insecure"`
}

// MemoryConfig bounds where policy "memory" files may be written.
type MemoryConfig struct {
	// AllowedDirs default to ["/var/log/tokenomics", "./memory"] when the
	// key is absent; an explicit empty list allows none.
	AllowedDirs []string `yaml:"allowed_dirs"`
}

// PluginsConfig is the WASM rule plugin store.
type PluginsConfig struct {
	// Dir holds plugin binaries and manifests. Default "./plugins".
	Dir string `yaml:"dir"`
	// CacheDir holds the compilation cache. Default "./cache/wasm".
	CacheDir string `yaml:"cache_dir"`
	// TrustedKeys are the ed25519 public keys (hex or base64) a plugin
	// manifest must be signed by; see PluginsConfig.PublicKeys.
	TrustedKeys []string `yaml:"trusted_keys"`
	// Rule host limits; zero takes the rule host's defaults (see
	// core/rules.Config): warm instances per plugin version, one call's
	// deadline, one instantiation's deadline (start functions included), the
	// wait for a free instance before the rule counts as failed, and a
	// guest's memory cap in 64 KiB pages.
	PoolSize    int      `yaml:"pool_size"`
	CallTimeout Duration `yaml:"call_timeout"`
	InitTimeout Duration `yaml:"init_timeout"`
	PoolWait    Duration `yaml:"pool_wait"`
	MemoryPages uint32   `yaml:"memory_pages"`
	// LoadWait bounds how long a request waits for its token's rule
	// plugins to finish loading (at startup, or after a token change that
	// needs a new plugin) before it is refused with 503; zero takes the
	// proxy's default (5 s). Tokens without rules never wait.
	LoadWait Duration `yaml:"load_wait"`
}
