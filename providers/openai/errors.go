package openai

import "errors"

// Errors of the OpenAI adapter. Malformed JSON is providers.ErrSyntax; a
// field of the wrong type providers.ErrType.
var (
	ErrEndpoint    = errors.New("openai: unknown endpoint")
	ErrNegative    = errors.New("openai: negative count")
	ErrUnsupported = errors.New("openai: rewrite not supported for this request")
)
