package hub_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// ruleTexts is what the content rules read from a client body.
func ruleTexts(t *testing.T, w hub.Wire, body []byte) []providers.TextRef {
	t.Helper()
	var refs []providers.TextRef
	var err error
	switch w {
	case hub.Chat:
		refs, err = openai.RequestTexts(nil, body, openai.Chat)
	case hub.Responses:
		refs, err = openai.RequestTexts(nil, body, openai.Responses)
	case hub.Messages:
		refs, err = anthropic.RequestTexts(nil, body)
	}
	require.NoError(t, err)
	return refs
}

// TestTextsCovered: every text the hub would send upstream is one the
// rules read, for a conversation using every part kind, in each format.
func TestTextsCovered(t *testing.T) {
	t.Parallel()
	extra := map[hub.Wire]string{
		hub.Chat:      `{"model":"m","messages":[{"role":"tool","tool_call_id":"c","content":[{"type":"text","text":"part result"}]}],"response_format":{"type":"json_schema","json_schema":{"name":"n","description":"fmt desc","schema":{"enum":["E"]}}}}`,
		hub.Responses: `{"model":"m","input":[{"role":"system","content":"sys item"},{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"part result"}]}],"text":{"format":{"type":"json_schema","name":"n","description":"fmt desc","schema":{"enum":["E"]}}}}`,
		hub.Messages:  `{"model":"m","max_tokens":1,"system":"sys","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"c","content":[{"type":"text","text":"part result"}]}]}],"output_config":{"format":{"type":"json_schema","schema":{"enum":["E"]}}}}`,
	}
	for _, w := range []hub.Wire{hub.Chat, hub.Responses, hub.Messages} {
		for i, body := range []string{sameConversation[w], extra[w]} {
			var r hub.Request
			require.NoError(t, hub.Decode(&r, w, []byte(body)))
			texts := r.Texts(nil)
			require.NotEmpty(t, texts)
			miss, ok := hub.Covered(texts, ruleTexts(t, w, []byte(body)))
			assert.True(t, ok, "%s body %d: the rules never read %s", w, i, body[max(miss.Start, 0):max(miss.End, 0)])
			found := map[string]bool{}
			for _, ref := range texts {
				txt, err := providers.DecodeText(nil, r.Body, ref)
				require.NoError(t, err)
				found[string(txt)] = true
			}
			if i == 0 {
				// fields the provider gets besides the prompt texts
				assert.True(t, found["look"], "%s: tool, choice and call names are texts", w)
				assert.True(t, found["u1"], "%s: the end-user id is a text", w)
				assert.True(t, found["a"], "%s: schema property names are texts", w)
				assert.False(t, found["properties"], "%s: schema keywords are not", w)
				assert.False(t, found["data:image/png;base64,AAAA"], "%s: image data is not a text", w)
				assert.False(t, found["c1"], "%s: call ids are not texts", w)
			}
			if i == 1 {
				assert.True(t, found["part result"], "%s: tool result parts are texts", w)
				assert.True(t, found["E"], "%s: output schema strings are texts", w)
			}
		}
	}
	_, ok := hub.Covered([]providers.TextRef{{Start: 5, End: 9}}, []providers.TextRef{{Start: 1, End: 4}})
	assert.False(t, ok)
	refs := func(starts ...int) []providers.TextRef {
		out := make([]providers.TextRef, len(starts))
		for i, s := range starts {
			out[i] = providers.TextRef{Start: s, End: s + 2}
		}
		return out
	}
	for _, tc := range []struct {
		name           string
		texts, checked []providers.TextRef
		ok             bool
	}{
		{"two sorted runs", refs(9, 2, 30), refs(2, 9, 40, 5, 30), true},
		{"two sorted runs, one missing", refs(9, 7), refs(2, 9, 40, 5, 30), false},
		{"unordered", refs(5, 40, 2), refs(40, 2, 30, 5, 1), true},
		{"unordered, one missing", refs(5, 41), refs(40, 2, 30, 5, 1), false},
		{"nothing checked", refs(1), nil, false},
	} {
		_, ok := hub.Covered(tc.texts, tc.checked)
		assert.Equal(t, tc.ok, ok, tc.name)
	}
}
