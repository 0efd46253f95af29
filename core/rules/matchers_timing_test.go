package rules

import (
	"testing"
)

// BenchmarkContractorMatchers runs each host matcher of the contractor
// policy (pii's regex set of 13 patterns, the injection regex, the keyword
// automaton) alone over the 2 KB chat without PII (pii-found: with its
// e-mail address and phone number): the scan cost a plugin call adds.
func BenchmarkContractorMatchers(b *testing.B) {
	n := newNativeContractor(b, contractorRules(b))
	withPII := contractorChat(b)
	texts := withoutPII(withPII)
	rec := make([]byte, 64*12)
	for _, tc := range []struct {
		name string
		find func(t []byte, s *sink)
	}{
		{"pii", func(t []byte, s *sink) { n.pii.find(t, false, s) }},
		{"pii-found", func(t []byte, s *sink) { n.pii.find(t, false, s) }},
		{"inject", func(t []byte, s *sink) { n.inject.find(t, true, s) }},
		{"keyword", func(t []byte, s *sink) { n.keyword.find(t, true, s) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			texts := texts
			if tc.name == "pii-found" {
				texts = withPII
			}
			b.SetBytes(int64(textBytes(texts)))
			b.ReportAllocs()
			s := &sink{}
			for b.Loop() {
				for _, t := range texts {
					s.buf, s.n = rec, 0
					tc.find(t.Data, s)
				}
			}
		})
	}
}
