// Package pricing turns a provider's usage report into what the request
// cost, in integer micro-dollars (1 USD = 1,000,000 µ$).
//
// A Price holds a model's list rates in micro-dollars per million tokens
// (so $0.075 per 1M tokens is 75,000): prompt tokens not served from a
// cache, cached prompt tokens (cache reads), prompt tokens written to a
// cache (Anthropic's cache_creation_input_tokens), output tokens, reasoning
// tokens where they are billed apart from output, and a fee per request.
// Every published rate has at most six decimals, so the table is exact.
//
// Cost sums each kind of token times its rate in 128 bits, divides by a
// million rounding up (a request is never under-charged by rounding) and
// adds the request fee. Results saturate at MaxCost.
//
// Reservations price the worst case: WorstCost charges every prompt token at
// the dearest prompt rate and every output token at the dearest output rate,
// so the cost a provider later reports for the same token counts can only be
// lower. MaxOutput inverts it: the most output tokens a remaining budget
// pays for after a prompt, which is how a nearly exhausted dollar budget
// becomes a lower output cap instead of a refusal.
//
// Table maps (provider, model) to a Price: a provider's own entry first,
// then the operator's model-wide entry, then the defaults shipped in
// defaults.go. A model with no price is unknown: callers decide (the proxy
// refuses it only for tokens with a cost budget).
package pricing
