package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one configuration problem. Load and Validate return all of
// them at once, joined with errors.Join; use errors.As to inspect one.
type FieldError struct {
	// Field is the YAML path, as in "events.webhooks[0].url" or
	// "providers.anthropic.auth_scheme"; "" for a whole file.
	Field string
	Msg   string
	// File and Line locate the value when it came from a file.
	File string
	Line int
	// Env is the override variable the value came from, if any.
	Env string
}

// Error reads "config: server.http_port: must be between 1 and 65535",
// with the file:line or the variable after "config: " when known.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Env != "" {
		b.WriteString("environment variable ")
		b.WriteString(e.Env)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// problems collects FieldErrors.
type problems []error

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks the whole config and returns every problem, each a
// *FieldError, joined with errors.Join; nil when the config is usable.
// Call it after SetDefaults.
func (c *Config) Validate() error {
	var p problems
	c.validateServer(&p)
	if c.Storage.DBPath == "" {
		p.add("storage.db_path", "required")
	}
	switch c.Storage.Backend {
	case StorageBolt:
	case StoragePostgres:
		if c.Storage.Postgres.DSN == "" {
			p.add("storage.postgres.dsn", "required with storage.backend: postgres (usually \"${TOKENOMICS_POSTGRES_DSN}\"); is the variable set?")
		}
	default:
		p.add("storage.backend", "must be bolt or postgres; got %q", c.Storage.Backend)
	}
	c.validateSession(&p)
	c.validateSecurity(&p)
	if !oneOf(c.Logging.Level, "trace", "debug", "info", "warn", "error") {
		p.add("logging.level", "must be one of trace, debug, info, warn, error; got %q", c.Logging.Level)
	}
	if !oneOf(c.Logging.Format, "text", "json") {
		p.add("logging.format", "must be text or json; got %q", c.Logging.Format)
	}
	c.validateRemote(&p)
	c.validateEvents(&p)
	c.validateProviders(&p)
	c.validatePricing(&p)
	c.validateCLIMaps(&p)
	for i, d := range c.Memory.AllowedDirs {
		if strings.TrimSpace(d) == "" {
			p.add(fmt.Sprintf("memory.allowed_dirs[%d]", i), "must not be empty")
		}
	}
	c.validatePlugins(&p)
	c.validateObservability(&p)
	c.Console.validate(&p)
	return errors.Join(p...)
}

func (c *Config) validateServer(p *problems) {
	s := &c.Server
	if s.Host != "" && strings.Contains(s.Host, ":") && net.ParseIP(s.Host) == nil {
		p.add("server.host", "must be a host name or IP address without a port; got %q", s.Host)
	}
	switch {
	case s.HTTPPort == 0 && s.HTTPSPort > 0: // HTTPS only
	case s.HTTPPort < 1 || s.HTTPPort > 65535:
		p.add("server.http_port", "must be between 1 and 65535")
	}
	if s.HTTPSPort < 0 || s.HTTPSPort > 65535 {
		p.add("server.https_port", "must be between 0 (off) and 65535")
	} else if s.HTTPSPort != 0 && s.HTTPSPort == s.HTTPPort {
		p.add("server.https_port", "must differ from server.http_port")
	}
	if s.HTTPSPort > 0 && !s.TLS.Enabled {
		p.add("server.tls.enabled", "must be true when server.https_port is set")
	}
	if s.TLS.Enabled && s.HTTPSPort == 0 {
		p.add("server.https_port", "required when server.tls.enabled is true")
	}
	if (s.TLS.CertFile == "") != (s.TLS.KeyFile == "") {
		if s.TLS.CertFile == "" {
			p.add("server.tls.cert_file", "required when server.tls.key_file is set")
		} else {
			p.add("server.tls.key_file", "required when server.tls.cert_file is set")
		}
	}
	if s.TLS.Enabled && s.TLS.CertDir == "" && s.TLS.CertFile == "" {
		p.add("server.tls.cert_dir", "required when server.tls.enabled is true and no cert_file is given")
	}
	checkURL(p, "server.upstream_url", s.UpstreamURL, true)
	if s.MaxBodyBytes <= 0 {
		p.add("server.max_body_bytes", "must be positive")
	}
	if s.MaxResponseBytes <= 0 {
		p.add("server.max_response_bytes", "must be positive")
	}
	positive(p, "server.shutdown_timeout", s.ShutdownTimeout)
	checkLoopback(p, "server.admin_addr", s.AdminAddr)
	if s.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(s.MetricsAddr); err != nil || !validPort(port) {
			p.add("server.metrics_addr", "must be host:port; got %q", s.MetricsAddr)
		}
	}
	for i, h := range s.TLS.Hosts {
		if h == "" || strings.ContainsAny(h, "/:@ ") && net.ParseIP(h) == nil {
			p.add(fmt.Sprintf("server.tls.hosts[%d]", i), "must be a host name or IP address; got %q", h)
		}
	}
	if s.TLS.AllowPlainHTTP && s.HTTPSPort == 0 {
		p.add("server.tls.allow_plain_http", "applies to server.https_port, which is not set")
	}
	if s.DefaultMaxOutputTokens <= 0 {
		p.add("server.default_max_output_tokens", "must be positive")
	}
}

