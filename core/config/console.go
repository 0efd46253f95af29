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
}

// DefaultConsoleIdleTimeout ends idle console sessions.
const DefaultConsoleIdleTimeout = Duration(30 * time.Minute)

func (c *ConsoleConfig) setDefaults() { setInt(&c.IdleTimeout, DefaultConsoleIdleTimeout) }

func (c *ConsoleConfig) validate(p *problems) {
	envName(p, "console.key_env", c.KeyEnv)
	if c.IdleTimeout < Duration(time.Minute) {
		p.add("console.idle_timeout", "must be at least 1m; got %s", c.IdleTimeout)
	}
}
