package events

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Dispatcher defaults.
const (
	DefaultQueueSize     = 1024
	DefaultWorkers       = 1
	DefaultMaxAttempts   = 12
	DefaultMaxAge        = 24 * time.Hour
	DefaultBaseDelay     = 500 * time.Millisecond
	DefaultMaxDelay      = 5 * time.Minute
	DefaultTimeout       = 10 * time.Second
	DefaultOutboxBucket  = "events_outbox"
	maxRetryAfter        = time.Hour
	maxResponseBodyDrain = 64 << 10
)

// Target is one webhook endpoint: the seed's events.webhooks entry.
type Target struct {
	URL        string
	Secret     string   // sent as X-Tokenomics-Secret; may be empty
	SigningKey string   // signs the body; may be empty
	Events     []string // filter, see Match; empty means all
	Timeout    time.Duration
	// CAFile and Insecure set how the target's certificate is checked
	// (see TLSOptions); the seed's per-webhook insecure keeps its meaning.
	CAFile   string
	Insecure bool
	// Direction adds the direction's signature entry (see Credentials):
	// DirPush on central's targets, DirReport on a proxy's.
	Direction Direction
}

func (t Target) tlsOptions(insecure bool) TLSOptions {
	return TLSOptions{CAFile: t.CAFile, Insecure: t.Insecure || insecure}
}

func (t Target) credentials() Credentials {
	return Credentials{Secret: t.Secret, SigningKey: t.SigningKey, Direction: t.Direction}
}

// DispatcherConfig configures a Dispatcher. Zero fields take the defaults
// named on each field (SetDefaults).
type DispatcherConfig struct {
	Targets []Target

	// DB makes the outbox durable. It must be open and stays owned by the
	// caller (the dispatcher never closes it), so it can be the central
	// server's own database. Nil keeps deliveries in memory only.
	DB *bolt.DB
	// Bucket is the top-level bucket holding the outbox. Default
	// DefaultOutboxBucket.
	Bucket string

	// QueueSize bounds the in-memory queue of emitted events and each
	// target's in-memory queue of deliveries. Default DefaultQueueSize.
	QueueSize int
	// WorkersPerTarget bounds concurrent attempts per target. Default 1,
	// which keeps deliveries to a target in order.
	WorkersPerTarget int

	// MaxAttempts and MaxAge bound retries; a delivery past either is
	// dropped with a warning. Defaults DefaultMaxAttempts and DefaultMaxAge.
	MaxAttempts int
	MaxAge      time.Duration
	// BaseDelay and MaxDelay shape the exponential backoff. Defaults
	// DefaultBaseDelay and DefaultMaxDelay.
	BaseDelay time.Duration
	MaxDelay  time.Duration

	// InsecureSkipVerify turns off TLS certificate checks for every target.
	// Only for loopback demos with self-signed certificates.
	InsecureSkipVerify bool

	// WakeOnEmit ends a target's backoff pause when a new event is queued
	// for it. For notification targets, where a new event means "sync
	// now", a proxy that was down gets the news the moment something
	// changes instead of after the backoff; alert targets leave it off so
	// a dead collector is not hit once per event.
	WakeOnEmit bool

	// Tests replace these.
	clock  clock
	jitter func(n int64) int64
}

// SetDefaults fills zero fields with their defaults.
func (c *DispatcherConfig) SetDefaults() {
	if c.Bucket == "" {
		c.Bucket = DefaultOutboxBucket
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.WorkersPerTarget == 0 {
		c.WorkersPerTarget = DefaultWorkers
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.BaseDelay == 0 {
		c.BaseDelay = DefaultBaseDelay
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = DefaultMaxDelay
	}
	for i := range c.Targets {
		if c.Targets[i].Timeout == 0 {
			c.Targets[i].Timeout = DefaultTimeout
		}
	}
	if c.clock == nil {
		c.clock = realClock{}
	}
	if c.jitter == nil {
		c.jitter = rand.Int64N
	}
}

// Validate reports every problem at once. Call it after SetDefaults.
func (c *DispatcherConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrBadConfig}, args...)...))
	}
	if c.QueueSize < 1 {
		bad("queue size %d must be at least 1", c.QueueSize)
	}
	if c.WorkersPerTarget < 1 {
		bad("workers per target %d must be at least 1", c.WorkersPerTarget)
	}
	if c.MaxAttempts < 1 {
		bad("max attempts %d must be at least 1", c.MaxAttempts)
	}
	if c.MaxAge <= 0 || c.BaseDelay <= 0 || c.MaxDelay < c.BaseDelay {
		bad("need max age > 0 and 0 < base delay <= max delay")
	}
	seen := make(map[string]int, len(c.Targets))
	for i, t := range c.Targets {
		u, err := url.Parse(t.URL)
		switch {
		case err != nil:
			// url.Parse echoes the URL, which may embed a token (Slack).
			bad("webhook %d: URL does not parse", i)
		case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
			bad("webhook %d: URL must be http(s)://host/…", i)
		}
		if j, dup := seen[t.URL]; dup {
			bad("webhooks %d and %d have the same URL", j, i)
		}
		seen[t.URL] = i
		if t.Timeout < 0 {
			bad("webhook %d: negative timeout", i)
		}
		for _, p := range t.Events {
			if err := ValidPattern(p); err != nil {
				errs = append(errs, fmt.Errorf("webhook %d: %w", i, err))
			}
		}
	}
	return errors.Join(errs...)
}
