package providers

import "errors"

// Errors shared by the adapters. Parsing errors wrap ErrSyntax.
var (
	ErrSyntax   = errors.New("providers: malformed JSON")
	ErrDepth    = errors.New("providers: JSON nested too deeply")
	ErrType     = errors.New("providers: field has the wrong type")
	ErrDupField = errors.New("providers: duplicate field")
	// ErrVariantKey is a member name that is not one the gateway reads but
	// that a lax decoder would match to one (case variant, escaped spelling).
	ErrVariantKey = errors.New("providers: variant spelling of a field name")
	// ErrTooLarge is a request holding more messages or texts than the
	// gateway checks (MaxMessages, MaxTexts).
	ErrTooLarge = errors.New("providers: request holds too many messages or texts")
	ErrBadRef   = errors.New("providers: text reference is not a string literal in the body")
	ErrBadEdit  = errors.New("providers: edits unsorted, overlapping or not on string literals")

	// ErrUncheckable is a request field whose content the content rules
	// cannot read (a data: URL of an unknown media type, malformed base64
	// text): with input rules on it is refused, never forwarded unread.
	ErrUncheckable = errors.New("providers: content the content rules cannot read")

	ErrUnknownFormat = errors.New("providers: unknown wire format")
)
