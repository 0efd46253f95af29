package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core/policy"
)

// CaseFile is the test-case format of `tokenomics plugin test`:
//
//	cases:
//	  - name: masks an e-mail
//	    phase: input                    # input (default) or output
//	    rule: {action: mask}            # policy rule fields (JSON names); action defaults to fail
//	    config: {words: [secret]}       # the plugin's config (the rule's "config")
//	    texts:
//	      - {role: user, data: "my secret"}
//	    expect:
//	      action: mask                  # allow, mask or block
//	      output: ["my [REDACTED:word]"] # texts after the edits (optional)
//	      findings:                     # exact list (optional); fields left out are not compared
//	        - {detector: word, text: 0, start: 3, end: 9}
//	      reason_contains: "..."        # for block (optional)
//	  - name: refuses an empty list
//	    config: {words: []}
//	    expect:
//	      configure_error: "words"      # the plugin must refuse the config; the message contains this
type CaseFile struct {
	Cases []Case `yaml:"cases"`
}

// Case is one test case.
type Case struct {
	Name   string         `yaml:"name"`
	Phase  string         `yaml:"phase"`
	Rule   map[string]any `yaml:"rule"`
	Config any            `yaml:"config"`
	Texts  []CaseText     `yaml:"texts"`
	Expect CaseExpect     `yaml:"expect"`
}

// CaseText is one input text.
type CaseText struct {
	Role string `yaml:"role"`
	Kind string `yaml:"kind"`
	Data string `yaml:"data"`
}

// CaseExpect is what a case expects.
type CaseExpect struct {
	Action         string        `yaml:"action"`
	Output         []string      `yaml:"output"`
	Findings       []CaseFinding `yaml:"findings"`
	ReasonContains string        `yaml:"reason_contains"`
	NoFindings     bool          `yaml:"no_findings"`
	// ConfigureError expects the rule not to compile (the plugin refuses
	// its config, or the policy parser refuses the rule) with a message
	// containing this text; no texts are checked.
	ConfigureError string `yaml:"configure_error"`
}

// CaseFinding is an expected finding; nil fields match anything.
type CaseFinding struct {
	Detector *string `yaml:"detector"`
	Action   *string `yaml:"action"`
	Text     *int    `yaml:"text"`
	Start    *int    `yaml:"start"`
	End      *int    `yaml:"end"`
}

// Report is the outcome of RunCases.
type Report struct {
	Passed, Failed int
	Cases          []CaseResult
}

// CaseResult is the outcome of one case; Problems is empty when it passed.
type CaseResult struct {
	Name     string
	Problems []string
}

// OK tells whether every case passed.
func (r *Report) OK() bool { return r.Failed == 0 }

// RunCases loads the module wasm as a custom plugin (sandboxed, as in
// production) and runs the cases of casesYAML against it.
func RunCases(ctx context.Context, wasm []byte, casesYAML []byte) (Report, error) {
	cases, err := ParseCases(casesYAML)
	if err != nil {
		return Report{}, err
	}
	h := New(Config{}, hclog.NewNullLogger())
	if err := h.Provision(ctx); err != nil {
		return Report{}, err
	}
	defer h.Close(ctx)
	sum := Sum(wasm)
	source := func(string, string) ([]byte, error) { return wasm, nil }
	m, err := h.load("plugin", wasm, false)
	if err != nil {
		return Report{}, err
	}
	if err := m.wait(ctx); err != nil {
		return Report{}, err
	}
	return h.runCases(ctx, cases, func(r map[string]any) {
		r["type"], r["plugin"], r["sha256"] = TypeWASM, "plugin", sum
	}, source), nil
}

