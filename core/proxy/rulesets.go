package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tokenomics-dev/tokenomics/internal/startmem"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/metrics"
	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/rules"
)

// DefaultRulesLoadWait is how long a request waits for its token's rules to
// finish loading when Options.RulesLoadWait is zero. A cold compile of the
// built-in plugins takes seconds; past this the request is refused with 503
// and Retry-After rather than held, and never forwarded unchecked.
const DefaultRulesLoadWait = 5 * time.Second

// rulesRetryAfter is the Retry-After of a request refused because its rules
// are still loading: loading takes seconds, so a client retrying after one
// usually finds them ready.
const rulesRetryAfter = time.Second

// ruleSets compiles each distinct list of rules once and shares the result
// between the tokens and route variants that have it: ten thousand tokens
// of one policy hold one RuleSet. Sets are held weakly, so one that no
// token uses any more is collected and its entry dropped.
//
// Each new set is watched until its plugins have an outcome: the proxy
// serves before that (tokens without rules at once), and requests of the
// set's tokens wait for it at most wait, then get 503.
//
// The sets met while New loads the tokens are compiled only at start, when
// every token is in the cache: compiling starts the plugin loads, which
// would otherwise take the CPU from the token load and delay serving.
type ruleSets struct {
	host    *rules.Host
	plugins func(name, sha256 string) ([]byte, error)
	wait    time.Duration
	ctx     context.Context // ends the watchers at shutdown
	cancel  context.CancelFunc

	sets *sharedCache[tokenRules] // by shareKey

	mu      sync.Mutex // guards held and started
	held    []heldRules
	started bool

	loading atomic.Int64 // sets whose plugins are still loading
	gauge   *metrics.Gauge
	log     hclog.Logger
	began   time.Time

	// startDone runs once the start's work is over (tokens loaded, their
	// rules compiled): see releaseStart.
	startDone sync.Once
}

// releaseStart gives back what only the start needed, once its work is
// over (tokens loaded, their rules compiled): the garbage of loading and
// compiling, whose size would otherwise set the heap goal of the first
// cycles under load (twice the start's transient peak rather than twice
// what the proxy keeps), and the pages of the binary that only starting
// touched (about half of them; see internal/startmem).
func (c *ruleSets) releaseStart() {
	n, err := startmem.Release()
	if err != nil {
		c.log.Debug("start pages not released", "error", err)
		return
	}
	c.log.Debug("start memory released", "binary_bytes_unmapped", n)
}

