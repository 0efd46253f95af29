package proxy

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestModelOutputCap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, model string
		want        int64
	}{
		{name: "gpt-4o family", model: "gpt-4o-mini", want: 16384},
		{name: "gpt-4.1 beats gpt-4", model: "gpt-4.1-nano", want: 32768},
		{name: "plain gpt-4", model: "gpt-4-0613", want: 8192},
		{name: "o-series", model: "o3-mini", want: 100000},
		{name: "o1-mini before o1", model: "o1-mini-2024-09-12", want: 65536},
		{name: "unknown model takes the default", model: "llama-3.3-70b-versatile", want: 4096},
		{name: "empty model", model: "", want: 4096},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, modelOutputCap(tc.model, 4096))
		})
	}
}
