package main

import (
	"github.com/tokenomics-dev/tokenomics/internal/benchdata"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/sdk/detect"
)

// TestChatBody: about 1 KB, and the contractor's PII rule finds both an
// e-mail address and a phone number in it, so masking really happens.
func TestChatBody(t *testing.T) {
	t.Parallel()
	body := chatBody(128, false)
	assert.InDelta(t, 1024, len(body), 64, "about 1 KB")
	for _, name := range []string{"email", "phone"} {
		d, ok := detect.Lookup(name)
		require.True(t, ok, name)
		found := false
		for _, p := range d.Patterns {
			for _, m := range regexp.MustCompile(p).FindAll([]byte(benchdata.Question), -1) {
				if d.Validate == nil || d.Validate(m) > 0 {
					found = true
				}
			}
		}
		assert.True(t, found, "the request holds a %s the PII rule detects", name)
	}
}
