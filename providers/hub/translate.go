package hub

import (
	"strings"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// Decode reads a request of format w into r.
func Decode(r *Request, w Wire, body []byte) error {
	switch w {
	case Chat:
		return DecodeChat(r, body)
	case Responses:
		return DecodeResponses(r, body)
	case Messages:
		return DecodeMessages(r, body)
	}
	return ErrUnsupported
}

// Encode writes r in format w (Chat or Messages: the provider formats).
func Encode(dst []byte, r *Request, w Wire, o Options) ([]byte, error) {
	switch w {
	case Chat:
		return EncodeChat(dst, r, o)
	case Messages:
		return EncodeMessages(dst, r, o)
	}
	return dst, ErrUnsupported
}

// TranslateRequest translates a client request of format from into
// format to, through r (reused between calls): decode, add the policy's
// messages, encode.
func TranslateRequest(dst []byte, r *Request, from, to Wire, body []byte, o Options) ([]byte, error) {
	if err := Decode(r, from, body); err != nil {
		return dst, err
	}
	r.Prepend(o.Prepend)
	return Encode(dst, r, to, o)
}

// DecodeResponse reads a complete answer of provider format w.
func DecodeResponse(r *Response, w Wire, body []byte) error {
	if w == Messages {
		return DecodeMessagesResponse(r, body)
	}
	return DecodeChatResponse(r, body)
}

// EncodeResponse writes r as a complete answer in client format w. model
// names the model ("" keeps the provider's), created is the Unix time.
func EncodeResponse(dst []byte, r *Response, w Wire, model string, created int64) ([]byte, error) {
	switch w {
	case Chat:
		return EncodeChatResponse(dst, r, model, created), nil
	case Responses:
		return EncodeResponsesResponse(dst, r, model, created), nil
	case Messages:
		return EncodeMessagesResponse(dst, r, model)
	}
	return dst, ErrUnsupported
}

// TranslateResponse translates a provider's complete answer of format
// from into client format to, through r.
func TranslateResponse(dst []byte, r *Response, from, to Wire, body []byte, model string, created int64) ([]byte, error) {
	if err := DecodeResponse(r, from, body); err != nil {
		return dst, err
	}
	return EncodeResponse(dst, r, to, model, created)
}

// maxOutput lists the largest output of Anthropic model families, by name
// prefix, most specific first (Anthropic's model overview).
var maxOutput = []struct {
	prefix string
	tokens int64
}{
	{"claude-opus-4-1", 32000},
	{"claude-opus-4-0", 32000},
	{"claude-opus-4-2025", 32000},
	{"claude-opus-4", 64000}, // 4.5 and later
	{"claude-sonnet-4", 64000},
	{"claude-haiku-4", 64000},
	{"claude-3-7-sonnet", 64000},
	{"claude-3-5-sonnet", 8192},
	{"claude-3-5-haiku", 8192},
	{"claude-3-haiku", 4096},
	{"claude-3-opus", 4096},
}

// DefaultMaxOutput is the cap for an Anthropic model the table does not
// know: every current model generates at least this much.
const DefaultMaxOutput = 8192

// MaxOutputTokens returns the largest output model generates. Anthropic
// requires max_tokens, so a translated request without a client cap gets
// this: the model stops where it would have stopped natively.
func MaxOutputTokens(model string) int64 {
	for _, m := range maxOutput {
		if strings.HasPrefix(model, m.prefix) {
			return m.tokens
		}
	}
	return DefaultMaxOutput
}

// Native reports whether a provider of format p reads client format
// client as it is (no translation).
func Native(client Wire, p providers.Format) bool {
	switch client {
	case Messages:
		return p == providers.Anthropic
	case Chat, Responses:
		return p == providers.OpenAI
	}
	return false
}
