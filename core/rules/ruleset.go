package rules

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/sdk/abi"
	"github.com/tokenomics-dev/tokenomics/sdk/detect"
)

// Rule types.
const (
	TypePII         = "pii"
	TypeRegex       = "regex"
	TypeKeyword     = "keyword"
	TypePromptGuard = "prompt_guard"
	TypeWASM        = "wasm"
)

// RuleSet is one policy's rules, prepared by Host.Compile. It is immutable
// and safe for concurrent use; per-request state lives in the Verdict and
// the Stream.
type RuleSet struct {
	h     *Host
	rules []rule
	// tail is the stream hold-back in bytes (0: no output rules). Until
	// every output rule's plugin has told its longest match it is the
	// conservative StreamTailMax+1; tailFinal says it no longer changes.
	tail      atomic.Int64
	tailFinal atomic.Bool
	// oneByOne turns off batching (one guest call per rule): the reference
	// the batched calls are tested against.
	oneByOne bool
}

// rule is one prepared policy rule.
type rule struct {
	name         string
	action       string // fail, mask, warn, log
	scope        Phase  // bitmask of Input and Output
	blockOnError bool
	flags        uint32
	plugin       string // the rule type for built-ins, else the module's name
	mod          *module
	cfg          *modConfig
	obs          RuleObserver
	failReason   string // the client's reason when the rule cannot run
	errFinding   Finding
}

// compileTimeout bounds Compile's wait for the plugins of one policy.
const compileTimeout = time.Minute

// Compile validates and prepares one policy's rules and waits until every
// plugin is loaded and has accepted its configuration, so a bad config or a
// plugin that does not load fails here with an error naming the rule. It is
// for tools and tests (`plugin test`); the proxy uses CompileAsync.
func (h *Host) Compile(rules []policy.Rule, custom func(name, sha256 string) ([]byte, error)) (*RuleSet, error) {
	rs, err := h.CompileAsync(rules, custom)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(h.ctx, compileTimeout)
	defer cancel()
	if err := rs.Wait(ctx); err != nil {
		return nil, err
	}
	return rs, nil
}

