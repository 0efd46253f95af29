package fakeupstream

// appendOpenAIUsage appends the chat/completions usage object. prompt_tokens
// includes cached_tokens and completion_tokens includes reasoning_tokens, as
// OpenAI counts them.
func (x *exchange) appendOpenAIUsage(b []byte) []byte {
	p := &x.p.Prediction
	b = append(b, `{"prompt_tokens":`...)
	b = appendInt(b, p.PromptTokens)
	b = appendKV(b, "completion_tokens", p.CompletionTokens)
	b = appendKV(b, "total_tokens", p.PromptTokens+p.CompletionTokens)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = appendInt(b, p.CachedTokens)
	b = append(b, `,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":`...)
	b = appendInt(b, p.ReasoningTokens)
	return append(b, `,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`...)
}

// appendResponsesUsage appends the Responses API usage object.
func (x *exchange) appendResponsesUsage(b []byte) []byte {
	p := &x.p.Prediction
	b = append(b, `{"input_tokens":`...)
	b = appendInt(b, p.PromptTokens)
	b = append(b, `,"input_tokens_details":{"cached_tokens":`...)
	b = appendInt(b, p.CachedTokens)
	b = append(b, `},"output_tokens":`...)
	b = appendInt(b, p.CompletionTokens)
	b = append(b, `,"output_tokens_details":{"reasoning_tokens":`...)
	b = appendInt(b, p.ReasoningTokens)
	b = append(b, '}')
	b = appendKV(b, "total_tokens", p.PromptTokens+p.CompletionTokens)
	return append(b, '}')
}

// appendAnthropicUsage appends Anthropic's usage object. input_tokens excludes
// cache reads and writes, which Anthropic reports beside it.
func (x *exchange) appendAnthropicUsage(b []byte, outputTokens int) []byte {
	p := &x.p.Prediction
	b = append(b, `{"input_tokens":`...)
	b = appendInt(b, p.PromptTokens-p.CachedTokens-p.CacheWriteTokens)
	b = appendKV(b, "cache_creation_input_tokens", p.CacheWriteTokens)
	b = appendKV(b, "cache_read_input_tokens", p.CachedTokens)
	b = appendKV(b, "output_tokens", outputTokens)
	return append(b, '}')
}
