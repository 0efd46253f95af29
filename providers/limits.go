package providers

import "fmt"

// Bounds on the work one request may ask of the gateway, checked while
// the body is parsed and before any content rule runs. The body size is
// bounded by the server (max_body_bytes); these bound what a body of that
// size can hold. Real requests stay far below them: provider APIs refuse
// more than a few thousand messages, and conversations that long exceed
// every context window.
const (
	// MaxMessages is the most messages (chat), input items (responses) or
	// prompts and inputs (completions, embeddings) a request may carry.
	MaxMessages = 4096
	// MaxTexts is the most separate texts content rules are handed for
	// one request (message strings, parts, tool arguments, descriptions,
	// schema strings).
	MaxTexts = 16384
)

// CountMessage fails s with ErrTooLarge once n passes MaxMessages; walkers
// call it for every message they count, so an oversized body stops early.
func CountMessage(s *Scanner, n int) {
	if n > MaxMessages {
		s.Fail(fmt.Errorf("%w: more than %d messages", ErrTooLarge, MaxMessages))
	}
}

// CountText does the same for texts, against MaxTexts.
func CountText(s *Scanner, n int) {
	if n > MaxTexts {
		s.Fail(fmt.Errorf("%w: more than %d texts", ErrTooLarge, MaxTexts))
	}
}
