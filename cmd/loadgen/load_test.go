package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeepTail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{name: "short", chunks: []string{"data: ", "[DONE]"}, want: "data: [DONE]"},
		{name: "one long chunk", chunks: []string{"x0123456789012345678901234567890123456789data: [DONE]\n\n"}, want: "234567890123456789data: [DONE]\n\n"},
		{name: "many small chunks overflow", chunks: []string{"aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbb", "data: [DONE]"}, want: "aaaaabbbbbbbbbbbbbbbdata: [DONE]"},
		{name: "exactly full", chunks: []string{"0123456789abcdef", "0123456789ABCDEF"}, want: "0123456789abcdef0123456789ABCDEF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var tail [32]byte
			n := 0
			for _, c := range tc.chunks {
				n = keepTail(&tail, n, []byte(c))
			}
			require.LessOrEqual(t, n, len(tail))
			assert.Equal(t, tc.want, string(tail[:n]))
		})
	}
}
