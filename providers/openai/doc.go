// Package openai reads and rewrites the OpenAI wire format (chat
// completions, legacy completions, embeddings, responses), which OpenAI
// and compatible providers (Groq, Mistral, vLLM, ...) speak.
//
// Everything here is a pure function of the bytes of one request or
// response, or a small per-stream state; nothing does I/O. Bodies are read
// in place by providers.Scanner rather than decoded, and results are
// appended to caller slices, so the hot path allocates little (see the
// benchmarks in *_timing_test.go).
//
// The request side:
//
//	req, err := openai.ParseRequest(body, openai.Chat)      // model, stream, caps, estimate
//	refs, err := openai.RequestTexts(refs[:0], body, openai.Chat) // texts for input rules
//	out, err := openai.RewriteRequest(out[:0], body, openai.Chat, openai.Rewrite{...})
//
// Masking uses providers.Splice with edits on the refs. The response side:
//
//	u, err := openai.ParseResponseUsage(body)
//	refs, err := openai.ResponseTexts(refs[:0], body, openai.Chat)
//
// and for streams, one StreamState per response fed with each event's data:
//
//	st := openai.NewStreamState(openai.Chat, req.PromptEstimate)
//	refs, err = st.Feed(refs[:0], ev.Data) // also the delta texts to scan
//	...
//	settle(st.Usage())
//
// Fields the gateway acts on (model, stream, the output caps, n, messages,
// ...) must appear once: a repeated one is refused (providers.ErrDupField),
// since the gateway and the provider could otherwise read different values.
package openai
