package anthropic

import (
	"errors"
	"fmt"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// Errors of the Anthropic adapter. Malformed JSON is providers.ErrSyntax; a
// field of the wrong type providers.ErrType.
var (
	ErrNegative      = errors.New("anthropic: negative count")
	ErrNoMaxTokens   = errors.New("anthropic: no max_tokens and no default")
	ErrUnsupported   = errors.New("anthropic: request cannot be translated")
	ErrToolArguments = errors.New("anthropic: tool call arguments are not a JSON object")
	ErrNotMessage    = errors.New("anthropic: response is not a message")
	// errMediaType is a base64 source the content rules cannot read: only
	// images and PDFs are forwarded unread.
	errMediaType = fmt.Errorf("%w: a base64 source must be image/png, image/jpeg, image/gif, image/webp or application/pdf", providers.ErrUncheckable)
)
