package providers_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// realCounts are the token counts of testdata/tokens/*.txt measured with
// the published tokenizers (cl100k_base and o200k_base via js-tiktoken,
// and the legacy Claude tokenizer of @anthropic-ai/tokenizer).
type realCounts struct {
	CL100K int64 `json:"cl100k_base"`
	O200K  int64 `json:"o200k_base"`
	Claude int64 `json:"claude_legacy"`
}

func loadCounts(t *testing.T) map[string]realCounts {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "tokens", "counts.json"))
	require.NoError(t, err)
	var counts map[string]realCounts
	require.NoError(t, json.Unmarshal(raw, &counts))
	require.NotEmpty(t, counts)
	return counts
}

// TestEstimateTokensCorpus checks the promise of doc.go: the estimate is
// never below the OpenAI tokenizers' count, the Anthropic-adjusted
// estimate never below the Claude count, and for English, code and JSON
// the estimate stays within 1.6 times the real count.
func TestEstimateTokensCorpus(t *testing.T) {
	t.Parallel()
	for name, real := range loadCounts(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(filepath.Join("testdata", "tokens", name))
			require.NoError(t, err)
			est := providers.EstimateTokens(text)
			openai := max(real.CL100K, real.O200K)
			t.Logf("estimate %d, cl100k %d, o200k %d, claude %d (ratio %.2f)", est, real.CL100K, real.O200K, real.Claude, float64(est)/float64(openai))
			assert.GreaterOrEqual(t, est, openai, "under the OpenAI count")
			assert.GreaterOrEqual(t, providers.AdjustEstimate(est, providers.Anthropic), real.Claude, "under the Claude count")
			if !strings.HasPrefix(name, "intl_") {
				assert.LessOrEqual(t, float64(est), 1.6*float64(openai), "far above the OpenAI count")
			}
		})
	}
}

// TestPromptBoundHolds: the guaranteed bound is never below the byte count
// of the texts, whatever their content, and never below the estimate for
// text (the estimate errs high on prose, the bound must hold on anything).
func TestPromptBoundHolds(t *testing.T) {
	for _, text := range []string{"", "hello world", strings.Repeat("!", 100), "日本語のテキスト", "a\u00e9\U0001F600"} {
		var b providers.Bound
		b.Text([]byte(`"` + text + `"`))
		got := b.Total(1, true)
		if got < int64(len(text))+providers.TokensPerMessage+providers.TokensPerReply {
			t.Errorf("%q: bound %d below bytes plus framing", text, got)
		}
	}
	var b providers.Bound
	b.Image()
	b.Tools()
	if got := b.Total(0, false); got != providers.MaxTokensPerImage+providers.ToolsBound {
		t.Errorf("image and tools bound %d", got)
	}
}
