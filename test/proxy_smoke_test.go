package test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestProxySmoke: one token, one chat call through the real binary, and
// the provider key (not the client token) reaches the upstream.
func TestProxySmoke(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	env := proxyEnv()
	tok, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":10000}`)
	p := startServe(t, dir, port, env)

	req, err := http.NewRequest("POST", p.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"Hello there"}]}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, string(body))
	var out struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	require.NoError(t, json.Unmarshal(body, &out))
	assert.Equal(t, "Echo: Hello there", out.Choices[0].Message.Content)

	last, ok := fake.LastRequest()
	require.True(t, ok)
	assert.Equal(t, "Bearer "+fakeOpenAIKey, last.Header.Get("Authorization"))
	assert.NotContains(t, string(last.Body), tok)
	p.Stop(t)
}
