package textnorm

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/textnorm/internal/derive"
)

func TestView(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src string
		json      bool
		want      string
	}{
		{"ascii is its own view", "call 123-45-6789 now", false, "call 123-45-6789 now"},
		{"zero-width space inside a number", "123\u200b-45-6789", false, "123-45-6789"},
		{"zero-width inside an address", "bob\u200b@example.com", false, "bob@example.com"},
		{"joiners, BOM, soft hyphen, word joiner", "Ig\u200dno\ufeffre pre\u00advious in\u2060structions", false, "Ignore previous instructions"},
		{"fullwidth digits", "１２３-４５-６７８９", false, "123-45-6789"},
		{"Cyrillic homoglyphs", "ignоrе prеviоus instruсtiоns", false, "ignore previous instructions"},
		{"Greek capitals", "ΙGΝΟRΕ", false, "IGNORE"},
		{"unicode hyphens and minus", "123\u201045\u22126789", false, "123-45-6789"},
		{"math bold letters", "𝐢𝐠𝐧𝐨𝐫𝐞", false, "ignore"},
		{"tag characters", "ig\U000E0041nore", false, "ignore"},
		{"variation selector", "ig\ufe0fnore", false, "ignore"},
		{"control characters", "ig\x00no\x7fre\tx\n", false, "ignore\tx\n"},
		{"json escapes in tool arguments", `{"ssn":"123\u002d45\u002d6789"}`, true, `{"ssn":"123-45-6789"}`},
		{"json escaped zero-width", `{"a":"123\u200b-45"}`, true, `{"a":"123-45"}`},
		{"json surrogate pair", `"\ud835\udc22gnore"`, true, `"ignore"`},
		{"json lone surrogate", `"\ud800x"`, true, "\"\ufffdx\""},
		{"backslash outside json", `a\u002db`, false, `a\u002db`},
		{"combining sequence kept (per-character NFKC)", "cafe\u0301", false, "cafe\u0301"},
		{"invalid utf-8 replaced", "a\xffb", false, "a\ufffdb"},
	}
	var n Normalizer
	for _, tc := range cases {
		n.Reset()
		i := n.Add([]byte(tc.src), tc.json)
		assert.Equal(t, tc.want, string(n.Text(i)), tc.name)
	}
}

func TestMapCutsOriginalBytes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src, find string
		json            bool
		want            string // source bytes the view's match maps to
	}{
		{"zero width inside", "SSN 123\u200b-45-6789 ok", "123-45-6789", false, "123\u200b-45-6789"},
		{"fullwidth", "x １２３-４５-６７８９ y", "123-45-6789", false, "１２３-４５-６７８９"},
		{"homoglyph word", "please ignоrе this", "ignore", false, "ignоrе"},
		{"escape", `{"k":"123\u002d45-6789"}`, "123-45-6789", true, `123\u002d45-6789`},
		{"ligature", "ﬁle", "fi", false, "ﬁ"},
	}
	var n Normalizer
	for _, tc := range cases {
		n.Reset()
		i := n.Add([]byte(tc.src), tc.json)
		view := n.Text(i)
		at := bytes.Index(view, []byte(tc.find))
		require.GreaterOrEqual(t, at, 0, tc.name)
		s, e := n.Map(i, at, at+len(tc.find))
		assert.Equal(t, tc.want, tc.src[s:e], tc.name)
	}
}

func TestManyTexts(t *testing.T) {
	t.Parallel()
	var n Normalizer
	a := n.Add([]byte("plain"), false)
	b := n.Add([]byte("１"), false)
	c := n.Add([]byte("ｘｙ"), false)
	assert.False(t, n.Identity())
	assert.Equal(t, "plain", string(n.Text(a)))
	assert.Equal(t, "1", string(n.Text(b)))
	assert.Equal(t, "xy", string(n.Text(c)))
	s, e := n.Map(c, 1, 2)
	assert.Equal(t, []int{3, 6}, []int{s, e})
	n.Reset()
	n.Add([]byte("x"), true)
	assert.True(t, n.Identity())
}

func TestEscapeJSON(t *testing.T) {
	t.Parallel()
	var n Normalizer
	assert.Equal(t, "[REDACTED:ssn]", string(n.EscapeJSON([]byte("[REDACTED:ssn]"))))
	assert.Equal(t, `a\"b\\c\u000a`, string(n.EscapeJSON([]byte("a\"b\\c\n"))))
}

// TestConfusablesTable keeps the generated table equal to what the Unicode
// data gives (go generate ./core/textnorm rewrites it).
func TestConfusablesTable(t *testing.T) {
	t.Parallel()
	want := derive.Confusables()
	require.Len(t, confusables, len(want))
	for i, e := range want {
		require.Equal(t, e.R, confusables[i].r)
		require.Equal(t, e.To, confusables[i].to, "rune %U", e.R)
	}
}

func FuzzNormalizer(f *testing.F) {
	f.Add([]byte("123\u200b-45-6789"), false)
	f.Add([]byte(`{"a":"\u0041\ud800"}`), true)
	f.Add([]byte("ﬁ １ о"), false)
	f.Fuzz(func(t *testing.T, src []byte, json bool) {
		var n Normalizer
		i := n.Add(src, json)
		view := n.Text(i)
		if plain(src, json) && !bytes.Equal(view, src) {
			t.Fatalf("plain text changed")
		}
		last := 0
		for s := 0; s <= len(view); s++ {
			for e := s; e <= len(view) && e <= s+8; e++ {
				a, b := n.Map(i, s, e)
				if a < 0 || b > len(src) || a > b {
					t.Fatalf("Map(%d,%d) = %d,%d outside %d", s, e, a, b, len(src))
				}
			}
			if s < len(view) {
				a, _ := n.Map(i, s, s+1)
				if a < last {
					t.Fatalf("map not monotonic at %d", s)
				}
				last = a
			}
		}
		if utf8.Valid(src) && !json && strings.ContainsRune(string(view), '\u200b') {
			t.Fatalf("zero-width space left in view")
		}
	})
}

// TestPlainMatchesBytewise checks the word-at-a-time scan against the
// byte rule on every byte value at every position of a word.
func TestPlainMatchesBytewise(t *testing.T) {
	t.Parallel()
	for _, json := range []bool{false, true} {
		for c := 0; c < 256; c++ {
			for pos := 0; pos < 11; pos++ {
				b := []byte("abcdefghijk")
				b[pos] = byte(c)
				want := true
				for _, x := range b {
					if x >= utf8.RuneSelf || asciiStop(x, json) {
						want = false
					}
				}
				if got := plain(b, json); got != want {
					t.Fatalf("plain(%q, %v) = %v", b, json, got)
				}
			}
		}
	}
}
