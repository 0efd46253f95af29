package proxy

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tokenomics-dev/tokenomics/core/rules"
)

func TestBlockReasonHidesRuleFailures(t *testing.T) {
	t.Parallel()
	failed := rules.Verdict{Action: rules.Block, Rule: "prompt-guard",
		Reason:   `content rule "prompt-guard" failed: wasm error: unreachable\nwasm stack trace:\n\tguard.check(...)`,
		Findings: []rules.Finding{{Rule: "prompt-guard", Detector: "error", Action: rules.FindingError, Text: -1}}}
	got := blockReason(&failed, "req-42")
	assert.NotContains(t, got, "wasm")
	assert.Contains(t, got, "prompt-guard")
	assert.Contains(t, got, "req-42")

	matched := rules.Verdict{Action: rules.Block, Rule: "kw", Reason: `content rule "kw" matched "jailbreak"`}
	assert.Equal(t, matched.Reason, blockReason(&matched, "req-42"))
}
