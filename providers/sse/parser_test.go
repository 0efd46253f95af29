package sse_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

type ev struct{ Name, Data, ID string }

// collect feeds chunks in order and returns every event, including those
// that Flush yields at the end.
func collect(t testing.TB, chunks ...[]byte) ([]ev, error) {
	t.Helper()
	var p sse.Parser
	var out []ev
	drain := func(next func() (sse.Event, bool, error)) error {
		for {
			e, ok, err := next()
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			out = append(out, ev{string(e.Name), string(e.Data), string(e.ID)})
		}
	}
	for _, c := range chunks {
		p.Feed(c)
		if err := drain(p.Next); err != nil {
			return out, err
		}
	}
	return out, drain(p.Flush)
}

func TestParser(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		stream string
		want   []ev
	}{
		{"single", "data: hello\n\n", []ev{{"", "hello", ""}}},
		{"no space after colon", "data:hello\n\n", []ev{{"", "hello", ""}}},
		{"only one space stripped", "data:  two\n\n", []ev{{"", " two", ""}}},
		{"multi-line data", "data: a\ndata: b\ndata:\n\n", []ev{{"", "a\nb\n", ""}}},
		{"named event", "event: message_start\ndata: {}\n\n", []ev{{"message_start", "{}", ""}}},
		{"crlf", "event: x\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n", []ev{{"x", "1", ""}, {"", "2", ""}}},
		{"cr only", "data: 1\r\rdata: 2\r\r", []ev{{"", "1", ""}, {"", "2", ""}}},
		{"comments ignored", ": keep-alive\ndata: x\n: more\n\n", []ev{{"", "x", ""}}},
		{"event without data is dropped", "event: ping\n\ndata: y\n\n", []ev{{"", "y", ""}}},
		{"name does not leak", "event: a\ndata: 1\n\ndata: 2\n\n", []ev{{"a", "1", ""}, {"", "2", ""}}},
		{"id persists", "id: 7\ndata: a\n\ndata: b\n\n", []ev{{"", "a", "7"}, {"", "b", "7"}}},
		{"unknown fields", "retry: 100\nfoo: bar\ndata: z\n\n", []ev{{"", "z", ""}}},
		{"field without colon", "data\n\n", []ev{{"", "", ""}}},
		{"bom", "\xEF\xBB\xBFdata: a\n\n", []ev{{"", "a", ""}}},
		{"done marker", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []ev{{"", `{"a":1}`, ""}, {"", "[DONE]", ""}}},
		{"unterminated last event flushed", "data: a\n\ndata: b", []ev{{"", "a", ""}, {"", "b", ""}}},
		{"unterminated after newline", "data: a\n", []ev{{"", "a", ""}}},
		{"blank lines between", "\n\n\ndata: a\n\n\n", []ev{{"", "a", ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			whole, err := collect(t, []byte(tc.stream))
			require.NoError(t, err)
			assert.Equal(t, tc.want, whole)
			// Byte by byte gives the same events.
			var chunks [][]byte
			for i := range len(tc.stream) {
				chunks = append(chunks, []byte(tc.stream[i:i+1]))
			}
			split, err := collect(t, chunks...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, split)
		})
	}
}

func TestParserEventIsDone(t *testing.T) {
	t.Parallel()
	var p sse.Parser
	p.Feed([]byte("data: [DONE]\n\ndata: [DONE] \n\n"))
	e, ok, err := p.Next()
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, e.IsDone())
	e, ok, err = p.Next()
	require.NoError(t, err)
	require.True(t, ok)
	assert.False(t, e.IsDone())
}

func TestParserLineTooLong(t *testing.T) {
	t.Parallel()
	long := "data: " + strings.Repeat("x", sse.MaxLineSize) + "\n\n"
	_, err := collect(t, []byte(long))
	assert.ErrorIs(t, err, sse.ErrLineTooLong)
	// Split across chunks, without any line break yet.
	half := []byte(strings.Repeat("y", sse.MaxLineSize/2+1))
	_, err = collect(t, []byte("data: "), half, half)
	assert.ErrorIs(t, err, sse.ErrLineTooLong)
	// Just under the limit is fine.
	ok := "data: " + strings.Repeat("z", sse.MaxLineSize-7) + "\n\n"
	evs, err := collect(t, []byte(ok))
	require.NoError(t, err)
	require.Len(t, evs, 1)
}

func TestParserEventTooLong(t *testing.T) {
	t.Parallel()
	line := "data: " + strings.Repeat("x", 1<<19) + "\n"
	stream := strings.Repeat(line, sse.MaxEventSize/(1<<19)+1) + "\n"
	_, err := collect(t, []byte(stream))
	assert.ErrorIs(t, err, sse.ErrEventTooLong)
}

func TestParserFeedBeforeDrained(t *testing.T) {
	t.Parallel()
	var p sse.Parser
	p.Feed([]byte("data: 1\n\ndata: 2\n"))
	p.Feed([]byte("\ndata: 3\n\n")) // the first chunk was not read at all
	var got []string
	for {
		e, ok, err := p.Next()
		require.NoError(t, err)
		if !ok {
			break
		}
		got = append(got, string(e.Data))
	}
	assert.Equal(t, []string{"1", "2", "3"}, got)
}

func TestParserReset(t *testing.T) {
	t.Parallel()
	var p sse.Parser
	p.Feed([]byte("event: a\ndata: partial"))
	_, ok, err := p.Next()
	require.NoError(t, err)
	require.False(t, ok)
	p.Reset()
	p.Feed([]byte("data: fresh\n\n"))
	e, ok, err := p.Next()
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "fresh", string(e.Data))
	assert.Empty(t, e.Name)
}

func TestAppendEvent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, event, data, want string
	}{
		{"data only", "", `{"a":1}`, "data: {\"a\":1}\n\n"},
		{"named", "message_stop", `{}`, "event: message_stop\ndata: {}\n\n"},
		{"multi-line", "", "a\nb\r\nc\rd", "data: a\ndata: b\ndata: c\ndata: d\n\n"},
		{"empty", "", "", "data: \n\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := sse.AppendEvent(nil, []byte(tc.event), []byte(tc.data))
			assert.Equal(t, tc.want, string(out))
			evs, err := collect(t, out)
			require.NoError(t, err)
			require.Len(t, evs, 1)
			assert.Equal(t, strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(tc.data), evs[0].Data)
			assert.Equal(t, tc.event, evs[0].Name)
		})
	}
	assert.Equal(t, "data: x\n\n", string(sse.AppendData(nil, []byte("x"))))
}

// FuzzParser checks that splitting a stream anywhere yields the events of
// the whole stream.
func FuzzParser(f *testing.F) {
	f.Add([]byte("event: a\r\ndata: 1\r\n\r\ndata: 2\n\n"), uint64(3))
	f.Add([]byte("data: x\rdata: y\r\r: c\n\ndata"), uint64(12345))
	f.Add([]byte("\xEF\xBB\xBFid: 1\ndata: [DONE]\n\n"), uint64(1))
	f.Fuzz(func(t *testing.T, stream []byte, seed uint64) {
		whole, errWhole := collect(t, stream)
		// Cut points from the seed: a simple xorshift sequence.
		var chunks [][]byte
		rest := stream
		x := seed | 1
		for len(rest) > 0 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			n := int(x%7) + 0 // empty chunks are allowed too
			n = min(n, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		split, errSplit := collect(t, chunks...)
		assert.Equal(t, errWhole == nil, errSplit == nil)
		assert.Equal(t, whole, split)
	})
}
