package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// ConsoleConfig is the operators' console that `tokenomics remote` serves
// under /ui/ (central/console).
type ConsoleConfig struct {
	// Disabled turns the console off; the REST API is unaffected.
	Disabled bool `yaml:"disabled"`
	// KeyEnv names a variable holding a console sign-in key of its own;
	// "" (the default) signs in with the central API key.
	KeyEnv string `yaml:"key_env"`
	// IdleTimeout ends a console session nobody used for this long.
	// Default 30m.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxSession ends every console session this long after sign-in,
	// however busy: the operator signs in again. Default 12h.
	MaxSession Duration `yaml:"max_session"`
	// SecureCookies marks the console's cookies Secure on every request,
	// for a central server behind a load balancer that ends TLS (it sees
	// plain HTTP); without it they are Secure when the request came over
	// TLS to the server itself.
	SecureCookies bool `yaml:"secure_cookies"`
	// SigninAttempts is how many failed sign-ins a source address may
	// make, counted by every replica together, before it is locked out;
	// then one more try comes back every 10 s. Default 5.
	SigninAttempts int `yaml:"signin_attempts"`
	// TrustedProxies are the load balancers and reverse proxies in front
	// of the central server, as CIDRs ("10.0.0.0/8") or addresses
	// ("127.0.0.1"). When a request's TCP peer is one of them, the client
	// that the sign-in allowance, the console audit log and the API's
	// failed-authentication throttle count is read from X-Forwarded-For
	// or Forwarded (central/clientaddr). Empty (the default): those
	// headers are ignored, since any client can write them.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// TrustedProxyPrefixes returns TrustedProxies parsed; call it after
// Validate, which reports the entries it skips.
func (c *ConsoleConfig) TrustedProxyPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(c.TrustedProxies))
	for _, s := range c.TrustedProxies {
		if p, err := parseTrustedProxy(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parseTrustedProxy reads a CIDR or a single address (a /32 or /128).
// A prefix with host bits set is refused rather than masked: "10.0.0.1/8"
// is more likely a typo for a /32 than a wish to trust 16 million hosts.
func parseTrustedProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, fmt.Errorf("must not be empty")
	}
	if strings.Contains(s, "%") {
		return netip.Prefix{}, fmt.Errorf("%q: write the address without an IPv6 zone", s)
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR such as 10.0.0.0/8", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a valid CIDR (such as 10.0.0.0/8 or fd00::/8)", s)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q: write IPv4 ranges in dotted form, such as 10.0.0.0/8", s)
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, fmt.Errorf("%q trusts every address, so any client could choose the address it is counted by; list the load balancers only", s)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%q has bits set past the /%d; did you mean %s, or %s/%d for the one address?", s, p.Bits(), m, p.Addr(), p.Addr().BitLen())
	}
	return p, nil
}

// DefaultConsoleSigninAttempts is the failed sign-ins a source may make
// before it is locked out.
const DefaultConsoleSigninAttempts = 5

// DefaultConsoleIdleTimeout ends idle console sessions.
const DefaultConsoleIdleTimeout = Duration(30 * time.Minute)

// DefaultConsoleMaxSession is the absolute lifetime of a console session.
const DefaultConsoleMaxSession = Duration(12 * time.Hour)

func (c *ConsoleConfig) setDefaults() {
	setInt(&c.IdleTimeout, DefaultConsoleIdleTimeout)
	setInt(&c.MaxSession, DefaultConsoleMaxSession)
	setInt(&c.SigninAttempts, DefaultConsoleSigninAttempts)
}

func (c *ConsoleConfig) validate(p *problems) {
	envName(p, "console.key_env", c.KeyEnv)
	if c.SigninAttempts < 1 || c.SigninAttempts > 1000 {
		p.add("console.signin_attempts", "must be between 1 and 1000; got %d", c.SigninAttempts)
	}
	for i, s := range c.TrustedProxies {
		if _, err := parseTrustedProxy(s); err != nil {
			p.add(fmt.Sprintf("console.trusted_proxies[%d]", i), "%v", err)
		}
	}
	if c.IdleTimeout < Duration(time.Minute) {
		p.add("console.idle_timeout", "must be at least 1m; got %s", c.IdleTimeout)
	}
	if c.MaxSession < Duration(time.Minute) {
		p.add("console.max_session", "must be at least 1m; got %s", c.MaxSession)
	} else if c.MaxSession < c.IdleTimeout {
		p.add("console.max_session", "must be at least console.idle_timeout (%s); got %s", c.IdleTimeout, c.MaxSession)
	}
}
