package openai

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// TestW5RRequestLogprobs: every way of asking for token logprobs sets
// Request.Logprobs; asking for none does not; a spelling variant or a
// repeat of the field is refused like any field the gateway reads.
func TestW5RRequestLogprobs(t *testing.T) {
	tests := []struct {
		name string
		ep   Endpoint
		body string
		want bool
		err  error
		// audio is the expected AudioOut.
		audio bool
	}{
		{"chat audio", Chat, `{"model":"m","messages":[],"modalities":["text","audio"],"audio":{"voice":"alloy"}}`, false, nil, true},
		{"chat audio object", Chat, `{"model":"m","messages":[],"audio":{"voice":"alloy"}}`, false, nil, true},
		{"chat modalities text", Chat, `{"model":"m","messages":[],"modalities":["text"],"audio":null}`, false, nil, false},
		{"chat modalities odd", Chat, `{"model":"m","messages":[],"modalities":"audio"}`, false, nil, true},
		{"chat true", Chat, `{"model":"m","messages":[],"logprobs":true}`, true, nil, false},
		{"chat false", Chat, `{"model":"m","messages":[],"logprobs":false}`, false, nil, false},
		{"chat null", Chat, `{"model":"m","messages":[],"logprobs":null}`, false, nil, false},
		{"chat top 2", Chat, `{"model":"m","messages":[],"top_logprobs":2}`, true, nil, false},
		{"chat top 0", Chat, `{"model":"m","messages":[],"top_logprobs":0}`, false, nil, false},
		{"chat odd kind", Chat, `{"model":"m","messages":[],"logprobs":"yes"}`, true, nil, false},
		{"completions 0", Completions, `{"model":"m","prompt":"p","logprobs":0}`, true, nil, false},
		{"completions null", Completions, `{"model":"m","prompt":"p","logprobs":null}`, false, nil, false},
		{"responses include", Responses, `{"model":"m","input":"x","include":["reasoning.encrypted_content","message.output_text.logprobs"]}`, true, nil, false},
		{"responses include escaped", Responses, `{"model":"m","input":"x","include":["message.output_text.log\u0070robs"]}`, true, nil, false},
		{"responses include other", Responses, `{"model":"m","input":"x","include":["reasoning.encrypted_content"]}`, false, nil, false},
		{"responses top", Responses, `{"model":"m","input":"x","top_logprobs":5}`, true, nil, false},
		{"variant", Chat, `{"model":"m","messages":[],"LogProbs":true}`, false, providers.ErrVariantKey, false},
		{"repeat", Chat, `{"model":"m","messages":[],"logprobs":false,"logprobs":true}`, false, providers.ErrDupField, false},
		{"include not list", Responses, `{"model":"m","input":"x","include":"message.output_text.logprobs"}`, false, providers.ErrType, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRequest([]byte(tc.body), tc.ep)
			if tc.err != nil {
				require.Error(t, err)
				assert.True(t, errors.Is(err, tc.err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.Logprobs)
			assert.Equal(t, tc.audio, r.AudioOut)
		})
	}
}
