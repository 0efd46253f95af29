package openai

import (
	"errors"
	"fmt"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// Errors of the OpenAI adapter. Malformed JSON is providers.ErrSyntax; a
// field of the wrong type providers.ErrType.
var (
	ErrEndpoint    = errors.New("openai: unknown endpoint")
	ErrNegative    = errors.New("openai: negative count")
	ErrUnsupported = errors.New("openai: rewrite not supported for this request")
	// errFileData is file data that is not a data: URL: with input rules
	// on, the gateway must know a document's media type to read it.
	errFileData = fmt.Errorf("%w: file_data must be a base64 data: URL (data:<media type>;base64,...)", providers.ErrUncheckable)
)
