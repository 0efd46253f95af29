package providers_test

import (
	"strings"
)

// chatBody builds an OpenAI chat request of about size bytes: a system
// prompt and alternating user and assistant messages of English text with
// the usual escapes.
func chatBody(size int) []byte {
	const sentence = "The proxy reserves the budget before forwarding, then settles with the \\\"reported\\\" usage.\\n"
	var b strings.Builder
	b.WriteString(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"system","content":"You are a helpful assistant."}`)
	roles := [2]string{"user", "assistant"}
	for i := 0; b.Len() < size-120; i++ {
		b.WriteString(`,{"role":"`)
		b.WriteString(roles[i%2])
		b.WriteString(`","content":"`)
		for j := 0; j < 4 && b.Len() < size-140; j++ {
			b.WriteString(sentence)
		}
		b.WriteString(`"}`)
	}
	b.WriteString(`],"temperature":0.2}`)
	return []byte(b.String())
}