// CompileAsync validates one policy's rules and returns at once: it loads
// each rule's plugin (built-in by type, or custom through custom(name,
// sha256) for type wasm, checked against the sha256) in the background and
// never runs guest code on the caller's goroutine. Errors it returns are
// the policy's own (unknown type, bad pattern, sha256 mismatch). A rule
// whose plugin is still loading or failed to load counts as failed at check
// time, and its on_error decides; a configuration the plugin refuses
// blocks. custom may be nil when the policy has no wasm rules.
func (h *Host) CompileAsync(rules []policy.Rule, custom func(name, sha256 string) ([]byte, error)) (*RuleSet, error) {
	if h.closed.Load() {
		return nil, ErrClosed
	}
	rs := &RuleSet{h: h}
	var errs []error
	for i := range rules {
		r, err := h.compileRule(&rules[i], custom)
		if err != nil {
			name := rules[i].Name
			if name == "" {
				name = fmt.Sprintf("#%d", i+1)
			}
			errs = append(errs, fmt.Errorf("rule %q: %w", name, err))
			continue
		}
		rs.rules = append(rs.rules, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rs.updateTail()
	if !rs.tailFinal.Load() {
		go rs.warm()
	}
	return rs, nil
}

// Wait blocks until every rule's plugin is loaded and its configuration
// prepared, or ctx ends, and returns every failure.
func (rs *RuleSet) Wait(ctx context.Context) error {
	var errs []error
	for i := range rs.rules {
		r := &rs.rules[i]
		if err := r.mod.prepare(ctx, r.cfg); err != nil {
			errs = append(errs, fmt.Errorf("rule %q: configuring plugin %q: %w", r.name, r.plugin, err))
		}
	}
	rs.updateTail()
	return errors.Join(errs...)
}

// warm prepares the rules in the background so the stream tail settles
// and refused configurations are logged before the first request.
func (rs *RuleSet) warm() {
	ctx, cancel := context.WithTimeout(rs.h.ctx, compileTimeout)
	defer cancel()
	if err := rs.Wait(ctx); err != nil && !rs.h.closed.Load() {
		rs.h.log.Warn("content rules not ready; they fail closed until their plugins load", "error", Cause(err))
	}
}

// updateTail recomputes the stream hold-back from the prepared configs.
func (rs *RuleSet) updateTail() {
	if rs.tailFinal.Load() {
		return
	}
	tail, final := 0, true
	for i := range rs.rules {
		r := &rs.rules[i]
		if r.scope&Output == 0 {
			continue
		}
		t := rs.h.cfg.StreamTailMax
		if r.cfg.ready.Load() {
			t = r.cfg.maxMatch
			if t == unbounded || t > rs.h.cfg.StreamTailMax {
				t = rs.h.cfg.StreamTailMax
			}
		} else {
			final = false
		}
		tail = max(tail, t+1) // +1: a byte after a match settles \b
	}
	rs.tail.Store(int64(tail))
	if final {
		rs.tailFinal.Store(true)
	}
}

// Scopes tells whether any rule runs on input and on output.
func (rs *RuleSet) Scopes() (input, output bool) {
	for i := range rs.rules {
		input = input || rs.rules[i].scope&Input != 0
		output = output || rs.rules[i].scope&Output != 0
	}
	return input, output
}

// StreamTail is the number of bytes a Stream holds back.
func (rs *RuleSet) StreamTail() int {
	rs.updateTail()
	return int(rs.tail.Load())
}

func (h *Host) compileRule(pr *policy.Rule, custom func(name, sha256 string) ([]byte, error)) (rule, error) {
	r := rule{name: pr.Name}
	if r.name == "" {
		return r, fmt.Errorf("%w: name is empty", ErrBadRule)
	}
	switch pr.Action {
	case "", "fail", "block":
		r.action = FindingFail
	case FindingMask, FindingWarn, FindingLog:
		r.action = pr.Action
	default:
		return r, fmt.Errorf("%w: action %q (want fail, mask, warn or log)", ErrBadRule, pr.Action)
	}
	switch pr.Scope {
	case "", "input":
		r.scope = Input
	case "output":
		r.scope = Output
	case "both":
		r.scope = Input | Output
	default:
		return r, fmt.Errorf("%w: scope %q (want input, output or both)", ErrBadRule, pr.Scope)
	}
	switch pr.OnError {
	case "":
		r.blockOnError = r.action == FindingFail || r.action == FindingMask
	case "block":
		r.blockOnError = true
	case "allow":
	default:
		return r, fmt.Errorf("%w: on_error %q (want block or allow)", ErrBadRule, pr.OnError)
	}
	if r.action == FindingFail {
		r.flags |= abi.CheckFirst
	}
	blob, err := builtinConfig(pr)
	if err != nil {
		return r, err
	}
	var mod *module
	if pr.Type == TypeWASM {
		mod, err = h.customModule(pr, custom)
	} else {
		// The built-in module serves every type: the type goes with the
		// configuration.
		mod, err = h.builtin()
		r.plugin = builtinName(pr.Type)
		blob = abi.AppendTypedConfig(nil, r.plugin, blob)
	}
	if err != nil {
		return r, err
	}
	if pr.Type == TypeWASM {
		r.plugin = mod.name
	}
	r.mod = mod
	r.cfg = mod.config(blob)
	r.obs = h.ruleObserver(r.plugin, mod.sha, r.name)
	r.failReason = fmt.Sprintf("content rule %q could not be checked", r.name)
	r.errFinding = Finding{Rule: r.name, Action: FindingError, Text: -1}
	return r, nil
}

// builtinConfig validates the rule's fields for its type and encodes the
// plugin config blob: abi fields (abi.DecodeFields) for the built-in types,
// which the built-in module decodes without encoding/json; the rule's own
// JSON config for wasm rules. Configuration is off the hot path.
func builtinConfig(pr *policy.Rule) ([]byte, error) {
	var f []string
	switch pr.Type {
	case TypePII:
		if len(pr.Detect) == 0 {
			return nil, fmt.Errorf("%w: detect names no detector", ErrBadRule)
		}
		for _, d := range pr.Detect {
			if _, ok := detect.Lookup(d); !ok {
				return nil, fmt.Errorf("%w: unknown detector %q (known: %s)", ErrBadRule, d, strings.Join(detect.Names(), ", "))
			}
			f = abi.AppendField(f, "detect", d)
		}
	case TypeRegex:
		if pr.Pattern == "" {
			return nil, fmt.Errorf("%w: pattern is empty", ErrBadRule)
		}
		if _, err := regexp.Compile(pr.Pattern); err != nil {
			return nil, fmt.Errorf("%w: pattern: %w", ErrBadRule, err)
		}
		f = abi.AppendField(f, "pattern", pr.Pattern)
	case TypeKeyword:
		if len(pr.Keywords) == 0 || slices.Contains(pr.Keywords, "") {
			return nil, fmt.Errorf("%w: keywords must be non-empty strings", ErrBadRule)
		}
		for _, k := range pr.Keywords {
			f = abi.AppendField(f, "keyword", k)
		}
		if pr.CaseSensitive {
			f = abi.AppendField(f, "case_sensitive", "true")
		}
	case TypePromptGuard, policy.RuleTypeJailbreak:
		if pr.Threshold < 0 || pr.Threshold > 1 {
			return nil, fmt.Errorf("%w: threshold %v must be in (0,1]", ErrBadRule, pr.Threshold)
		}
		if pr.Threshold != 0 {
			f = abi.AppendField(f, "threshold", strconv.FormatFloat(pr.Threshold, 'g', -1, 64))
		}
		if pr.Type == policy.RuleTypeJailbreak && pr.Action == FindingMask {
			// Whole messages, as the original did.
			f = abi.AppendField(f, "replace", policy.JailbreakReplacement)
		}
	case TypeWASM:
		if len(pr.Config) == 0 {
			return []byte("{}"), nil
		}
		return pr.Config, nil
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownType, pr.Type)
	}
	return abi.EncodeList(nil, f), nil
}

// builtinName is the built-in plugin behind a rule type: jailbreak is the
// original project's name for prompt_guard.
func builtinName(ruleType string) string {
	if ruleType == policy.RuleTypeJailbreak {
		return TypePromptGuard
	}
	return ruleType
}

func (h *Host) customModule(pr *policy.Rule, custom func(name, sha256 string) ([]byte, error)) (*module, error) {
	// plugin is a name with a sha256 pin, or name@range: then the resolver
	// picks the newest verified version in the range and vouches for it
	// (it checks the bytes against their signed manifest).
	name, rng, ranged := strings.Cut(pr.Plugin, "@")
	if name == "" || (pr.SHA256 == "") != ranged || (ranged && rng == "") {
		return nil, fmt.Errorf("%w: a wasm rule needs plugin and sha256, or plugin@range", ErrBadRule)
	}
	if custom == nil {
		return nil, fmt.Errorf("%w: no plugin source for %q", ErrBadRule, pr.Plugin)
	}
	wasm, err := custom(pr.Plugin, pr.SHA256)
	if err != nil {
		return nil, fmt.Errorf("fetching plugin %q: %w", pr.Plugin, err)
	}
	if sum := Sum(wasm); !ranged && !strings.EqualFold(sum, pr.SHA256) {
		return nil, fmt.Errorf("%w: plugin %q has sha256 %s, the rule wants %s", ErrBadModule, pr.Plugin, sum, pr.SHA256)
	}
	return h.load(name, wasm, false, false)
}
