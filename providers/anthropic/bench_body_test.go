package anthropic_test

import (
	"strings"
)

// messagesBody builds a Messages request of about size bytes.
func messagesBody(size int) []byte {
	const sentence = "The proxy reserves the budget before forwarding, then settles with the \\\"reported\\\" usage.\\n"
	var b strings.Builder
	b.WriteString(`{"model":"claude-sonnet-4-6","max_tokens":1024,"stream":true,"system":"You are a helpful assistant.","messages":[`)
	b.WriteString(`{"role":"user","content":"Look this up."},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"lookup","input":{"q":"budget","opts":{"limit":3}}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"42"}]}`)
	roles := [2]string{"assistant", "user"}
	for i := 0; b.Len() < size-120; i++ {
		b.WriteString(`,{"role":"`)
		b.WriteString(roles[i%2])
		b.WriteString(`","content":[{"type":"text","text":"`)
		for j := 0; j < 4 && b.Len() < size-140; j++ {
			b.WriteString(sentence)
		}
		b.WriteString(`"}]}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}
