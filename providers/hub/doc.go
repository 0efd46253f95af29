// Package hub translates between wire formats through one internal form.
//
// Each client format (OpenAI Chat Completions, OpenAI Responses, Anthropic
// Messages) has a decoder into the hub form and an encoder out of it, for
// requests, complete responses and stream events; a provider format is one
// of the same spokes. A pair of formats is never translated directly: a new
// format is one decoder and one encoder, not a translator per pair.
//
//	Chat ────┐              ┌──── Chat
//	Responses├─ decode ─ Request/Response/Event ─ encode ─┤ Responses
//	Messages ┘              └──── Messages
//
// The hub form does not copy the body: strings, numbers and JSON values are
// spans (providers.Value) of the decoded body, and encoders copy them as
// they are, converting only where the formats disagree (tool arguments are
// a JSON string in OpenAI formats and an object in Anthropic's; a data URL
// against a base64 source). Texts the gateway adds (policy prompts) are
// owned strings (Str). Decoders append to the slices of a reused Request,
// so steady-state translation allocates nothing once those have grown.
//
// What one format can say and another cannot is refused with a
// *FieldError naming the client's field (the proxy answers 400 with it),
// never silently dropped when it changes the answer: audio and file parts,
// n > 1, server-side state (previous_response_id, conversation), non
// function tools, json_object output for Anthropic. Fields that only tune
// sampling or bookkeeping without an equivalent (seed, logprobs, store,
// top_k, metadata other than the user) are dropped.
//
// Structured output: OpenAI's response_format json_schema (Chat) and
// text.format json_schema (Responses) map to Anthropic's native
// output_config.format json_schema and back; the answer is JSON text in
// both, so the response needs no reshaping.
//
// Anthropic requires max_tokens. When the client set no output cap the
// encoder writes Options.DefaultMaxTokens, which the proxy sets to the
// model's largest output (MaxOutputTokens), so a translated request is
// not truncated earlier than the same request sent natively would be.
package hub
