package fakeupstream

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDirectives(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		want  func(d *directives)
		clean string
	}{
		{name: "none", text: " plain ", clean: "plain"},
		{name: "status", text: "hi [[fake:status=503]]", want: func(d *directives) { d.status = 503 }, clean: "hi"},
		{name: "bare status", text: "[[fake:429]] hi", want: func(d *directives) { d.status = 429 }, clean: "hi"},
		{name: "slow", text: "[[fake:slow=200ms]]", want: func(d *directives) { d.slow = 200 * time.Millisecond }},
		{name: "flags", text: "[[fake:truncate]][[fake:nousage]] x [[fake:gzip,malformed, hang]]",
			want: func(d *directives) { d.truncate, d.nousage, d.gzip, d.malformed, d.hang = true, true, true, true, true }, clean: "x"},
		{name: "long", text: "[[fake:long=42]]", want: func(d *directives) { d.long = 42 }},
		{name: "counts", text: "[[fake:cached=3,cache_write=2,reasoning=7]]",
			want: func(d *directives) { d.cached, d.cacheWrite, d.reasoning = 3, 2, 7 }},
		{name: "tool", text: "[[fake:tool]]", want: func(d *directives) { d.toolSet = true }},
		{name: "named tool", text: "[[fake:tool=get_weather]]", want: func(d *directives) { d.toolSet, d.tool = true, "get_weather" }},
		{name: "retry after", text: "[[fake:429,retry_after=7]]", want: func(d *directives) { d.status, d.retryAfter = 429, "7" }},
		{name: "middle", text: "a [[fake:gzip]] b", want: func(d *directives) { d.gzip = true }, clean: "a  b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, clean, err := parseDirectives(tc.text)
			require.NoError(t, err)
			want := noDirectives()
			if tc.want != nil {
				tc.want(&want)
			}
			assert.Equal(t, want, d)
			assert.Equal(t, tc.clean, clean)
		})
	}
}

func TestParseDirectivesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
	}{
		{name: "unknown", text: "[[fake:explode]]"},
		{name: "unterminated", text: "[[fake:gzip"},
		{name: "bad status", text: "[[fake:status=abc]]"},
		{name: "status range", text: "[[fake:700]]"},
		{name: "bad duration", text: "[[fake:slow=fast]]"},
		{name: "negative count", text: "[[fake:long=-1]]"},
		{name: "huge count", text: "[[fake:long=99999999]]"},
		{name: "flag with value", text: "[[fake:gzip=1]]"},
		{name: "missing value", text: "[[fake:slow]]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := parseDirectives(tc.text)
			require.ErrorIs(t, err, ErrDirective)
		})
	}
}

func TestMergeDirectives(t *testing.T) {
	t.Parallel()
	d, _, err := parseDirectives("[[fake:slow=1s,gzip,long=3]]")
	require.NoError(t, err)
	s := noDirectives()
	require.NoError(t, s.apply("503,truncate,slow=2s"))
	d.merge(s)
	assert.Equal(t, 503, d.status)
	assert.Equal(t, 2*time.Second, d.slow)
	assert.True(t, d.gzip && d.truncate)
	assert.Equal(t, 3, d.long)
}

func FuzzParseDirectives(f *testing.F) {
	for _, s := range []string{"hi", "[[fake:503]]", "a [[fake:slow=1ms,truncate]] b", "[[fake:", "[[fake:]]", "[[fake:long=1]]]]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, clean, err := parseDirectives(s)
		if !strings.Contains(s, directiveOpen) {
			require.NoError(t, err)
			require.Equal(t, strings.TrimSpace(s), clean)
			require.Equal(t, noDirectives(), d)
			return
		}
		if err != nil {
			require.ErrorIs(t, err, ErrDirective)
			return
		}
		require.LessOrEqual(t, len(clean), len(s))
		require.GreaterOrEqual(t, d.long, -1)
	})
}
