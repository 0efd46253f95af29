package config

import "time"

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
	if c.IdleTimeout < Duration(time.Minute) {
		p.add("console.idle_timeout", "must be at least 1m; got %s", c.IdleTimeout)
	}
	if c.MaxSession < Duration(time.Minute) {
		p.add("console.max_session", "must be at least 1m; got %s", c.MaxSession)
	} else if c.MaxSession < c.IdleTimeout {
		p.add("console.max_session", "must be at least console.idle_timeout (%s); got %s", c.IdleTimeout, c.MaxSession)
	}
}
