package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrUpstreamNotAllowed is wrapped by Upstreams.Check for a URL outside
// the allow-list.
var ErrUpstreamNotAllowed = errors.New("config: upstream not allowed")

// Upstreams is the set of places a provider key may be sent: the upstream
// of every configured provider (providers.yaml merged over the built-ins,
// and server.upstream_url through the generic provider) and every entry of
// security.allowed_upstreams. A token's policy may route requests to any of
// them with upstream_url, never to another host, so whoever can create a
// token cannot make the proxy hand its provider keys to a host of their
// choosing.
//
// An entry allows a URL with the same scheme, host (case-insensitive) and
// port (the scheme's default when not written), whose path is the entry's
// path or lies beneath it on a segment boundary: the entry
// https://gw.example/openai allows https://gw.example/openai/v2 but not
// https://gw.example/openai-evil or https://gw.example/.
type Upstreams struct {
	entries []upstreamPrefix
}

type upstreamPrefix struct {
	scheme, host, port, path string
}

// AllowedUpstreams returns the allow-list of this configuration. Entries
// that do not parse are skipped (Validate reports them).
func (c *Config) AllowedUpstreams() *Upstreams {
	u := &Upstreams{}
	for _, p := range c.Providers {
		u.add(p.UpstreamURL)
	}
	u.add(c.Server.UpstreamURL)
	for _, raw := range c.Security.AllowedUpstreams {
		u.add(raw)
	}
	return u
}

func (u *Upstreams) add(raw string) {
	if p, ok := parseUpstream(raw); ok {
		u.entries = append(u.entries, p)
	}
}

// Allows reports whether a key may be sent to raw.
func (u *Upstreams) Allows(raw string) bool {
	if u == nil {
		return false
	}
	got, ok := parseUpstream(raw)
	if !ok {
		return false
	}
	for _, e := range u.entries {
		if e.scheme == got.scheme && e.host == got.host && e.port == got.port && pathUnder(got.path, e.path) {
			return true
		}
	}
	return false
}

// Check returns an error naming field when raw is not allowed. The message
// tells the operator where to list an upstream; it quotes only the host.
func (u *Upstreams) Check(field, raw string) error {
	if u.Allows(raw) {
		return nil
	}
	host := raw
	if p, err := url.Parse(raw); err == nil && p.Host != "" {
		host = p.Host
	}
	return fmt.Errorf("%w: %s: %q is not a configured upstream; provider keys are only sent to a provider's upstream_url in providers.yaml or an entry of security.allowed_upstreams", ErrUpstreamNotAllowed, field, host)
}

// parseUpstream normalises an absolute http(s) URL without credentials.
func parseUpstream(raw string) (upstreamPrefix, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.Opaque != "" {
		return upstreamPrefix{}, false
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	}
	// EscapedPath keeps %2F distinct from "/", so an encoded slash cannot
	// pass for a segment boundary.
	p := strings.TrimRight(u.EscapedPath(), "/")
	if strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "/./") || strings.HasSuffix(p, "/.") {
		return upstreamPrefix{}, false
	}
	return upstreamPrefix{scheme: u.Scheme, host: host, port: port, path: p}, true
}

// pathUnder reports whether p is prefix or beneath it on a "/" boundary.
func pathUnder(p, prefix string) bool {
	if prefix == "" || p == prefix {
		return true
	}
	return strings.HasPrefix(p, prefix) && p[len(prefix)] == '/'
}

// PlainHTTPOnTLSPort says whether the https port also answers plain http,
// and whether the configuration says so explicitly. Unset keeps what
// configurations written before the setting rely on (SEED.txt's
// `init --insecure --port 8443`): answered, and the server warns at start.
// false turns it off: a plain request there gets a 400 naming https.
func (c *Config) PlainHTTPOnTLSPort() (allowed, explicit bool) {
	if c.set["server.tls.allow_plain_http"] {
		return c.Server.TLS.AllowPlainHTTP, true
	}
	return true, false
}
