package policy

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// MaxTimeout is the largest timeout, in seconds, a policy may set.
const MaxTimeout = 3600

// MaxRetries is the largest retry.max_retries.
const MaxRetries = 10

// Validate checks the whole policy and returns every problem found, each a
// *FieldError, joined with errors.Join. When the policy is valid it is
// normalized in place (defaults applied, "block" stored as "fail") and the
// state Resolve needs is computed: compiled regexps, parsed windows and
// budget keys. Parse calls it; call it yourself for a policy built in code,
// and again after changing one.
func (p *Policy) Validate() error {
	p.fillCompat()
	v := &validator{}
	v.policy(p)
	if len(v.errs) == 0 {
		// Needs the regexps compiled above, so it runs only on a clean pass.
		v.fallbacks(p)
	}
	if len(v.errs) > 0 {
		return errors.Join(v.errs...)
	}
	p.applyDefaults()
	return nil
}

type validator struct{ errs []error }

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// field joins a parent path and a field name.
func field(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

var (
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	groupNameRE  = regexp.MustCompile(`^[a-z0-9_-]+$`)
	pluginNameRE = regexp.MustCompile(`^[a-z0-9._-]+$`)
	sha256RE     = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
)

func (v *validator) policy(p *Policy) {
	v.target("", p.BaseKeyEnv, p.UpstreamURL)
	p.modelRE = v.modelMatch("", p.Model, p.ModelRegex)
	v.limits("", p.MaxTokens, p.Timeout)
	p.maxCost = v.cost("max_cost_usd", p.MaxCostUSD)
	v.prompts("prompts", p.Prompts)
	names := v.rules("rules", p.Rules, nil)
	if p.RateLimit != nil {
		v.rateLimit(p.RateLimit)
		v.costWindows(p.RateLimit)
	}
	if p.Retry != nil {
		v.retry(p.Retry)
	}
	if _, ok := p.Metadata[""]; ok {
		v.add(`metadata[""]`, "key must not be empty")
	}
	if p.Memory != nil {
		v.memory(p.Memory)
	}
	v.providers(p.Providers, names)
	if p.DefaultProvider != "" && !groupNameRE.MatchString(p.DefaultProvider) {
		v.add("default_provider", "must be a provider name matching [a-z0-9_-]+, got %q", p.DefaultProvider)
	}
}

func (v *validator) prompts(at string, msgs []Message) {
	for i, m := range msgs {
		mat := fmt.Sprintf("%s[%d]", at, i)
		switch m.Role {
		case "system", "user", "assistant":
		default:
			v.add(mat+".role", "must be one of system, user, assistant, got %q", m.Role)
		}
		if strings.TrimSpace(m.Content) == "" {
			v.add(mat+".content", "must not be empty")
		}
	}
}

// target checks where requests go: the key's environment variable and the
// upstream URL.
func (v *validator) target(at, keyEnv, upstream string) {
	if keyEnv != "" && !envNameRE.MatchString(keyEnv) {
		v.add(field(at, "base_key_env"), "must be an environment variable name, got %q", keyEnv)
	}
	if upstream != "" {
		u, err := url.Parse(upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add(field(at, "upstream_url"), "must be an absolute http or https URL, got %q", upstream)
		} else if u.User != nil {
			v.add(field(at, "upstream_url"), "must not carry credentials; use base_key_env")
		}
	}
}

// modelMatch checks model_regex and returns the compiled regexp. Both
// model and model_regex may be set, as in the original project: at the top
// level a model must pass both, in a provider entry either (see Resolve).
func (v *validator) modelMatch(at, model, pattern string) *regexp.Regexp {
	if pattern == "" {
		return nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		v.add(field(at, "model_regex"), "does not compile: %v", err)
		return nil
	}
	return re
}

func (v *validator) limits(at string, maxTokens int64, timeout int) {
	if maxTokens < 0 {
		v.add(field(at, "max_tokens"), "must not be negative")
	}
	switch {
	case timeout < 0:
		v.add(field(at, "timeout"), "must not be negative")
	case timeout > MaxTimeout:
		v.add(field(at, "timeout"), "must be at most %d seconds", MaxTimeout)
	}
}

// ruleFields lists the type-specific rule fields, so a field set on a rule
// of another type is reported instead of silently ignored.
var ruleFields = []struct {
	name  string
	owner string
	set   func(*Rule) bool
}{
	{"detect", RuleTypePII, func(r *Rule) bool { return len(r.Detect) > 0 }},
	{"pattern", RuleTypeRegex, func(r *Rule) bool { return r.Pattern != "" }},
	{"keywords", RuleTypeKeyword, func(r *Rule) bool { return len(r.Keywords) > 0 }},
	{"case_sensitive", RuleTypeKeyword, func(r *Rule) bool { return r.CaseSensitive }},
	{"threshold", RuleTypePromptGuard, func(r *Rule) bool { return r.Threshold != 0 }}, // and jailbreak
	{"plugin", RuleTypeWASM, func(r *Rule) bool { return r.Plugin != "" }},
	{"sha256", RuleTypeWASM, func(r *Rule) bool { return r.SHA256 != "" }},
	{"config", RuleTypeWASM, func(r *Rule) bool { return len(r.Config) > 0 }},
}

// rules checks one list of rules, at the JSON path prefix. Names must be
// unique within the list and not repeat one of taken (the policy's own
// rules, for a provider entry's). It returns the names, with their paths.
func (v *validator) rules(prefix string, rules []Rule, taken map[string]string) map[string]string {
	names := make(map[string]string, len(rules))
	for i := range rules {
		r := &rules[i]
		at := fmt.Sprintf("%s[%d]", prefix, i)
		if r.Name == "" {
			v.add(at+".name", "is required")
		} else if other, dup := names[r.Name]; dup {
			v.add(at+".name", "duplicate rule name %q (also %s)", r.Name, other)
		} else if other, dup := taken[r.Name]; dup {
			v.add(at+".name", "duplicate rule name %q (also %s)", r.Name, other)
		} else {
			names[r.Name] = at
		}

		action := normalAction(r.Action)
		switch action {
		case ActionFail, ActionWarn, ActionLog, ActionMask:
		default:
			v.add(at+".action", "must be one of fail, warn, log, mask (block means fail), got %q", r.Action)
		}
		switch r.Scope {
		case "", ScopeInput, ScopeOutput, ScopeBoth:
		default:
			v.add(at+".scope", "must be one of input, output, both, got %q", r.Scope)
		}
		switch r.OnError {
		case "", OnErrorBlock, OnErrorAllow:
		default:
			v.add(at+".on_error", "must be block or allow, got %q", r.OnError)
		}

		switch r.Type {
		case RuleTypePII:
			if len(r.Detect) == 0 {
				v.add(at+".detect", "must name at least one of %s", strings.Join(Detectors, ", "))
			}
			for j, d := range r.Detect {
				if !slices.Contains(Detectors, d) {
					v.add(fmt.Sprintf("%s.detect[%d]", at, j), "unknown detector %q; known: %s", d, strings.Join(Detectors, ", "))
				}
			}
		case RuleTypeRegex:
			if r.Pattern == "" {
				v.add(at+".pattern", "is required for a regex rule")
			} else if _, err := regexp.Compile(r.Pattern); err != nil {
				v.add(at+".pattern", "does not compile: %v", err)
			}
		case RuleTypeKeyword:
			if len(r.Keywords) == 0 {
				v.add(at+".keywords", "must list at least one keyword")
			}
			for j, k := range r.Keywords {
				if k == "" {
					v.add(fmt.Sprintf("%s.keywords[%d]", at, j), "must not be empty")
				}
			}
		case RuleTypePromptGuard, RuleTypeJailbreak:
			if action == ActionMask && r.Type == RuleTypePromptGuard {
				v.add(at+".action", "mask is not supported by prompt_guard rules; a jailbreak rule masks whole messages")
			}
			if r.Threshold < 0 || r.Threshold > 1 {
				v.add(at+".threshold", "must be between 0 and 1")
			}
		case RuleTypeWASM:
			v.wasm(at, r)
		case "":
			v.add(at+".type", "is required")
			continue
		default:
			v.add(at+".type", "must be one of pii, regex, keyword, jailbreak, prompt_guard, wasm, got %q", r.Type)
			continue
		}
		for _, f := range ruleFields {
			if f.owner != engineType(r.Type) && f.set(r) {
				v.add(at+"."+f.name, "not allowed for a %s rule (only for %s)", r.Type, f.owner)
			}
		}
	}
	return names
}

// engineType is the built-in plugin a rule type runs on: jailbreak is the
// original project's name for the prompt-injection detector.
func engineType(t string) string {
	if t == RuleTypeJailbreak {
		return RuleTypePromptGuard
	}
	return t
}

func (v *validator) wasm(at string, r *Rule) {
	// "name@range" pins a semver range (^1, ~1.2, 1.2.3) that follows the
	// newest trusted version a proxy holds; a plain name needs a sha256.
	name, rng, ranged := strings.Cut(r.Plugin, "@")
	switch {
	case name == "":
		v.add(at+".plugin", "is required for a wasm rule")
	case !pluginNameRE.MatchString(name) || name[0] == '.':
		v.add(at+".plugin", "must match [a-z0-9._-]+ (optionally @ and a semver range) and not start with a dot, got %q", r.Plugin)
	}
	switch {
	case ranged:
		if _, err := semver.NewConstraint(rng); err != nil || rng == "" {
			v.add(at+".plugin", "%q after @ must be a semver range such as ^1, ~1.2 or 1.2.3", rng)
		}
		if r.SHA256 != "" {
			v.add(at+".sha256", "must be empty when plugin names a version range: pin one or the other")
		}
	case r.SHA256 == "":
		v.add(at+".sha256", "is required for a wasm rule (or name a version range: plugin@^1)")
	case !sha256RE.MatchString(r.SHA256):
		v.add(at+".sha256", "must be 64 hexadecimal digits")
	}
	if len(r.Config) > 0 {
		if cv, err := decodeDocument(r.Config); err != nil {
			v.add(at+".config", "must be a JSON object: %v", err)
		} else if cv.kind != kindObject {
			v.add(at+".config", "must be a JSON object, got %s", cv.kind)
		}
	}
}

func (v *validator) rateLimit(rl *RateLimit) {
	if rl.MaxParallel < 0 {
		v.add("rate_limit.max_parallel", "must not be negative")
	}
	for i := range rl.Rules {
		r := &rl.Rules[i]
		at := fmt.Sprintf("rate_limit.rules[%d]", i)
		negative := false
		if r.Requests < 0 {
			v.add(at+".requests", "must not be negative")
			negative = true
		}
		if r.Tokens < 0 {
			v.add(at+".tokens", "must not be negative")
			negative = true
		}
		r.cost = v.cost(at+".cost_usd", r.CostUSD)
		if r.CostUSD < 0 {
			negative = true
		}
		if set := btoi(r.Requests > 0) + btoi(r.Tokens > 0) + btoi(r.CostUSD > 0); !negative && set != 1 {
			v.add(at, "must set exactly one of requests, tokens or cost_usd")
		}
		if r.Window == "" {
			v.add(at+".window", "is required; "+windowHelp)
		} else if d, msg := parseWindow(r.Window); msg != "" {
			v.add(at+".window", "%q is not a valid window: %s", r.Window, msg)
		} else {
			r.window = d
		}
		switch r.Strategy {
		case "", StrategySliding, StrategyFixed:
		default:
			v.add(at+".strategy", "must be sliding or fixed, got %q", r.Strategy)
		}
	}
}

func (v *validator) retry(r *Retry) {
	if r.MaxRetries < 0 || r.MaxRetries > MaxRetries {
		v.add("retry.max_retries", "must be between 0 and %d", MaxRetries)
	}
	for j, code := range r.RetryOn {
		if code < 400 || code > 599 {
			v.add(fmt.Sprintf("retry.retry_on[%d]", j), "must be an HTTP status between 400 and 599, got %d", code)
		}
	}
	for j, f := range r.Fallbacks {
		if f == "" {
			v.add(fmt.Sprintf("retry.fallbacks[%d]", j), "must not be empty")
		}
	}
}

// fallbacks refuses fallback models the policy itself would refuse, since
// such a fallback could only ever fail.
func (v *validator) fallbacks(p *Policy) {
	if p.Retry == nil {
		return
	}
	for j, f := range p.Retry.Fallbacks {
		if !p.AllowsModel(f) {
			v.add(fmt.Sprintf("retry.fallbacks[%d]", j), "model %q is not allowed by this policy", f)
		}
	}
}

func (v *validator) memory(m *Memory) {
	switch {
	case m.FilePath == "":
		if m.Enabled {
			v.add("memory.file_path", "is required when memory is enabled")
		}
	case strings.ContainsRune(m.FilePath, 0):
		v.add("memory.file_path", "must not contain NUL")
	case hasDotDot(m.FilePath):
		v.add("memory.file_path", "must not contain .. segments")
	}
	if m.FileName != "" {
		if msg := checkFileName(m.FileName); msg != "" {
			v.add("memory.file_name", "%s, got %q", msg, m.FileName)
		}
		if bad := unknownPlaceholder(m.FileName); bad != "" {
			v.add("memory.file_name", "unknown placeholder %q; only {token_hash}, {session_id} and {date} are allowed", bad)
		}
	}
	if m.MaxSizeMB > MaxMemorySizeMB {
		v.add("memory.max_size_mb", "must be at most %d", MaxMemorySizeMB)
	}
}

// MaxMemorySizeMB bounds memory.max_size_mb.
const MaxMemorySizeMB = 1 << 20

// checkFileName says what is wrong with a memory file_name, or "". It is a
// relative path of "/"-separated segments, none empty, "." or "..".
func checkFileName(name string) string {
	switch {
	case strings.ContainsRune(name, 0):
		return "must not contain NUL"
	case strings.ContainsRune(name, '\\'):
		return `must separate directories with "/", not "\"`
	case strings.HasPrefix(name, "/"):
		return "must be relative to file_path"
	}
	for _, seg := range strings.Split(name, "/") {
		switch seg {
		case "":
			return "must not have empty segments or a trailing /"
		case ".", "..":
			return `must not have "." or ".." segments`
		}
	}
	return ""
}

// unknownPlaceholder returns the first brace group of name that is not a
// known placeholder, or "".
func unknownPlaceholder(name string) string {
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '{':
			rest := name[i:]
			if strings.HasPrefix(rest, "{token_hash}") || strings.HasPrefix(rest, "{session_id}") || strings.HasPrefix(rest, "{date}") {
				i += strings.IndexByte(rest, '}')
				continue
			}
			if j := strings.IndexByte(rest, '}'); j >= 0 {
				return rest[:j+1]
			}
			return rest
		case '}':
			return "}"
		}
	}
	return ""
}