// ParseCases decodes a case file strictly.
func ParseCases(casesYAML []byte) ([]Case, error) {
	var f CaseFile
	dec := yaml.NewDecoder(strings.NewReader(string(casesYAML)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: decoding: %w", ErrBadCases, err)
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("%w: no cases", ErrBadCases)
	}
	var errs []error
	for i, c := range f.Cases {
		if c.Name == "" {
			errs = append(errs, fmt.Errorf("case #%d: name is empty", i+1))
		}
		if c.Phase != "" && c.Phase != "input" && c.Phase != "output" {
			errs = append(errs, fmt.Errorf("case %q: phase %q (want input or output)", c.Name, c.Phase))
		}
		switch c.Expect.Action {
		case "allow", "mask", "block":
		case "":
			if c.Expect.ConfigureError == "" {
				errs = append(errs, fmt.Errorf("case %q: expect.action is empty (want allow, mask or block, or expect.configure_error)", c.Name))
			}
		default:
			errs = append(errs, fmt.Errorf("case %q: expect.action %q (want allow, mask or block)", c.Name, c.Expect.Action))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCases, err)
	}
	return f.Cases, nil
}

// runCases runs cases on h; fix completes each case's rule (plugin, type).
func (h *Host) runCases(ctx context.Context, cases []Case, fix func(map[string]any), source func(string, string) ([]byte, error)) Report {
	var rep Report
	for _, c := range cases {
		res := CaseResult{Name: c.Name}
		res.Problems = h.runCase(ctx, c, fix, source)
		if len(res.Problems) == 0 {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Cases = append(rep.Cases, res)
	}
	return rep
}

func (h *Host) runCase(ctx context.Context, c Case, fix func(map[string]any), source func(string, string) ([]byte, error)) []string {
	phase := Input
	if c.Phase == "output" {
		phase = Output
	}
	r, err := caseRule(c, fix)
	if err != nil {
		return configureOutcome(c.Expect, err)
	}
	rs, err := h.Compile([]policy.Rule{r}, source)
	if err != nil || c.Expect.ConfigureError != "" {
		return configureOutcome(c.Expect, err)
	}
	texts := make([]Text, len(c.Texts))
	for i, t := range c.Texts {
		texts[i] = Text{Data: []byte(t.Data), Role: t.Role, Kind: t.Kind}
	}
	var v Verdict
	if err := rs.Check(ctx, phase, texts, &v); err != nil {
		return []string{fmt.Sprintf("checking: %v", err)}
	}
	return compareCase(c.Expect, texts, &v)
}

// caseRule builds the case's policy rule and parses it with the
// production parser.
func caseRule(c Case, fix func(map[string]any)) (policy.Rule, error) {
	m := map[string]any{}
	for k, v := range c.Rule {
		m[k] = v
	}
	fix(m)
	if _, ok := m["scope"]; !ok && c.Phase == "output" {
		m["scope"] = "output"
	}
	if _, ok := m["name"]; !ok {
		m["name"] = c.Name
	}
	if c.Config != nil {
		m["config"] = c.Config
	}
	raw, err := json.Marshal(map[string]any{"rules": []any{m}})
	if err != nil {
		return policy.Rule{}, fmt.Errorf("encoding rule: %w", err)
	}
	// The production parser: its defaults (on_error by action) and checks
	// apply here exactly as on a proxy, so a case shows what production does.
	p, err := policy.Parse(raw)
	if err != nil {
		return policy.Rule{}, fmt.Errorf("rule: %w", err)
	}
	return p.Rules[0], nil
}

// configureOutcome compares a compile outcome with expect.configure_error.
func configureOutcome(e CaseExpect, err error) []string {
	switch {
	case e.ConfigureError == "" && err != nil:
		return []string{fmt.Sprintf("compiling rule: %v", err)}
	case e.ConfigureError != "" && err == nil:
		return []string{fmt.Sprintf("the rule compiled, want a configure error containing %q", e.ConfigureError)}
	case e.ConfigureError != "" && !strings.Contains(err.Error(), e.ConfigureError):
		return []string{fmt.Sprintf("configure error %q does not contain %q", err.Error(), e.ConfigureError)}
	}
	return nil
}

func compareCase(e CaseExpect, texts []Text, v *Verdict) []string {
	var p []string
	if got := v.Action.String(); got != e.Action {
		p = append(p, fmt.Sprintf("action %s, want %s (reason %q)", got, e.Action, v.Reason))
	}
	if e.ReasonContains != "" && !strings.Contains(v.Reason, e.ReasonContains) {
		p = append(p, fmt.Sprintf("reason %q does not contain %q", v.Reason, e.ReasonContains))
	}
	if e.Output != nil {
		if len(e.Output) != len(texts) {
			p = append(p, fmt.Sprintf("expect.output has %d texts, the case %d", len(e.Output), len(texts)))
		} else {
			for i := range texts {
				if got := string(v.Apply(i, texts[i].Data, nil)); got != e.Output[i] {
					p = append(p, fmt.Sprintf("text %d became %q, want %q", i, got, e.Output[i]))
				}
			}
		}
	}
	if e.NoFindings && len(v.Findings) > 0 {
		p = append(p, fmt.Sprintf("%d findings, want none", len(v.Findings)))
	}
	if e.Findings != nil {
		if len(v.Findings) != len(e.Findings) {
			p = append(p, fmt.Sprintf("%d findings %v, want %d", len(v.Findings), describe(v.Findings), len(e.Findings)))
		} else {
			for i, want := range e.Findings {
				if !findingMatches(v.Findings[i], want) {
					p = append(p, fmt.Sprintf("finding %d is %v", i, describe(v.Findings[i:i+1])))
				}
			}
		}
	}
	return p
}

func findingMatches(f Finding, w CaseFinding) bool {
	return (w.Detector == nil || *w.Detector == f.Detector) &&
		(w.Action == nil || *w.Action == f.Action) &&
		(w.Text == nil || *w.Text == f.Text) &&
		(w.Start == nil || *w.Start == f.Start) &&
		(w.End == nil || *w.End == f.End)
}

func describe(fs []Finding) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("{%s %s text %d [%d,%d)}", f.Detector, f.Action, f.Text, f.Start, f.End))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