func (c *Config) validateSession(p *problems) {
	s := &c.Session
	if !oneOf(s.Backend, BackendMemory, BackendRedis) {
		p.add("session.backend", "must be memory or redis; got %q", s.Backend)
	}
	if !oneOf(s.FailMode, FailClosed, FailOpen) {
		p.add("session.fail_mode", "must be closed or open; got %q", s.FailMode)
	}
	positive(p, "session.persist_interval", s.PersistInterval)
	positive(p, "session.lease_ttl", s.LeaseTTL)
	if s.Backend == BackendRedis {
		if _, port, err := net.SplitHostPort(s.Redis.Addr); err != nil || !validPort(port) {
			p.add("session.redis.addr", "must be host:port; got %q", s.Redis.Addr)
		}
		c.validateRedisHA(p)
	}
	if s.Redis.DB < 0 {
		p.add("session.redis.db", "must not be negative")
	}
	envName(p, "session.redis.password_env", s.Redis.PasswordEnv)
	positive(p, "session.redis.timeout", s.Redis.Timeout)
}

func (c *Config) validateSecurity(p *problems) {
	if c.Security.HashKeyEnv == "" {
		p.add("security.hash_key_env", "required")
	}
	envName(p, "security.hash_key_env", c.Security.HashKeyEnv)
	envName(p, "security.encryption_key_env", c.Security.EncryptionKeyEnv)
	for i, raw := range c.Security.AllowedUpstreams {
		field := fmt.Sprintf("security.allowed_upstreams[%d]", i)
		checkURL(p, field, raw, true)
		if _, ok := parseUpstream(raw); !ok && raw != "" {
			p.add(field, "must be an absolute http or https base URL without credentials or dot segments")
		}
	}
}

func (c *Config) validateRemote(p *problems) {
	r := &c.Remote
	for _, u := range r.URLs() {
		checkURL(p, "remote.url", u, false)
	}
	envName(p, "remote.api_key_env", r.APIKeyEnv)
	if r.Sync <= 0 {
		p.add("remote.sync", "must be a positive number of seconds")
	}
	positive(p, "remote.fleet_interval", r.FleetInterval)
	w := &r.Webhook
	if !strings.HasPrefix(w.Path, "/") {
		p.add("remote.webhook.path", "must start with \"/\"; got %q", w.Path)
	}
	positive(p, "remote.webhook.max_skew", w.MaxSkew)
	if w.Enabled {
		if w.Secret == "" && w.SigningKey == "" {
			p.add("remote.webhook.signing_key", "required (or secret) when remote.webhook.enabled is true: pushes must be verified")
		}
		if r.URL == "" {
			p.add("remote.url", "required when remote.webhook.enabled is true: a push triggers a pull from it")
		}
	}
}

func (c *Config) validateEvents(p *problems) {
	if c.Events.QueueSize <= 0 {
		p.add("events.queue_size", "must be positive")
	}
	for i, w := range c.Events.Webhooks {
		field := fmt.Sprintf("events.webhooks[%d]", i)
		checkURL(p, field+".url", w.URL, true)
		if w.Timeout <= 0 {
			p.add(field+".timeout", "must be a positive number of seconds")
		}
		for j, e := range w.Events {
			if strings.TrimSpace(e) == "" {
				p.add(fmt.Sprintf("%s.events[%d]", field, j), "must not be empty")
			}
		}
	}
}

