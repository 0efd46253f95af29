package providers_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
)

func TestFormat(t *testing.T) {
	t.Parallel()
	for _, f := range []providers.Format{providers.OpenAI, providers.Anthropic} {
		got, err := providers.ParseFormat(f.String())
		require.NoError(t, err)
		assert.Equal(t, f, got)
	}
	_, err := providers.ParseFormat("gemini")
	assert.ErrorIs(t, err, providers.ErrUnknownFormat)
	assert.Equal(t, "unknown", providers.FormatUnknown.String())
}

func TestAdjustEstimate(t *testing.T) {
	t.Parallel()
	assert.Equal(t, int64(100), providers.AdjustEstimate(100, providers.OpenAI))
	assert.Equal(t, int64(125), providers.AdjustEstimate(100, providers.Anthropic))
	assert.Equal(t, int64(2), providers.AdjustEstimate(1, providers.Anthropic), "rounds up")
}

func TestUsageTotal(t *testing.T) {
	t.Parallel()
	u := providers.Usage{PromptTokens: 100, CompletionTokens: 20, CachedTokens: 80, ReasoningTokens: 10}
	assert.Equal(t, int64(120), u.Total(), "cached and reasoning are parts, not extra")
}

func TestEstimateRequest(t *testing.T) {
	t.Parallel()
	assert.Equal(t, int64(10+2*providers.TokensPerMessage+providers.TokensPerReply), providers.EstimateRequest(10, 2))
}

func TestEstimateTokensShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		text string
		want int64
	}{
		{"empty", "", 0},
		{"word", "hello", 1},
		{"sentence", "The cat sat on the mat.", 7},
		{"camel case", "getHTTPServer", 5}, // get, HTTP (2: capitals weigh double), Server (2)
		{"digits in threes", "1234567", 3},
		{"space before number", "x 12", 3},
		{"symbol pairs", "});", 2},
		{"newlines pair up", "a\n\nb", 3},
		{"indentation", "\n        x", 3},
		{"cjk", "日本", 5},
		{"emoji", "😀", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, providers.EstimateTokens([]byte(tc.text)))
			assert.Equal(t, tc.want, providers.EstimateLiteral(providers.AppendString(nil, []byte(tc.text))))
		})
	}
}
