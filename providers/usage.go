package providers

// Usage is the token accounting of one request.
//
// CachedTokens is the part of PromptTokens served from the provider's prompt
// cache, CacheWriteTokens the part written to it (Anthropic's
// cache_creation_input_tokens, billed above the input rate), and ReasoningTokens the part of CompletionTokens spent on hidden
// reasoning; neither is added again by Total. For Anthropic, PromptTokens is
// input_tokens + cache_read_input_tokens + cache_creation_input_tokens,
// CachedTokens is cache_read_input_tokens and CacheWriteTokens
// cache_creation_input_tokens.
//
// Reported is true when the numbers come from the provider's own usage
// report; false means some are estimates (a stream without a usage chunk,
// or one cut short).
type Usage struct {
	PromptTokens     int64
	CompletionTokens int64
	CachedTokens     int64
	CacheWriteTokens int64
	ReasoningTokens  int64
	Reported         bool
}

// Total returns prompt plus completion tokens.
func (u Usage) Total() int64 { return u.PromptTokens + u.CompletionTokens }
