package sse

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestLineBreak: the two-search lineBreak finds what IndexAny does.
func TestLineBreak(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "a", "\n", "\r", "\r\n", "\n\r", "ab\ncd\r", "ab\rcd\n", "abc\r\r\n",
		"data: x", "data: {\"a\":1}\n\ndata: [DONE]\n\n", "long line without a break but a CR at the end\r"} {
		assert.Equal(t, bytes.IndexAny([]byte(s), "\r\n"), lineBreak([]byte(s)), "%q", s)
	}
}

func FuzzLineBreak(f *testing.F) {
	f.Add([]byte("data: x\r\ndata: y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := lineBreak(b), bytes.IndexAny(b, "\r\n"); got != want {
			t.Fatalf("lineBreak(%q) = %d, IndexAny %d", b, got, want)
		}
	})
}
