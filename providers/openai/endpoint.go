package openai

import (
	"fmt"
	"strings"
)

// Endpoint is one of the OpenAI request formats.
type Endpoint uint8

// The endpoints the adapter understands.
const (
	Chat        Endpoint = iota + 1 // POST /v1/chat/completions
	Completions                     // POST /v1/completions (legacy)
	Embeddings                      // POST /v1/embeddings
	Responses                       // POST /v1/responses
)

// String returns the endpoint's path below /v1.
func (e Endpoint) String() string {
	switch e {
	case Chat:
		return "chat/completions"
	case Completions:
		return "completions"
	case Embeddings:
		return "embeddings"
	case Responses:
		return "responses"
	}
	return "unknown"
}

// EndpointForPath returns the endpoint a request path addresses, accepting
// any prefix before the OpenAI path (/v1/chat/completions,
// /openai/v1/chat/completions, ...).
func EndpointForPath(path string) (Endpoint, error) {
	path = strings.TrimSuffix(path, "/")
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
		return Chat, nil
	case strings.HasSuffix(path, "/completions"):
		return Completions, nil
	case strings.HasSuffix(path, "/embeddings"):
		return Embeddings, nil
	case strings.HasSuffix(path, "/responses"):
		return Responses, nil
	}
	return 0, fmt.Errorf("matching path %q: %w", path, ErrEndpoint)
}

func (e Endpoint) valid() bool { return e >= Chat && e <= Responses }