func newRuleSets(host *rules.Host, plugins func(name, sha256 string) ([]byte, error), wait time.Duration,
	reg *metrics.Registry, log hclog.Logger) *ruleSets {
	if wait <= 0 {
		wait = DefaultRulesLoadWait
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &ruleSets{host: host, plugins: plugins, wait: wait, ctx: ctx, cancel: cancel, log: log, began: time.Now(),
		sets: newSharedCache[tokenRules](),
		gauge: reg.NewGauge("tokenomics_rule_sets_loading",
			"Distinct rule sets whose plugins are still loading; their tokens' requests wait up to plugins.load_wait, then get 503.").With()}
}

// heldRules is a set whose compilation waits for start.
type heldRules struct {
	tr  *tokenRules
	rs  []policy.Rule
	key []byte // nil: not shared
}

// compile returns the shared set for rs, compiling it the first time.
func (c *ruleSets) compile(rs []policy.Rule) (*tokenRules, error) {
	key, ok := shareKey(rs)
	if !ok {
		return c.compileNew(rs, nil)
	}
	return c.sets.get(key, func() (*tokenRules, error) { return c.compileNew(rs, key) })
}

// shareKey is rs in canonical form. Rules naming a plugin by version range
// are not shared: which version they run is decided at compile time, and a
// rebuild of the token must be free to pick a newer one.
func shareKey(rs []policy.Rule) ([]byte, bool) {
	if rangedRules(rs) {
		return nil, false
	}
	b, err := json.Marshal(rs)
	if err != nil {
		return nil, false
	}
	return b, true
}

// rangedRules reports whether a rule of rs names its plugin by version
// range, which is resolved anew each time the rules are compiled.
func rangedRules(rs []policy.Rule) bool {
	for i := range rs {
		if rs[i].Type == rules.TypeWASM && strings.Contains(rs[i].Plugin, "@") {
			return true
		}
	}
	return false
}

// compileNew compiles rs (CompileAsync never waits on plugin work: this runs
// in the token store's change callback, which token sync and revocation
// share) and starts watching its load; before start it holds rs instead.
func (c *ruleSets) compileNew(rs []policy.Rule, key []byte) (*tokenRules, error) {
	tr := &tokenRules{done: make(chan struct{})}
	c.mu.Lock()
	if !c.started {
		c.held = append(c.held, heldRules{tr: tr, rs: rs, key: key})
		c.mu.Unlock()
		c.gauge.Set(float64(c.loading.Add(1)))
		return tr, nil
	}
	c.mu.Unlock()
	set, err := c.host.CompileAsync(rs, c.plugins)
	if err != nil {
		return nil, err
	}
	tr.set = set
	tr.input, tr.output = set.Scopes()
	c.gauge.Set(float64(c.loading.Add(1)))
	go c.watch(tr)
	return tr, nil
}

// start compiles the held sets in the background and every later one at
// once. A held set whose rules do not compile refuses its tokens (500
// policy_unloadable, as a token built after start is refused) and leaves
// the cache, so a rebuild of those tokens tries again.
func (c *ruleSets) start() {
	c.mu.Lock()
	held := c.held
	c.held, c.started = nil, true
	c.mu.Unlock()
	if len(held) == 0 {
		go c.startDone.Do(c.releaseStart)
		return
	}
	go func() {
		for _, h := range held {
			if c.ctx.Err() != nil {
				c.gauge.Set(float64(c.loading.Add(-1))) // shutting down: left unsettled
				continue
			}
			set, err := c.host.CompileAsync(h.rs, c.plugins)
			if errors.Is(err, rules.ErrClosed) {
				c.gauge.Set(float64(c.loading.Add(-1)))
				continue
			}
			if err != nil {
				h.tr.err = fmt.Errorf("compiling rules: %w", err)
				c.log.Error("token rules do not compile; their tokens are refused", "error", rules.Cause(err))
				if h.key != nil {
					c.sets.forget(h.key, h.tr)
				}
				c.settle(h.tr)
				continue
			}
			h.tr.set = set
			h.tr.input, h.tr.output = set.Scopes()
			go c.watch(h.tr)
		}
	}()
}

// watch waits until every plugin of tr has an outcome. Wait returns early
// only when c.ctx ends (shutdown): then tr stays unsettled, and any request
// still arriving is refused rather than checked by half-loaded rules.
func (c *ruleSets) watch(tr *tokenRules) {
	_ = tr.set.Wait(c.ctx) // failures are logged by the host; on_error decides at check time
	if c.ctx.Err() != nil {
		c.gauge.Set(float64(c.loading.Add(-1)))
		return
	}
	c.settle(tr)
}

// settle marks tr as having an outcome (tr.set and tr.err are written
// before: readers see them once settled or done says so).
func (c *ruleSets) settle(tr *tokenRules) {
	tr.settled.Store(true)
	close(tr.done)
	left := c.loading.Add(-1)
	c.gauge.Set(float64(left))
	if left == 0 {
		c.log.Info("content rules loaded", "since_start", time.Since(c.began).Round(time.Millisecond).String())
		c.startDone.Do(c.releaseStart)
	}
}

func (c *ruleSets) close() { c.cancel() }

// errRulesLoading refuses a request whose token's rules are still loading.
var errRulesLoading = &core.Error{Status: 503, Type: core.TypeServer, Code: "rules_loading", RetryAfter: rulesRetryAfter,
	Message: "This token's content rules are still loading; retry in a moment."}

// rulesLoaded holds a request until its token's rules have loaded, at most
// the configured wait; tokens without rules, and every request once the
// rules loaded, pass with one atomic load.
func (x *exchange) rulesLoaded() error {
	tr := x.tok.rules
	if tr == nil || (tr.settled.Load() && tr.err == nil) {
		return nil
	}
	return x.s.awaitLoad(x, tr)
}

// awaitLoad is rulesLoaded's slow path, kept apart so the fast path inlines.
func (s *Server) awaitLoad(x *exchange, tr *tokenRules) error {
	t := time.NewTimer(s.ruleSets.wait)
	defer t.Stop()
	select {
	case <-tr.done:
		if tr.err != nil {
			return &core.Error{Status: 500, Type: core.TypeServer, Code: "policy_unloadable",
				Message: "This token's policy could not be loaded by the proxy; ask your administrator.", Err: tr.err}
		}
		return nil
	case <-t.C:
	}
	s.log.Warn("content rules still loading; request refused", "request_id", x.reqID, "token", x.tok.short,
		"waited", s.ruleSets.wait.String())
	return errRulesLoading
}

// rulesLoading is the number of distinct rule sets still loading.
func (s *Server) rulesLoading() int64 {
	if s.ruleSets == nil {
		return 0
	}
	return s.ruleSets.loading.Load()
}
