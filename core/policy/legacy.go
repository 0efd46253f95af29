package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// UnmarshalJSON decodes a rule object, or a bare string: the original
// project's legacy form, a regex rule with action fail on input.
func (r *Rule) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var pattern string
		if err := json.Unmarshal(data, &pattern); err != nil {
			return fmt.Errorf("decoding legacy rule: %w", err)
		}
		*r = Rule{Type: RuleTypeRegex, Pattern: pattern, Action: ActionFail, Scope: ScopeInput}
		return nil
	}
	type plain Rule // without this method
	return json.Unmarshal(data, (*plain)(r))
}

// fillCompat gives rules what the original project let them omit: the
// type (regex) and a name (their path, e.g. "rules[2]"), and lowercases pii
// detector names, which it matched case-insensitively. It runs before
// validation so the defaults are validated like written values.
func (p *Policy) fillCompat() {
	fillRules("rules", p.Rules)
	for gi := range p.Providers {
		g := &p.Providers[gi]
		for i := range g.Entries {
			fillRules(fmt.Sprintf("%s[%d].rules", joinKey("providers", g.Name), i), g.Entries[i].Rules)
		}
	}
}

func fillRules(at string, rules []Rule) {
	for i := range rules {
		r := &rules[i]
		if r.Type == "" {
			r.Type = RuleTypeRegex
		}
		if r.Name == "" {
			r.Name = fmt.Sprintf("%s[%d]", at, i)
		}
		for j, d := range r.Detect { // the original matched detector names case-insensitively
			r.Detect[j] = strings.ToLower(d)
		}
	}
}
