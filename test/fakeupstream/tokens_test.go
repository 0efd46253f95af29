package fakeupstream

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCountTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want int
	}{
		{name: "empty", text: "", want: 0},
		{name: "spaces only", text: " \t\n ", want: 0},
		{name: "one word", text: "hello", want: 1},
		{name: "words and punctuation", text: "Echo: hello, world!", want: 6},
		{name: "underscore joins", text: "get_weather(city)", want: 4},
		{name: "digits", text: "route 66", want: 2},
		{name: "json", text: `{"input":"hi"}`, want: 9},
		{name: "unicode letters", text: "héllo wörld", want: 2},
		{name: "emoji is one token each", text: "ok 👍👍", want: 3},
		{name: "ideographs are one token each", text: "日本語 テキスト 한국어", want: 10},
		{name: "ideographs split words", text: "mixed漢字ok", want: 4},
		{name: "invalid utf8 byte", text: "a\xffb", want: 3},
		{name: "directive counts", text: "hi [[fake:slow=1ms]]", want: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, CountTokens(tc.text))
		})
	}
}

func TestCountTokensAdditive(t *testing.T) {
	t.Parallel()
	a, b := "Hello, world!", "How are you?"
	assert.Equal(t, CountTokens(a)+CountTokens(b), CountTokens(a+"\n"+b))
}

func TestCutTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		n       int
		want    string
		wantCut bool
	}{
		{name: "under cap", text: "a b c", n: 5, want: "a b c"},
		{name: "exact cap", text: "a b c", n: 3, want: "a b c"},
		{name: "exact cap trailing space", text: "a b c  ", n: 3, want: "a b c  "},
		{name: "cut", text: "Echo: hello world", n: 3, want: "Echo: hello", wantCut: true},
		{name: "cut punctuation", text: "a,b", n: 1, want: "a", wantCut: true},
		{name: "zero", text: "a", n: 0, want: "", wantCut: true},
		{name: "zero of empty", text: "", n: 0, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, cut := cutTokens(tc.text, tc.n)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.wantCut, cut)
		})
	}
}

func TestPieces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "empty", text: "", want: nil},
		{name: "blank", text: "  ", want: nil},
		{name: "echo", text: "Echo: hi there", want: []string{"Echo", ":", " hi", " there"}},
		{name: "leading and trailing space", text: " a b ", want: []string{" a", " b "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, slices.Collect(pieces(tc.text)))
		})
	}
}

func TestReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		user      string
		max       int
		want      string
		truncated bool
	}{
		{name: "echo", user: "Hello there", want: "Echo: Hello there"},
		{name: "trimmed", user: "  Hello  ", want: "Echo: Hello"},
		{name: "empty", user: "", want: "Echo:"},
		{name: "directive stripped", user: "Hi [[fake:slow=1ms]]", want: "Echo: Hi"},
		{name: "capped", user: "one two three four", max: 3, want: "Echo: one", truncated: true},
		{name: "long", user: "[[fake:long=5]]", want: "lorem ipsum dolor sit amet"},
		{name: "long capped", user: "[[fake:long=5]]", max: 2, want: "lorem ipsum", truncated: true},
		{name: "long zero", user: "[[fake:long=0]]", want: ""},
		{name: "reasoning uses the cap", user: "a b c [[fake:reasoning=2]]", max: 4, want: "Echo:", truncated: true},
		{name: "reasoning eats the cap", user: "a [[fake:reasoning=9]]", max: 4, want: "", truncated: true},
		{name: "bad directive ignored", user: "Hi [[fake:nope]]", want: "Echo: Hi [[fake:nope]]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, truncated := Reply(tc.user, tc.max)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.truncated, truncated)
		})
	}
}

func TestFillerBeyondCache(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, fillerCached, fillerCached + 3} {
		text := filler(n)
		require.Equal(t, n, CountTokens(text))
		require.False(t, strings.HasSuffix(text, " "))
	}
}

func FuzzTokens(f *testing.F) {
	for _, s := range []string{"", "Echo: hi", " a  b ", "x\xff\xfe,y", "日本語 テキスト", "a_b-c"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		total := CountTokens(s)
		ps := slices.Collect(pieces(s))
		if total > 0 {
			require.Equal(t, s, strings.Join(ps, ""), "pieces must rebuild a non-blank text")
		}
		require.Len(t, ps, total)
		for _, p := range ps {
			require.Equal(t, 1, CountTokens(p), "piece %q", p)
		}
		if n < 0 || n > 1<<16 {
			return
		}
		cut, truncated := cutTokens(s, n)
		require.True(t, strings.HasPrefix(s, cut))
		require.Equal(t, min(n, total), CountTokens(cut))
		require.Equal(t, total > n, truncated)
	})
}
