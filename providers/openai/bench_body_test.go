package openai_test

import (
	"strings"
)

// chatBody builds a chat request of about size bytes: a system prompt,
// alternating user and assistant messages with escapes, a tool call and
// its result.
func chatBody(size int) []byte {
	const sentence = "The proxy reserves the budget before forwarding, then settles with the \\\"reported\\\" usage.\\n"
	var b strings.Builder
	b.WriteString(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"system","content":"You are a helpful assistant."}`)
	b.WriteString(`,{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"budget\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"42"}`)
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
