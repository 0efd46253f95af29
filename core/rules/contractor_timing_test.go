package rules

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/sdk/detect"
)

// BenchmarkContractorRules runs the contractor policy's rules (pii with six
// detectors, one regex, four keywords) over a 2 KB chat through the WASM
// host. The chat holds an e-mail and a phone number, so pii masks.
func BenchmarkContractorRules(b *testing.B) {
	for _, tc := range []struct {
		name    string
		sandbox bool
		allow   bool
	}{
		{name: "mask"},
		{name: "allow", allow: true},
		{name: "mask-sandboxed", sandbox: true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := sharedHost(b)
			if tc.sandbox {
				h = newTestHost(b, Config{SandboxBuiltins: true})
			}
			rs, err := h.Compile(contractorRules(b), nil)
			require.NoError(b, err)
			texts := contractorChat(b)
			if tc.allow {
				texts = withoutPII(texts)
			}
			ctx := context.Background()
			var v Verdict
			waitWarm(b, h)
			require.NoError(b, rs.Check(ctx, Input, texts, &v))
			if tc.allow {
				require.Equal(b, Allow, v.Action)
			} else {
				require.Equal(b, Mask, v.Action)
				require.Len(b, v.Edits, 2)
			}
			b.ReportAllocs()
			b.SetBytes(int64(textBytes(texts)))
			for b.Loop() {
				_ = rs.Check(ctx, Input, texts, &v)
			}
		})
	}
}

// BenchmarkContractorRulesNative does the same detection in plain Go: the
// same matchers, patterns, validators and verdict, without WASM.
func BenchmarkContractorRulesNative(b *testing.B) {
	for _, tc := range []struct {
		name  string
		allow bool
	}{
		{name: "mask"},
		{name: "allow", allow: true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			n := newNativeContractor(b, contractorRules(b))
			texts := contractorChat(b)
			if tc.allow {
				texts = withoutPII(texts)
			}
			var v Verdict
			n.check(texts, &v)
			if tc.allow {
				require.Equal(b, Allow, v.Action)
			} else {
				require.Equal(b, Mask, v.Action)
				require.Len(b, v.Edits, 2)
			}
			b.ReportAllocs()
			b.SetBytes(int64(textBytes(texts)))
			for b.Loop() {
				n.check(texts, &v)
			}
		})
	}
}

func textBytes(texts []Text) int {
	n := 0
	for _, t := range texts {
		n += len(t.Data)
	}
	return n
}

// nativeContractor is the contractor rules written directly against the
// host's matchers, mirroring plugins/pii, regex and keyword (served by plugins/builtin).
type nativeContractor struct {
	pii     *regexSet
	dets    []detect.Detector
	patDet  []int
	repl    [][]byte
	inject  *regexSet
	keyword *acMatcher
	rec     []byte
	cands   []nativeCand
}

type nativeCand struct{ start, end, det int }

func newNativeContractor(t testing.TB, rules []policy.Rule) *nativeContractor {
	n := &nativeContractor{rec: make([]byte, 64*12)}
	var patterns []string
	for _, d := range detect.Detectors {
		if slices.Contains(rules[0].Detect, d.Name) {
			for _, p := range d.Patterns {
				patterns = append(patterns, p)
				n.patDet = append(n.patDet, len(n.dets))
			}
			n.dets = append(n.dets, d)
			n.repl = append(n.repl, []byte("[REDACTED:"+d.Name+"]"))
		}
	}
	var err error
	n.pii, err = compileRegexSet(patterns)
	require.NoError(t, err)
	n.inject, err = compileRegexSet([]string{rules[1].Pattern})
	require.NoError(t, err)
	n.keyword = newACMatcher(rules[2].Keywords, true, true)
	return n
}

func (n *nativeContractor) check(texts []Text, v *Verdict) {
	v.Reset()
	for ti, t := range texts {
		s := sink{buf: n.rec}
		n.pii.find(t.Data, false, &s)
		if s.n == 0 {
			continue
		}
		n.cands = n.cands[:0]
		for i := 0; i < min(s.n, len(n.rec)/12); i++ {
			start, end, p := s.at(i)
			d := n.patDet[p]
			if val := n.dets[d].Validate; val != nil {
				l := val(t.Data[start:end])
				if l == 0 {
					continue
				}
				end = start + l
			}
			n.cands = append(n.cands, nativeCand{start, end, d})
		}
		for _, c := range n.cands {
			v.Findings = append(v.Findings, Finding{Rule: "pii-mask", Detector: n.dets[c.det].Name, Action: FindingMask, Text: ti, Start: c.start, End: c.end})
			v.Edits = append(v.Edits, Edit{Text: ti, Start: c.start, End: c.end, Replacement: n.repl[c.det]})
		}
	}
	for rule := range 2 {
		for ti, t := range texts {
			s := sink{buf: n.rec}
			if rule == 0 {
				n.inject.find(t.Data, true, &s)
			} else {
				n.keyword.find(t.Data, true, &s)
			}
			if s.n > 0 {
				start, end, _ := s.at(0)
				v.Findings = append(v.Findings, Finding{Rule: "rule", Action: FindingFail, Text: ti, Start: start, End: end})
				v.block("rule", "matched")
				return
			}
		}
	}
	v.finish()
}
