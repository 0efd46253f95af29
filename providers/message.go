package providers

// Message is a plain text message that the gateway adds to a request, such
// as a policy's system prompt. Role is "system", "developer", "user" or
// "assistant".
type Message struct {
	Role    string
	Content string
}

// IsSystem reports whether the message belongs in a system prompt.
func (m Message) IsSystem() bool { return m.Role == "system" || m.Role == "developer" }