// hasDotDot reports whether a path has a ".." segment, with either separator.
func hasDotDot(p string) bool {
	for _, seg := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return true
		}
	}
	return false
}

func (v *validator) providers(ps Providers, ruleNames map[string]string) {
	seen := make(map[string]bool, len(ps))
	for gi := range ps {
		g := &ps[gi]
		at := joinKey("providers", g.Name)
		if !groupNameRE.MatchString(g.Name) {
			v.add(at, "group name must match [a-z0-9_-]+")
		}
		if seen[g.Name] {
			v.add(at, "duplicate group")
		}
		seen[g.Name] = true
		if len(g.Entries) == 0 {
			v.add(at, "must list at least one entry")
		}
		for i := range g.Entries {
			e := &g.Entries[i]
			eat := fmt.Sprintf("%s[%d]", at, i)
			v.target(eat, e.BaseKeyEnv, e.UpstreamURL)
			e.modelRE = v.modelMatch(eat, e.Model, e.ModelRegex)
			v.limits(eat, e.MaxTokens, e.Timeout)
			e.maxCost = v.cost(eat+".max_cost_usd", e.MaxCostUSD)
			v.prompts(eat+".prompts", e.Prompts)
			v.rules(eat+".rules", e.Rules, ruleNames)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// normalAction maps the accepted spellings to the stored one.
func normalAction(a string) string {
	if a == "" || a == "block" {
		return ActionFail
	}
	return a
}
