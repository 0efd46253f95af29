package proxy

import "testing"

func TestEndpointFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path string
		want endpoint
	}{
		{"/v1/chat/completions", epChat},
		{"/v1/completions", epCompletions},
		{"/v1/embeddings", epEmbeddings},
		{"/v1/responses", epResponses},
		{"/v1/messages", epMessages},
		{"/messages", epMessages}, // @ai-sdk/anthropic omits /v1
		{"/v1/messages/", 0},
		{"/messages/count_tokens", 0},
		{"/chat/completions", 0},
		{"/", 0},
	} {
		if got := endpointFor([]byte(tc.path)); got != tc.want {
			t.Errorf("endpointFor(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
