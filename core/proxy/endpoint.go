package proxy

import (
	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// endpoint is an API the proxy forwards to a provider.
type endpoint uint8

const (
	epChat endpoint = iota + 1
	epCompletions
	epEmbeddings
	epResponses
	epMessages
)

var endpointNames = [...]string{"", "chat", "completions", "embeddings", "responses", "messages"}

func (e endpoint) String() string { return endpointNames[e] }

// clientFormat is the wire format the client speaks on this endpoint.
func (e endpoint) clientFormat() providers.Format {
	if e == epMessages {
		return providers.Anthropic
	}
	return providers.OpenAI
}

func (e endpoint) openai() openai.Endpoint {
	switch e {
	case epCompletions:
		return openai.Completions
	case epEmbeddings:
		return openai.Embeddings
	case epResponses:
		return openai.Responses
	}
	return openai.Chat
}

// endpointFor maps a request path to an endpoint. "/messages" is an alias
// of "/v1/messages": @ai-sdk/anthropic appends "/messages" to its base URL
// while the official Anthropic SDKs append "/v1/messages", so one
// ANTHROPIC_BASE_URL (the proxy's root, as `tokenomics init` prints it)
// serves both.
func endpointFor(path []byte) endpoint {
	switch string(path) {
	case "/v1/chat/completions":
		return epChat
	case "/v1/completions":
		return epCompletions
	case "/v1/embeddings":
		return epEmbeddings
	case "/v1/responses":
		return epResponses
	case "/v1/messages", "/messages":
		return epMessages
	}
	return 0
}
