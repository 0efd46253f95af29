package providers

import "fmt"

// Format is a wire format: the shape of request and response bodies.
type Format uint8

// The wire formats the adapters read and write.
const (
	FormatUnknown Format = iota
	OpenAI               // OpenAI and compatible APIs (Groq, Mistral, ...)
	Anthropic            // Anthropic Messages API
)

// String returns the format's configuration name.
func (f Format) String() string {
	switch f {
	case OpenAI:
		return "openai"
	case Anthropic:
		return "anthropic"
	}
	return "unknown"
}

// ParseFormat returns the format named s ("openai" or "anthropic").
func ParseFormat(s string) (Format, error) {
	switch s {
	case "openai":
		return OpenAI, nil
	case "anthropic":
		return Anthropic, nil
	}
	return FormatUnknown, fmt.Errorf("parsing format %q: %w", s, ErrUnknownFormat)
}

// AdjustEstimate scales a prompt estimate to the tokenizer of the backend
// that will count it. EstimateTokens is calibrated on OpenAI's tokenizers;
// Claude's tokenizer is not public and is reported to produce 15-30% more
// tokens for the same English text and code, so Anthropic estimates get a
// quarter more.
func AdjustEstimate(tokens int64, backend Format) int64 {
	if backend == Anthropic {
		return tokens + (tokens+3)/4
	}
	return tokens
}
