package proxy

import (
	"errors"
	"strconv"
	"time"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// buildEntry turns a stored record into what requests use: the parsed
// policy, compiled rules, prebuilt limit counters and prompts, shared with
// every token of a byte-equal policy (policyTemplate). A policy that
// cannot load leaves an entry that refuses with 500 rather than one that
// skips its rules: guardrails fail closed.
func (s *Server) buildEntry(r store.Record) *tokenEntry {
	// One string holds the hash and the cost subject (hash + costSuffix):
	// ten thousand tokens, one allocation each instead of two.
	subject := r.Hash + costSuffix
	hash := subject[:len(r.Hash)]
	e := &tokenEntry{policyTemplate: noTemplate, hash: hash, short: shortHash(hash)}
	if r.ExpiresAt != nil {
		e.expiresAt, e.hasExpiry = *r.ExpiresAt, true
	}
	// A rule naming a plugin version range is resolved when it is
	// compiled: a token rebuilt after a newer version synced must compile
	// it again, not find the old resolution under the same policy bytes.
	build := func() (*policyTemplate, bool, error) {
		t, err := s.buildTemplate(r.Policy)
		return t, err == nil && !hasVersionRange(t.policy), err
	}
	t, err := s.templates.getShared(r.Policy, build)
	if err == nil && t.rules != nil && t.rules.settled.Load() && t.rules.err != nil {
		// Its rules failed to compile at start: build anew, the plugin
		// they need may be here by now.
		s.templates.forget(r.Policy, t)
		t, err = s.templates.getShared(r.Policy, build)
	}
	if err != nil {
		e.err = err
		var te *templateError
		if errors.As(err, &te) && te.log != "" {
			s.log.Error(te.log, "token", e.short, "error", te.err)
		}
		return e
	}
	e.policyTemplate = t
	e.cost = t.cost
	e.cost.subject = subject
	if t.routed {
		s.buildRoutes(e)
	}
	return e
}

// policyTemplate is what a token's entry derives from its policy bytes
// alone. Tokens created from one role's policy file have byte-equal
// policies: they share one template, so a fleet of ten thousand such tokens
// holds a few parsed policies, not ten thousand.
type policyTemplate struct {
	policy         *policy.Policy
	lim            tokenLimits
	cost           costLimits // subject is per token
	prompts        []providers.Message
	promptEstimate int64
	promptBound    int64
	memory         *policy.Memory
	rules          *tokenRules
	routed         bool // some provider entry has prompts or rules of its own
}

// templateError is a policy that does not load, with the line that tells
// the operator (empty: none) and the cause.
type templateError struct {
	msg, log string
	err      error
}

func (e *templateError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *templateError) Unwrap() error { return e.err }

// buildTemplate parses raw and prepares what every token of it shares.
func (s *Server) buildTemplate(raw []byte) (*policyTemplate, error) {
	p, err := policy.Parse(raw)
	if err != nil {
		return nil, &templateError{msg: "parsing policy", log: "token policy does not load; the token is refused", err: err}
	}
	t := &policyTemplate{policy: p, lim: buildLimits(p), cost: buildCostLimits("", p)}
	for _, m := range p.Prompts {
		t.prompts = append(t.prompts, providers.Message{Role: m.Role, Content: m.Content})
		t.promptEstimate += providers.EstimateTokens([]byte(m.Content)) + providers.TokensPerMessage
		t.promptBound += providers.MessageBound(m.Content)
	}
	if p.Memory != nil && p.Memory.Enabled && s.memory != nil {
		t.memory = p.Memory
	}
	if len(p.Rules) > 0 {
		if s.rulesHost == nil {
			return nil, &templateError{msg: "loading policy",
				err: errors.New("the policy has content rules and this proxy runs no rule host")}
		}
		// Never waits on plugin work (see ruleSets.compile); policies
		// with equal rules share one set.
		if t.rules, err = s.ruleSets.compile(p.Rules); err != nil {
			return nil, &templateError{msg: "compiling rules", log: "token rules do not compile; the token is refused", err: err}
		}
	}
	for gi := range p.Providers {
		for i := range p.Providers[gi].Entries {
			t.routed = t.routed || p.HasRouteContent(policy.Resolved{GroupIndex: gi, EntryIndex: i})
		}
	}
	return t, nil
}

// tokenLimits are a token's counters, built once: the budgets for each
// provider entry ("" is the token's own), its windows and max_parallel.
type tokenLimits struct {
	budgets      map[string][]limits.Budget
	windows      []limits.Window
	tokenWindows []limits.Window // windows counting tokens, not requests
	reqWindows   []limits.Window // windows counting requests (count_tokens.go)
	maxParallel  int
}

func buildLimits(p *policy.Policy) tokenLimits {
	own := limits.Budget{Key: "", Limit: p.MaxTokens}
	tl := tokenLimits{budgets: map[string][]limits.Budget{"": {own}}}
	for _, g := range p.Providers {
		for i, en := range g.Entries {
			if en.MaxTokens > 0 {
				key := g.Name + "/" + strconv.Itoa(i)
				tl.budgets[key] = []limits.Budget{own, {Key: key, Limit: en.MaxTokens}}
			}
		}
	}
	if rl := p.RateLimit; rl != nil {
		tl.maxParallel = rl.MaxParallel
		for _, r := range rl.Rules {
			if r.CostUSD > 0 {
				continue // a dollar window: costLimits (cost.go)
			}
			w := limits.Window{Requests: r.Requests > 0, Window: r.WindowDuration(), Fixed: r.Strategy == "fixed"}
			w.Limit = r.Tokens
			if w.Requests {
				w.Limit = r.Requests
			}
			tl.windows = append(tl.windows, w)
			if w.Requests {
				tl.reqWindows = append(tl.reqWindows, w)
			} else {
				tl.tokenWindows = append(tl.tokenWindows, w)
			}
		}
	}
	return tl
}

func (e *tokenEntry) limitRequest(budgetKey string) limits.Request {
	b, ok := e.lim.budgets[budgetKey]
	if !ok {
		b = e.lim.budgets[""]
	}
	return limits.Request{Subject: e.hash, Budgets: b, Windows: e.lim.windows, MaxParallel: e.lim.maxParallel,
		LeaseTTL: 2 * time.Minute}
}

// resolve routes a model for a token: the policy entry (or the providers.yaml
// model lists when the policy names no providers), the provider, and its key.
func (s *Server) resolve(e *tokenEntry, model string) (policy.Resolved, *provider, string, error) {
	res, err := e.policy.Resolve(model)
	if err != nil {
		return res, nil, "", &core.Error{Status: 403, Type: core.TypePermission, Code: "model_not_allowed", Param: "model",
			Message: "The model " + strconv.Quote(model) + " is not allowed for this token.", Err: err}
	}
	var p *provider
	if res.Provider != "" {
		p = s.providers[res.Provider]
		if p == nil {
			return res, nil, "", &core.Error{Status: 502, Type: core.TypeUpstream, Code: "provider_not_configured",
				Message: "The token routes this model to provider " + strconv.Quote(res.Provider) + ", which this proxy does not configure."}
		}
	} else {
		p = s.providerForModel(model)
	}
	if res.UpstreamURL != "" {
		// Checked again here, not only when the token was created: the
		// record may come from a central server with another allow-list,
		// an older build, or a copied database. A provider key goes only
		// where this proxy's operator configured.
		if !s.upstreams.Allows(res.UpstreamURL) {
			return res, nil, "", &core.Error{Status: 403, Type: core.TypePermission, Code: "upstream_not_allowed",
				Message: "The token's upstream_url is not an upstream this proxy is configured for.", Err: config.ErrUpstreamNotAllowed}
		}
		override := p.cfg
		override.UpstreamURL = res.UpstreamURL
		op, err := newProvider(override)
		if err != nil {
			return res, nil, "", &core.Error{Status: 502, Type: core.TypeUpstream, Code: "bad_upstream", Message: "The token's upstream_url is not usable.", Err: err}
		}
		p = op
	}
	keyEnv := res.KeyEnv
	if keyEnv == "" {
		keyEnv = p.cfg.APIKeyEnv
	}
	if keyEnv != p.cfg.APIKeyEnv && !s.allowedKeys[keyEnv] {
		// A policy may only pick among keys the operator configured for
		// providers, never an arbitrary environment variable.
		return res, nil, "", &core.Error{Status: 502, Type: core.TypeUpstream, Code: "key_not_allowed",
			Message: "The token names provider key variable " + strconv.Quote(keyEnv) + ", which no provider in providers.yaml uses."}
	}
	key := ""
	if p.cfg.AuthScheme != "none" {
		if key = s.getenv(keyEnv); key == "" {
			return res, nil, "", &core.Error{Status: 503, Type: core.TypeServer, Code: "provider_key_missing",
				Message: "The proxy has no key for provider " + strconv.Quote(p.name) + " (" + keyEnv + " is not set)."}
		}
	}
	return res, p, key, nil
}

// providerForModel finds the first provider listing the model, else the
// generic OpenAI-compatible one at server.upstream_url.
func (s *Server) providerForModel(model string) *provider {
	for _, p := range s.order {
		for _, m := range p.cfg.Models {
			if m == model {
				return p
			}
		}
	}
	if p := s.providers["generic"]; p != nil {
		return p
	}
	return s.order[0]
}

// hasVersionRange reports whether a rule of p, or of one of its provider
// entries, names its plugin by version range (plugin@^1).
func hasVersionRange(p *policy.Policy) bool {
	if rangedRules(p.Rules) {
		return true
	}
	for gi := range p.Providers {
		for i := range p.Providers[gi].Entries {
			if rangedRules(p.Providers[gi].Entries[i].Rules) {
				return true
			}
		}
	}
	return false
}
