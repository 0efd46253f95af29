package fakeupstream

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// framing is the prompt tokens the fake adds for n messages.
func framing(n int) int { return FramingPerMessage*n + FramingReply }

// TestChoicesAreBilled: n choices each carry the reply, and usage counts
// every generated completion (best_of of them on /v1/completions).
func TestChoicesAreBilled(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	tests := []struct {
		name, path, body string
		choices, billed  int
	}{
		{name: "chat n=3", path: "/v1/chat/completions", body: `{"model":"gpt-4o","n":3,"messages":[{"role":"user","content":"one two"}]}`, choices: 3, billed: 3},
		{name: "chat default", path: "/v1/chat/completions", body: `{"model":"gpt-4o","messages":[{"role":"user","content":"one two"}]}`, choices: 1, billed: 1},
		{name: "completions best_of", path: "/v1/completions", body: `{"model":"gpt-3.5-turbo-instruct","n":2,"best_of":4,"prompt":"one two"}`, choices: 2, billed: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := postOpenAI(t, url, tc.path, tc.body)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var got struct {
				Choices []struct {
					Index   int `json:"index"`
					Text    string
					Message struct{ Content string }
				}
				Usage struct {
					PromptTokens     int `json:"prompt_tokens"`
					CompletionTokens int `json:"completion_tokens"`
				}
			}
			require.NoError(t, json.Unmarshal(res.body, &got))
			require.Len(t, got.Choices, tc.choices)
			one := got.Choices[0].Message.Content + got.Choices[0].Text
			for i, c := range got.Choices {
				assert.Equal(t, i, c.Index)
				assert.Equal(t, one, c.Message.Content+c.Text)
			}
			assert.Equal(t, tc.billed*CountTokens(one), got.Usage.CompletionTokens)
			pred, err := Predict(tc.path, []byte(tc.body))
			require.NoError(t, err)
			assert.Equal(t, got.Usage.CompletionTokens, pred.CompletionTokens)
			assert.Equal(t, tc.choices, pred.Choices)
		})
	}
}

// TestNoCapIgnoresTheCap: [[fake:nocap]] plays a provider that ignores
// output caps.
func TestNoCapIgnoresTheCap(t *testing.T) {
	t.Parallel()
	capped, truncated := Reply("[[fake:long=50]]", 10)
	require.True(t, truncated)
	body := `{"model":"gpt-4o","max_tokens":10,"messages":[{"role":"user","content":"[[fake:long=50,nocap]]"}]}`
	pred, err := Predict("/v1/chat/completions", []byte(body))
	require.NoError(t, err)
	assert.False(t, pred.Truncated)
	assert.Equal(t, 50, pred.CompletionTokens)
	assert.Equal(t, 10, CountTokens(capped))
}
