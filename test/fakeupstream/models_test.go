package fakeupstream

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModels(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{OpenAIModels: []string{"gpt-4o", "o3"}, AnthropicModels: []string{"claude-sonnet-4-5"}})

	t.Run("openai list", func(t *testing.T) {
		t.Parallel()
		res := do(t, http.MethodGet, url+"/v1/models", openAIHeaders(), "")
		require.Equal(t, http.StatusOK, res.status)
		var got struct {
			Object string `json:"object"`
			Data   []struct {
				ID      string `json:"id"`
				Object  string `json:"object"`
				Created int64  `json:"created"`
				OwnedBy string `json:"owned_by"`
			} `json:"data"`
		}
		decodeStrict(t, res.body, &got)
		assert.Equal(t, "list", got.Object)
		require.Len(t, got.Data, 2)
		assert.Equal(t, "o3", got.Data[1].ID)
		assert.Equal(t, "model", got.Data[1].Object)
	})
	t.Run("anthropic list", func(t *testing.T) {
		t.Parallel()
		res := do(t, http.MethodGet, url+"/v1/models", anthropicHeaders(), "")
		require.Equal(t, http.StatusOK, res.status)
		var got struct {
			Data []struct {
				Type        string `json:"type"`
				ID          string `json:"id"`
				DisplayName string `json:"display_name"`
				CreatedAt   string `json:"created_at"`
			} `json:"data"`
			HasMore bool   `json:"has_more"`
			FirstID string `json:"first_id"`
			LastID  string `json:"last_id"`
		}
		decodeStrict(t, res.body, &got)
		require.Len(t, got.Data, 1)
		assert.Equal(t, "Claude Sonnet 4.5", got.Data[0].DisplayName)
		assert.Equal(t, "claude-sonnet-4-5", got.FirstID)
	})
	tests := []struct {
		name   string
		path   string
		hdr    map[string]string
		status int
	}{
		{name: "one openai model", path: "/v1/models/o3", hdr: openAIHeaders(), status: http.StatusOK},
		{name: "unknown openai model", path: "/v1/models/nope", hdr: openAIHeaders(), status: http.StatusNotFound},
		{name: "one anthropic model", path: "/v1/models/claude-sonnet-4-5", hdr: anthropicHeaders(), status: http.StatusOK},
		{name: "openai without key", path: "/v1/models", hdr: nil, status: http.StatusUnauthorized},
		{name: "anthropic wrong key", path: "/v1/models", hdr: map[string]string{"x-api-key": "bad", "anthropic-version": "2023-06-01"}, status: http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := do(t, http.MethodGet, url+tc.path, tc.hdr, "")
			assert.Equal(t, tc.status, res.status, "%s", res.body)
		})
	}
}