func (c *Config) validateProviders(p *problems) {
	seen := make(map[string]bool, len(c.Providers))
	for i := range c.Providers {
		pr := &c.Providers[i]
		field := "providers." + pr.Name
		if pr.Name == "" {
			field = fmt.Sprintf("providers[%d]", i)
			p.add(field, "name is required")
		} else if !validProviderName(pr.Name) {
			p.add(field, "name must use only letters, digits, '.', '_' and '-'")
		}
		if seen[pr.Name] {
			p.add(field, "defined more than once")
		}
		seen[pr.Name] = true
		checkURL(p, field+".upstream_url", pr.UpstreamURL, true)
		if !oneOf(pr.AuthScheme, AuthBearer, AuthHeader, AuthQuery, AuthNone) {
			p.add(field+".auth_scheme", "must be one of bearer, header, query, none; got %q", pr.AuthScheme)
		}
		if pr.AuthScheme != AuthNone && pr.APIKeyEnv == "" {
			p.add(field+".api_key_env", "required unless auth_scheme is none")
		}
		envName(p, field+".api_key_env", pr.APIKeyEnv)
		if (pr.AuthScheme == AuthBearer || pr.AuthScheme == AuthHeader) && !validToken(pr.AuthHeader) {
			p.add(field+".auth_header", "must be a valid HTTP header name; got %q", pr.AuthHeader)
		}
		if pr.AuthScheme == AuthQuery && pr.AuthQuery == "" {
			p.add(field+".auth_query", "required when auth_scheme is query")
		}
		for _, name := range slices.Sorted(maps.Keys(pr.Headers)) {
			val := pr.Headers[name]
			if !validToken(name) {
				p.add(field+".headers", "%q is not a valid HTTP header name", name)
			} else if strings.ContainsAny(val, "\r\n\x00") {
				p.add(field+".headers."+name, "must not contain line breaks or NUL")
			}
		}
		if !strings.HasPrefix(pr.ChatPath, "/") {
			p.add(field+".chat_path", "must start with \"/\"; got %q", pr.ChatPath)
		}
		if !oneOf(pr.Format, FormatOpenAI, FormatAnthropic) {
			p.add(field+".format", "must be openai or anthropic; got %q", pr.Format)
		}
		for j, m := range pr.Models {
			if strings.TrimSpace(m) == "" {
				p.add(fmt.Sprintf("%s.models[%d]", field, j), "must not be empty")
			}
		}
		if pr.Timeout < 0 {
			p.add(field+".timeout", "must not be negative")
		}
	}
}

func (c *Config) validateCLIMaps(p *problems) {
	for _, tool := range slices.Sorted(maps.Keys(c.CLIMaps)) {
		if prov := c.CLIMaps[tool]; !hasProvider(c.Providers, prov) {
			p.add("cli_maps."+tool, "unknown provider %q", prov)
		}
	}
}

func (c *Config) validatePlugins(p *problems) {
	if c.Plugins.Dir == "" {
		p.add("plugins.dir", "required")
	}
	if c.Plugins.CacheDir == "" {
		p.add("plugins.cache_dir", "required")
	}
	for i, k := range c.Plugins.TrustedKeys {
		if _, ok := decodeKey32(k); !ok {
			p.add(fmt.Sprintf("plugins.trusted_keys[%d]", i), "must be an ed25519 public key: 64 hex digits or base64 of 32 bytes")
		}
	}
}

// checkURL requires an http or https URL with a host. Messages never quote
// the URL: webhook URLs often carry a secret in the path.
func checkURL(p *problems, field, raw string, required bool) {
	if raw == "" {
		if required {
			p.add(field, "required")
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		p.add(field, "not a valid URL: %v", err)
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		p.add(field, "must be an http or https URL")
		return
	}
	if u.Hostname() == "" {
		p.add(field, "must include a host")
	}
}

// checkLoopback requires host:port with a loopback host, so admin surfaces
// are never exposed by default.
func checkLoopback(p *problems, field, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !validPort(port) {
		p.add(field, "must be host:port; got %q", addr)
		return
	}
	if host == "localhost" {
		return
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		p.add(field, "must bind to a loopback address (127.0.0.1, ::1 or localhost); got %q", host)
	}
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535
}

func positive(p *problems, field string, d Duration) {
	if d <= 0 {
		p.add(field, "must be a positive duration")
	}
}

// envName checks that a *_env field names a variable rather than holding
// the secret itself, a common slip.
func envName(p *problems, field, name string) {
	if name != "" && !validEnvName(name) {
		p.add(field, "must name an environment variable (letters, digits, '_'), not hold the secret itself")
	}
}

func oneOf(v string, allowed ...string) bool {
	v = strings.ToLower(v)
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func validProviderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// validToken reports an RFC 9110 token, the syntax of a header name.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validateRedisHA checks session.redis.sentinel and session.redis.cluster.
func (c *Config) validateRedisHA(p *problems) {
	r := &c.Session.Redis
	hostPorts := func(field string, addrs []string) {
		for i, a := range addrs {
			if _, port, err := net.SplitHostPort(a); err != nil || !validPort(port) {
				p.add(fmt.Sprintf("%s[%d]", field, i), "must be host:port; got %q", a)
			}
		}
	}
	sentinel, cluster := r.Sentinel.MasterName != "" || len(r.Sentinel.Addrs) > 0, len(r.Cluster.Addrs) > 0
	switch {
	case sentinel && cluster:
		p.add("session.redis", "give sentinel or cluster, not both")
	case sentinel:
		if r.Sentinel.MasterName == "" {
			p.add("session.redis.sentinel.master_name", "required with sentinel addrs")
		}
		if len(r.Sentinel.Addrs) == 0 {
			p.add("session.redis.sentinel.addrs", "required with a sentinel master_name")
		}
		hostPorts("session.redis.sentinel.addrs", r.Sentinel.Addrs)
	case cluster:
		hostPorts("session.redis.cluster.addrs", r.Cluster.Addrs)
		if r.DB != 0 {
			p.add("session.redis.db", "must be 0 with a Redis Cluster (it has only database 0)")
		}
	}
}
