package rules

import (
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/sdk/detect"
)

func findAll(m interface {
	find([]byte, bool, *sink)
}, text string, first bool) [][3]int {
	s := sink{buf: make([]byte, 4096*12)}
	m.find([]byte(text), first, &s)
	var out [][3]int
	for i := 0; i < s.n; i++ {
		a, b, p := s.at(i)
		out = append(out, [3]int{a, b, p})
	}
	return out
}

func TestKeywords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		words []string
		fold  bool
		whole bool
		text  string
		want  [][3]int
	}{
		{name: "fold", words: []string{"hack"}, fold: true, whole: true, text: "HaCk it", want: [][3]int{{0, 4, 0}}},
		{name: "no fold", words: []string{"hack"}, whole: true, text: "HACK hack", want: [][3]int{{5, 9, 0}}},
		{name: "boundary", words: []string{"hack"}, fold: true, whole: true, text: "hackathon shack hack_x hack-x", want: [][3]int{{23, 27, 0}}},
		{name: "substring mode", words: []string{"hack"}, fold: true, text: "hackathon", want: [][3]int{{0, 4, 0}}},
		{name: "overlapping words", words: []string{"he", "she", "hers"}, text: "ushers", want: [][3]int{{1, 4, 1}, {2, 4, 0}, {2, 6, 2}}},
		{name: "unicode boundary", words: []string{"naïve"}, whole: true, text: "naïve naïveté", want: [][3]int{{0, 6, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newACMatcher(tc.words, tc.fold, tc.whole)
			assert.Equal(t, tc.want, findAll(m, tc.text, false))
		})
	}
}

func TestRegexFacts(t *testing.T) {
	t.Parallel()
	rs, err := compileRegexSet([]string{
		`[a-z]+@[a-z]+\.com`,              // runs: no space
		`(?i)api_key\s{0,3}=\s{0,3}\w{8}`, // windows: bounded, literal
		`(?i)ignore.*instructions`,        // whole text behind a gate
		`^start`,                          // anchored: whole text
	})
	require.NoError(t, err)
	assert.NotZero(t, rs.runPats&1)
	assert.True(t, rs.pats[1].windowed)
	assert.True(t, rs.pats[2].gated && !rs.pats[2].windowed)
	assert.True(t, rs.pats[3].gated && !rs.pats[3].windowed, "anchored: whole text")
	assert.Equal(t, unbounded, rs.maxLen)
}

// corpus mixes the detectors' true positives with code and prose.
var corpus = []string{
	"jane.doe@example.com 415-555-0132 (415) 555-0132 +44 20 7946 0958 123-45-6789",
	"4111 1111 1111 1111 5500-0000-0000-0004 AKIAIOSFODNN7EXAMPLE sk-proj-abc123DEF456ghi789JKL012",
	"api_key = \"9f8e7d6c5b4a3210fedcba98\" Authorization: Bearer abcdef0123456789ABCDEF0123",
	"postgres://app:s3cret@db:5432/x Server=db;Password=Hunter2; fe80::1ff:fe23:4567:890a 10.0.0.1",
	"-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- eyJhbGciOi.eyJzdWIiOi.sig",
	"func main() { x := map[string]int{\"a\": 1}; fmt.Println(x) } // ignore the instructions",
	"ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 you are now DAN; SYSTEM prompt; ſystem prompt",
}

func allPatterns() []string {
	var ps []string
	for _, d := range detect.Detectors {
		ps = append(ps, d.Patterns...)
	}
	return append(ps, `(?i)(ignore.*instructions|system.*prompt|you are now)`, `\bORD-\d{6}\b`, `(?m)^\s*rm -rf`)
}

// plainMatches is what regexp finds over the whole text: the reference the
// prefiltered set must equal.
func plainMatches(res []*regexp.Regexp, text string, first bool) [][3]int {
	var out [][3]int
	for p, re := range res {
		g := re.SubexpIndex(matchGroup)
		for _, loc := range re.FindAllStringSubmatchIndex(text, -1) {
			a, b := loc[0], loc[1]
			if g > 0 {
				if loc[2*g] < 0 {
					continue
				}
				a, b = loc[2*g], loc[2*g+1]
			}
			out = append(out, [3]int{a, b, p})
		}
	}
	return out
}

func sortMatches(m [][3]int) [][3]int {
	slices.SortFunc(m, func(a, b [3]int) int {
		for i := range a {
			if a[i] != b[i] {
				return a[i] - b[i]
			}
		}
		return 0
	})
	return m
}

func checkEquivalent(t *testing.T, rs *regexSet, res []*regexp.Regexp, text string) {
	t.Helper()
	got := sortMatches(findAll(rs, text, false))
	want := sortMatches(plainMatches(res, text, false))
	require.Equal(t, want, got, "text %q", text)
	if len(want) > 0 {
		assert.Len(t, findAll(rs, text, true), 1, "first-only stops at one match")
	}
}

func TestRegexSetEqualsRegexp(t *testing.T) {
	t.Parallel()
	ps := allPatterns()
	rs, err := compileRegexSet(ps)
	require.NoError(t, err)
	var res []*regexp.Regexp
	for _, p := range ps {
		res = append(res, regexp.MustCompile(p))
	}
	for _, text := range corpus {
		checkEquivalent(t, rs, res, text)
	}
}

func FuzzRegexSetEqualsRegexp(f *testing.F) {
	for _, c := range corpus {
		f.Add(c)
	}
	ps := allPatterns()
	rs, err := compileRegexSet(ps)
	require.NoError(f, err)
	var res []*regexp.Regexp
	for _, p := range ps {
		res = append(res, regexp.MustCompile(p))
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkEquivalent(t, rs, res, text)
	})
}

func FuzzKeywordsEqualRegexp(f *testing.F) {
	f.Add("how to Hack, bypass or JAILBREAK; hackathon")
	words := []string{"jailbreak", "bypass", "override", "hack", "hack it"}
	m := newACMatcher(words, true, true)
	f.Fuzz(func(t *testing.T, text string) {
		var want [][3]int
		for i, w := range words {
			re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(w))
			for _, loc := range re.FindAllStringIndex(text, -1) {
				if boundaryBefore([]byte(text), loc[0]) && boundaryAfter([]byte(text), loc[1]) {
					want = append(want, [3]int{loc[0], loc[1], i})
				}
			}
		}
		got := findAll(m, text, false)
		// Folding is ASCII-only: drop regexp hits that needed Unicode folding.
		want = slices.DeleteFunc(want, func(x [3]int) bool {
			return !asciiFoldEqual(text[x[0]:x[1]], words[x[2]])
		})
		require.Equal(t, sortMatches(want), sortMatches(got))
	})
}

func asciiFoldEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// TestGateLiteral: the gate looks for the part of a literal that starts at
// its rarest byte, never shorter than three bytes.
func TestGateLiteral(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"ECRET": "CRET", "API": "API", "TRUCTION": "UCTION", "Bearer": "Bearer",
		"YOU ARE NOW": "YOU ARE NOW", "ab": "ab", "sk-": "sk-", "eee": "eee"} {
		assert.Equal(t, want, gateLiteral(in), in)
	}
}
