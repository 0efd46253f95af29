// Package fakeupstream is a faithful fake of the OpenAI and Anthropic HTTP
// APIs, for tests, the demo and the load benchmark. It is built on net/http
// and needs no httptest, so a binary (cmd/fakeupstream) can serve it too.
//
//	s := fakeupstream.New(fakeupstream.Options{OpenAIKey: "sk-test", AnthropicKey: "ak-test"})
//	url, err := s.Start("127.0.0.1:0") // OpenAI base URL: url + "/v1"
//	defer s.Close()
//
// # Endpoints
//
// OpenAI format (key: "Authorization: Bearer <Options.OpenAIKey>"):
// POST /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses,
// GET /v1/models[/{id}]. Anthropic format (keys: x-api-key and a required
// anthropic-version header): POST /v1/messages, and GET /v1/models when the
// request carries Anthropic headers. A missing or wrong key gets 401 in the
// provider's error shape; an empty key in Options accepts anything.
//
// # Replies
//
// The reply is "Echo: " followed by the last user message (the last user or
// tool turn; for /v1/completions the last prompt), with its directives
// removed and white space trimmed. [[fake:long=N]] replaces it with N filler
// words. The output cap (max_completion_tokens or max_tokens, max_output_tokens,
// Anthropic's required max_tokens; /v1/completions defaults to 16 as OpenAI's
// does) keeps the first tokens: finish_reason "length", stop_reason
// "max_tokens", Responses status "incomplete". Reply computes this text.
//
// A tool call replaces the text when the request offers tools, its last turn
// is not a tool result, and tool_choice forces one ("required", "any", a
// named function), the prompt has [[fake:tool]] or [[fake:tool=NAME]], or it
// mentions a tool's name. The call is to the named, mentioned or first tool,
// with arguments {"input":"<message without directives>"}; finish_reason
// "tool_calls", stop_reason "tool_use".
//
// # Usage
//
// CountTokens is the tokenizer: a token is a run of letters, digits and
// underscores, or any other single non-space character (each Han, kana or
// Hangul character is a token of its own). Prompt tokens are the sum of
// CountTokens over every input text, plus message framing (FramingPerMessage
// per message of a chat, Messages or Responses request and FramingReply
// once, as OpenAI documents for its chat models): message contents (text parts),
// system prompts and instructions, tool-call names and arguments, tool
// results, directives included; tool definitions and images count nothing;
// token-array inputs count one per element. Completion tokens are CountTokens
// of the reply text (of the tool name plus the arguments for a tool call),
// plus [[fake:reasoning=N]]'s N, which also uses the output cap first.
// [[fake:cached=N]] marks N prompt tokens as cache reads: OpenAI's
// prompt_tokens still includes them (prompt_tokens_details.cached_tokens),
// Anthropic's input_tokens excludes them (cache_read_input_tokens), and
// [[fake:cache_write=N]] does the same for cache_creation_input_tokens.
// n (chat, completions) returns n identical choices and best_of generates
// that many: usage bills every generated completion. [[fake:nocap]] makes
// the fake ignore output caps, as a misbehaving provider would, so a test
// can see what the proxy does on its own. Predict returns all of this for a
// request body without a server.
//
// # Streams
//
// A stream has one content delta per completion token. Chat and completion
// streams end with a finish_reason chunk, then, only when the request has
// stream_options.include_usage=true, a chunk with empty choices and usage
// (other chunks then carry "usage":null), then data: [DONE]. Anthropic
// streams send message_start, content_block_start, ping, content_block_delta
// events, content_block_stop, message_delta (stop_reason, cumulative
// output_tokens), message_stop. Responses streams send response.created,
// response.in_progress, output item and content part events,
// response.output_text.delta events, and response.completed with usage.
// [[fake:hosted]] puts the reply in OpenAI's hosted tool items too, before
// the message (a web search, a file search, an image generation with its
// revised prompt and base64 image, a shell call and its output, streamed in
// their own events and deltas, and a URL citation on the text), so a test
// can see what the proxy does with each; a chat answer gets the citation on
// its message, or streamed in a delta of its own after the text. On
// /v1/messages it makes the answer a web search's (Anthropic's server
// tool): a server_tool_use block with the reply as query, a
// web_search_tool_result block with the reply as a result's title, and
// the text block citing it twice (web_search_result_location and
// char_location: cited_text, title, document_title), streamed as
// input_json_delta fragments, a whole result block and citations_delta
// events before the text deltas.
//
// # Faults
//
// Directives in the last user message (several may be combined, comma
// separated, in one [[fake:...]]): status=NNN or just NNN (that status in the
// provider's error shape; 429 adds Retry-After and x-ratelimit-* or
// anthropic-ratelimit-* headers), retry_after=S, slow=DURATION (before each
// stream frame, or before a non-stream body or error), truncate (a stream
// stops after half its deltas with no usage, finish or [DONE]; a body stops
// halfway; the connection is dropped), nousage (no usage object anywhere),
// gzip (Content-Encoding: gzip whatever Accept-Encoding says), malformed
// (status 200 with the JSON cut in half: the body, or a stream's first
// frame), hang (no answer until the client gives up or the server closes).
// An unknown directive is refused with 400. Models in Options.FailModels
// always get 503.
//
// Scripted answers queue the same faults from the test side: Server.Script,
// or POST /_fake/script with {"model":"...","responses":[{"status":503},
// {"status":429,"retry_after":"1"},{"status":200,"fault":"truncate",
// "delay":"50ms"}]}. POST /_fake/reset clears the queue and the recorded
// requests, GET /_fake/requests lists them.
//
// Every request outside /_fake/ is recorded (method, path, headers, body) in
// a bounded lock-free ring: Requests, LastRequest, Reset.
package fakeupstream
