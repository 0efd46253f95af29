package rules

import (
	"testing"
)

// BenchmarkContractorMatchers runs each host matcher of the contractor
// policy (pii's regex set of 13 patterns, the injection regex, the keyword
// automaton) alone over the 2 KB chat without PII: the per-byte scan cost
// that a plugin call adds to the request.
func BenchmarkContractorMatchers(b *testing.B) {
	n := newNativeContractor(b, contractorRules(b))
	texts := withoutPII(contractorChat(b))
	rec := make([]byte, 64*12)
	for _, tc := range []struct {
		name string
		find func(t []byte, s *sink)
	}{
		{"pii", func(t []byte, s *sink) { n.pii.find(t, false, s) }},
		{"inject", func(t []byte, s *sink) { n.inject.find(t, true, s) }},
		{"keyword", func(t []byte, s *sink) { n.keyword.find(t, true, s) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(textBytes(texts)))
			b.ReportAllocs()
			for b.Loop() {
				for _, t := range texts {
					s := sink{buf: rec}
					tc.find(t.Data, &s)
				}
			}
		})
	}
}
