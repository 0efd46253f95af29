package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
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
	tail  int // stream hold-back in bytes (0: no output rules)
}

// rule is one prepared policy rule.
type rule struct {
	name         string
	action       string // fail, mask, warn, log
	scope        Phase  // bitmask of Input and Output
	blockOnError bool
	flags        uint32
	mod          *module
	cfg          *modConfig
	repl         [][]byte // default replacement per detector
	reasons      []string // block reason per detector
	errFinding   Finding
}

// compileTimeout bounds the configuration of one policy's rules.
const compileTimeout = time.Minute

// Compile validates and prepares one policy's rules: it loads each rule's
// plugin (built-in by type, or custom through custom(name, sha256) for type
// wasm, checked against the sha256) and configures it once, so a bad config
// fails here with an error naming the rule. custom may be nil when the
// policy has no wasm rules.
func (h *Host) Compile(rules []policy.Rule, custom func(name, sha256 string) ([]byte, error)) (*RuleSet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), compileTimeout)
	defer cancel()
	rs := &RuleSet{h: h}
	var errs []error
	for i := range rules {
		r, err := h.compileRule(ctx, &rules[i], custom)
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
	for i := range rs.rules {
		r := &rs.rules[i]
		if r.scope&Output == 0 {
			continue
		}
		t := r.cfg.maxMatch
		if t == unbounded || t > h.cfg.StreamTailMax {
			t = h.cfg.StreamTailMax
		}
		rs.tail = max(rs.tail, t+1) // +1: a byte after a match settles \b
	}
	return rs, nil
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
func (rs *RuleSet) StreamTail() int { return rs.tail }

func (h *Host) compileRule(ctx context.Context, pr *policy.Rule, custom func(name, sha256 string) ([]byte, error)) (rule, error) {
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
		mod, err = h.customModule(ctx, pr, custom)
	} else {
		mod, err = h.builtin(ctx, builtinName(pr.Type))
	}
	if err != nil {
		return r, err
	}
	r.mod = mod
	r.cfg = mod.config(blob)
	if err := mod.prepare(ctx, r.cfg); err != nil {
		return r, fmt.Errorf("configuring plugin %q: %w", mod.name, err)
	}
	for _, d := range r.cfg.detectors {
		r.repl = append(r.repl, []byte("[REDACTED:"+d+"]"))
		r.reasons = append(r.reasons, fmt.Sprintf("content rule %q matched %s", r.name, d))
	}
	r.errFinding = Finding{Rule: r.name, Action: FindingError, Text: -1}
	return r, nil
}

// builtinConfig validates the rule's fields for its type and encodes the
// plugin config blob (JSON; configuration is off the hot path).
func builtinConfig(pr *policy.Rule) ([]byte, error) {
	var v any
	switch pr.Type {
	case TypePII:
		if len(pr.Detect) == 0 {
			return nil, fmt.Errorf("%w: detect names no detector", ErrBadRule)
		}
		for _, d := range pr.Detect {
			if _, ok := detect.Lookup(d); !ok {
				return nil, fmt.Errorf("%w: unknown detector %q (known: %s)", ErrBadRule, d, strings.Join(detect.Names(), ", "))
			}
		}
		v = struct {
			Detect []string `json:"detect"`
		}{pr.Detect}
	case TypeRegex:
		if pr.Pattern == "" {
			return nil, fmt.Errorf("%w: pattern is empty", ErrBadRule)
		}
		if _, err := regexp.Compile(pr.Pattern); err != nil {
			return nil, fmt.Errorf("%w: pattern: %w", ErrBadRule, err)
		}
		v = struct {
			Pattern string `json:"pattern"`
		}{pr.Pattern}
	case TypeKeyword:
		if len(pr.Keywords) == 0 || slices.Contains(pr.Keywords, "") {
			return nil, fmt.Errorf("%w: keywords must be non-empty strings", ErrBadRule)
		}
		v = struct {
			Keywords      []string `json:"keywords"`
			CaseSensitive bool     `json:"case_sensitive"`
		}{pr.Keywords, pr.CaseSensitive}
	case TypePromptGuard, policy.RuleTypeJailbreak:
		if pr.Threshold < 0 || pr.Threshold > 1 {
			return nil, fmt.Errorf("%w: threshold %v must be in (0,1]", ErrBadRule, pr.Threshold)
		}
		c := struct {
			Threshold float64 `json:"threshold,omitempty"`
			Replace   string  `json:"replace,omitempty"`
		}{Threshold: pr.Threshold}
		if pr.Type == policy.RuleTypeJailbreak && pr.Action == FindingMask {
			c.Replace = policy.JailbreakReplacement // whole messages, as the original did
		}
		v = c
	case TypeWASM:
		if len(pr.Config) == 0 {
			return []byte("{}"), nil
		}
		return pr.Config, nil
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownType, pr.Type)
	}
	return json.Marshal(v)
}

// builtinName is the built-in plugin behind a rule type: jailbreak is the
// original project's name for prompt_guard.
func builtinName(ruleType string) string {
	if ruleType == policy.RuleTypeJailbreak {
		return TypePromptGuard
	}
	return ruleType
}

func (h *Host) customModule(ctx context.Context, pr *policy.Rule, custom func(name, sha256 string) ([]byte, error)) (*module, error) {
	if pr.Plugin == "" || pr.SHA256 == "" {
		return nil, fmt.Errorf("%w: a wasm rule needs plugin and sha256", ErrBadRule)
	}
	if custom == nil {
		return nil, fmt.Errorf("%w: no plugin source for %q", ErrBadRule, pr.Plugin)
	}
	wasm, err := custom(pr.Plugin, pr.SHA256)
	if err != nil {
		return nil, fmt.Errorf("fetching plugin %q: %w", pr.Plugin, err)
	}
	if sum := Sum(wasm); !strings.EqualFold(sum, pr.SHA256) {
		return nil, fmt.Errorf("%w: plugin %q has sha256 %s, the rule wants %s", ErrBadModule, pr.Plugin, sum, pr.SHA256)
	}
	return h.load(ctx, pr.Plugin, wasm, false)
}
