package rules

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRegexSetManyMatchesPerWindow: windows holding several matches of
// one pattern, or a required byte after the first match that starts no
// other, or context (\b) right at the first match's end, find exactly
// what regexp finds over the whole text.
func TestRegexSetManyMatchesPerWindow(t *testing.T) {
	t.Parallel()
	ps := allPatterns()
	rs, err := compileRegexSet(ps)
	require.NoError(t, err)
	var res []*regexp.Regexp
	for _, p := range ps {
		res = append(res, regexp.MustCompile(p))
	}
	for _, text := range []string{
		"x@y.com+z@w.org",                      // two e-mails in one run
		"a@b.co@c.de",                          // the second @ inside the first run
		"a@b.com@",                             // a required byte after the match, no second match
		"415-555-0132 415-555-0133 415-555-01", // phones sharing a run (space is in their alphabet)
		"123-45-6789 987-65-4321",              // SSNs, \b at both ends
		"4111 1111 1111 1111 4111 1111 1111 1111",
		"(415) 555-0132(415) 555-0133",
		"+44 20 7946 0958 +1 415 555 0132",
		"10.0.0.1 10.0.0.2.10.0.0.3",
		"api_key=abcdefghijklmnop0123 api_key=0123456789abcdefXYZ",
		"Bearer abcdefghijklmnopqrstuvwxyz Bearer ZYXWVUTSRQPONMLKJIHGFEDCBA",
		"ignore the instructions, ignore all instructions",
	} {
		checkEquivalent(t, rs, res, text)
	}
}

// TestMatchWindowAllocs: a window with one match costs the regexp's one
// match slice, not FindAll's list besides it; no match, nothing.
func TestMatchWindowAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race are the detector's")
	}
	rs, err := compileRegexSet(allPatterns())
	require.NoError(t, err)
	s := sink{buf: make([]byte, 4096*12)}
	for _, tc := range []struct {
		text   string
		allocs float64
	}{
		{"no sensitive data in this sentence at all", 0},
		{"write to maria.keller@example.com today", 1},
		{"call (415) 555-0132 or write to maria.keller@example.com", 2},
	} {
		text := []byte(tc.text)
		got := testing.AllocsPerRun(100, func() {
			s.n = 0
			rs.find(text, false, &s)
		})
		assert.Equal(t, tc.allocs, got, "%q", tc.text)
	}
}
