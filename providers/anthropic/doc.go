// Package anthropic reads and rewrites the Anthropic Messages API format.
// Translation to and from other formats lives in package hub, which reads
// streams through StreamState.Next.
//
// Like package openai, everything is a pure function of one body or a small
// per-stream state, reading bytes in place with providers.Scanner:
//
//	req, err := anthropic.ParseRequest(body)              // model, stream, max_tokens, estimate
//	refs, err := anthropic.RequestTexts(refs[:0], body)   // texts for input rules
//	out, err := anthropic.RewriteRequest(out[:0], body, anthropic.Rewrite{...})
//	u, err := anthropic.ParseResponseUsage(respBody)
//	refs, err := anthropic.ResponseTexts(refs[:0], respBody)
//	st := anthropic.NewStreamState(req.PromptEstimate)  // per stream; st.Feed(refs, ev.Data)
//
// tool_use inputs are JSON objects, not strings: RequestTexts and
// ResponseTexts reference each string value inside them (TextToolArgs), so
// rules see every text and masks keep the object valid. Streamed tool input
// arrives as raw JSON fragments (input_json_delta) and is referenced as is.
//
// Citations (a text block's citations, citations_delta) and server tool
// results (web_search_tool_result and the like) are texts the client reads
// too: both walkers reference their strings, identifiers and encrypted
// payloads aside; in a stream each is whole in its event, under a
// WholePart of its own (cite.go).
//
// Usage: Anthropic reports input_tokens without the cached part; the
// gateway's PromptTokens is input + cache_read_input_tokens +
// cache_creation_input_tokens, and CachedTokens the cache reads.
package anthropic
