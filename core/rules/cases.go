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
//	  - name: a word split across stream chunks
//	    rule: {action: mask, scope: output}
//	    config: {words: [secret]}
//	    stream: ["my sec", "ret plan"]  # a streamed answer, delta by delta (phase output)
//	    expect:
//	      action: mask                  # the strongest over the stream
//	      output: ["my [REDACTED:word] plan"] # what the client receives, joined
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
	// Stream is a streamed answer's deltas, checked as the proxy checks
	// one (held-back tail, masks applied as bytes are released); its
	// expect.output has one entry, the joined bytes the client receives.
	Stream []string   `yaml:"stream"`
	Expect CaseExpect `yaml:"expect"`
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
	ch, err := newCaseHost(ctx, wasm)
	if err != nil {
		return Report{}, err
	}
	defer ch.h.Close(ctx)
	return ch.h.runCases(ctx, cases, ch.fix, ch.source), nil
}

// caseHost is a Host with the plugin under test loaded, as production
// loads a custom plugin.
type caseHost struct {
	h      *Host
	fix    func(map[string]any)
	source func(string, string) ([]byte, error)
}

func newCaseHost(ctx context.Context, wasm []byte) (*caseHost, error) {
	h := New(Config{}, hclog.NewNullLogger())
	if err := h.Provision(ctx); err != nil {
		return nil, err
	}
	sum := Sum(wasm)
	m, err := h.load("plugin", wasm, false, false)
	if err == nil {
		err = m.wait(ctx)
	}
	if err != nil {
		_ = h.Close(ctx)
		return nil, err
	}
	return &caseHost{h: h,
		fix:    func(r map[string]any) { r["type"], r["plugin"], r["sha256"] = TypeWASM, "plugin", sum },
		source: func(string, string) ([]byte, error) { return wasm, nil },
	}, nil
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
		if len(c.Stream) > 0 && (len(c.Texts) > 0 || c.Phase == "input") {
			errs = append(errs, fmt.Errorf("case %q: stream is an answer (phase output) and replaces texts", c.Name))
		}
		if len(c.Stream) > 0 && c.Expect.Output != nil && len(c.Expect.Output) != 1 {
			errs = append(errs, fmt.Errorf("case %q: a stream's expect.output is one string, the joined answer", c.Name))
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
	rs, run, problems := h.prepareCase(c, fix, source)
	if rs == nil {
		return problems
	}
	var v Verdict
	texts, err := run(ctx, &v)
	if err != nil {
		return []string{fmt.Sprintf("checking: %v", err)}
	}
	return compareCase(c.Expect, texts, &v)
}

// prepareCase compiles the case's rule and returns the check to run: one
// Check of the texts, or the whole stream (its texts are then the joined
// output, already masked). A nil RuleSet means the case ended at compile
// time, with problems (none when a configure error was expected).
func (h *Host) prepareCase(c Case, fix func(map[string]any), source func(string, string) ([]byte, error)) (*RuleSet, func(context.Context, *Verdict) ([]Text, error), []string) {
	phase := Input
	if c.Phase == "output" || len(c.Stream) > 0 {
		phase = Output
	}
	r, err := caseRule(c, fix)
	if err != nil {
		return nil, nil, configureOutcome(c.Expect, err)
	}
	rs, err := h.Compile([]policy.Rule{r}, source)
	if err != nil || c.Expect.ConfigureError != "" {
		return nil, nil, configureOutcome(c.Expect, err)
	}
	if len(c.Stream) > 0 {
		return rs, func(ctx context.Context, v *Verdict) ([]Text, error) { return streamCase(ctx, rs, c.Stream, v) }, nil
	}
	texts := make([]Text, len(c.Texts))
	for i, t := range c.Texts {
		texts[i] = Text{Data: []byte(t.Data), Role: t.Role, Kind: t.Kind}
	}
	return rs, func(ctx context.Context, v *Verdict) ([]Text, error) {
		return texts, rs.Check(ctx, phase, texts, v)
	}, nil
}

// streamCase feeds the deltas through a Stream as the proxy does and sums
// the outcome into v: the strongest action, every finding, the first
// block's reason. The returned text is what the client received, with no
// edits left to apply.
func streamCase(ctx context.Context, rs *RuleSet, deltas []string, v *Verdict) ([]Text, error) {
	st := rs.NewStream(ctx)
	var out []byte
	var step Verdict
	sum := func() {
		if step.Action > v.Action {
			v.Action = step.Action
		}
		if step.Action == Block && v.Reason == "" {
			v.Reason, v.Rule = step.Reason, step.Rule
		}
		v.Findings = append(v.Findings, step.Findings...)
	}
	v.Reset()
	v.Findings, v.Edits = v.Findings[:0], v.Edits[:0]
	for _, d := range deltas {
		emit, err := st.Write([]byte(d), &step)
		if err != nil {
			return nil, err
		}
		out = append(out, emit...)
		sum()
		if step.Action == Block {
			return []Text{{Data: out, Role: "assistant", Kind: "delta"}}, nil
		}
	}
	emit, err := st.Flush(&step)
	if err != nil {
		return nil, err
	}
	out = append(out, emit...)
	sum()
	v.Edits = v.Edits[:0] // already applied to out
	return []Text{{Data: out, Role: "assistant", Kind: "delta"}}, nil
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
