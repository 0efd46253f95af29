package fakeupstream

// Message framing: a provider's chat template wraps every message in a few
// tokens (role markers, separators) and primes the reply with a few more,
// and bills them as prompt tokens. The fake counts them as OpenAI documents
// for its chat models, so a proxy that reserves only the texts' tokens is
// seen to under-reserve here as it would upstream.
const (
	// FramingPerMessage is added per message of a chat, Messages or
	// Responses request (a string input is one message).
	FramingPerMessage = 3
	// FramingReply is added once per such request, for the reply priming.
	FramingReply = 3
)

// addFraming counts the framing of messages messages.
func (c *call) addFraming(messages int) {
	if messages > 0 {
		c.inputTokens += FramingPerMessage*messages + FramingReply
	}
}

// maxChoices bounds n as OpenAI does.
const maxChoices = 128

// setChoices reads n (chat and completions) and best_of (completions):
// the fake generates max(n, best_of) completions, bills every one of them,
// and returns n.
func (c *call) setChoices(n, bestOf *int) error {
	c.choices, c.generated = 1, 1
	if n != nil {
		if *n < 1 || *n > maxChoices {
			return invalid("n: must be between 1 and %d, got %d", maxChoices, *n)
		}
		c.choices, c.generated = *n, *n
	}
	if bestOf != nil {
		if *bestOf < c.choices || *bestOf > maxChoices {
			return invalid("best_of: must be at least n and at most %d, got %d", maxChoices, *bestOf)
		}
		c.generated = *bestOf
	}
	return nil
}

// applyChoices bills every generated completion.
func (p *Prediction) applyChoices(c *call) {
	p.Choices = max(c.choices, 1)
	g := int(max(c.generated, 1))
	p.CompletionTokens *= g
	p.ReasoningTokens *= g
}

// effectiveCap is the output cap the fake honours: none under
// [[fake:nocap]], which plays a provider that ignores caps.
func effectiveCap(c *call, d directives) int {
	if d.nocap {
		return 0
	}
	return c.maxTokens
}
