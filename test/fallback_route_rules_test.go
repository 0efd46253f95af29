package test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestFallbackKeepsRouteRules: a request checked with the rules of the
// provider entry it was routed to never reaches, as a fallback, an entry
// whose own rules would have refused it. Here the Claude entry blocks
// "password" and the GPT entry does not: gpt-4o's 503 must not send the
// text to claude unchecked; a fallback on the same entry still answers.
func TestFallbackKeepsRouteRules(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	policy := `{"max_tokens":100000,
	  "providers": {
	    "openai": [{"base_key_env": "OPENAI_API_KEY", "model_regex": "^gpt-4o"}],
	    "anthropic": [{"base_key_env": "ANTHROPIC_API_KEY", "model_regex": "^claude",
	      "rules": [{"name": "no-password", "type": "keyword", "keywords": ["password"], "action": "fail"}]}]
	  },
	  "retry": {"max_retries": 0, "retry_on": [503], "fallbacks": ["claude-haiku-4-5"]}}`
	tok, _ := px.token(t, policy)
	require.NoError(t, px.fake.Script(fakeupstream.Scripted{Model: "gpt-4o", Status: 503}))
	r := pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("gpt-4o", "my password is hunter2", false, ""))
	assert.Equal(t, 503, r.status, "the only fallback has other rules: the upstream's answer stands; %s", r.body)
	for _, rq := range px.fake.Requests() {
		assert.False(t, strings.HasPrefix(rq.Path, "/v1/messages"), "the fallback on the Claude entry was tried: %s", rq.Body)
	}

	// Routed to Claude in the first place, the rule applies.
	r = pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("claude-haiku-4-5", "my password is hunter2", false, ""))
	assert.Equal(t, 403, r.status, "%s", r.body)

	// A fallback on an entry with the same rules is still used.
	same := `{"max_tokens":100000,"retry":{"max_retries":0,"retry_on":[503],"fallbacks":["gpt-4o-mini"]}}`
	tok2, _ := px.token(t, same)
	require.NoError(t, px.fake.Script(fakeupstream.Scripted{Model: "gpt-4o", Status: 503}))
	r = pxPost(t, px.url+"/v1/chat/completions", tok2, pxChat("gpt-4o", "hello", false, ""))
	assert.Equal(t, 200, r.status, "%s", r.body)
	assert.Equal(t, "gpt-4o-mini", r.header.Get("X-Tokenomics-Model"))
}
