package pricing

// The shipped default prices: the list prices of the models the examples
// route (examples/distributed-team/providers.yaml), in USD per 1M tokens,
// standard (non-batch) tier, as published by each provider and checked on
// 2026-12-07:
//
//   - OpenAI, https://platform.openai.com/docs/pricing: cached input is the
//     prompt-caching rate; reasoning tokens are billed as output.
//   - Anthropic, https://docs.anthropic.com/en/docs/about-claude/pricing:
//     cache reads at 0.1× input, cache writes at the 5-minute rate (1.25×
//     input); 1-hour cache writes (2×) are not told apart in usage reports
//     and are charged at the 5-minute rate.
//   - Groq, https://groq.com/pricing; Mistral, https://mistral.ai/pricing
//     (the -latest aliases at the prices of the models they named then).
//
// Prices change: an operator overrides any of them in providers.yaml
// (docs/BUDGETS.md, "Budgets in dollars"). A model absent here and from
// providers.yaml has no price.
var defaults = map[string]Rates{
	"gpt-4o":      {Input: "2.50", CachedInput: "1.25", Output: "10.00"},
	"gpt-4o-mini": {Input: "0.15", CachedInput: "0.075", Output: "0.60"},
	"o3-mini":     {Input: "1.10", CachedInput: "0.55", Output: "4.40"},
	"o4-mini":     {Input: "1.10", CachedInput: "0.275", Output: "4.40"},

	"claude-opus-4-6":   {Input: "5.00", CachedInput: "0.50", CacheWrite: "6.25", Output: "25.00"},
	"claude-sonnet-4-6": {Input: "3.00", CachedInput: "0.30", CacheWrite: "3.75", Output: "15.00"},
	"claude-haiku-4-5":  {Input: "1.00", CachedInput: "0.10", CacheWrite: "1.25", Output: "5.00"},

	"llama-3.3-70b-versatile": {Input: "0.59", Output: "0.79"},
	"llama-3.1-8b-instant":    {Input: "0.05", Output: "0.08"},

	"mistral-large-latest": {Input: "2.00", Output: "6.00"},
	"mistral-small-latest": {Input: "0.10", Output: "0.30"},
}

// Defaults returns a fresh copy of the shipped default prices by model.
// The table is checked by the package's tests, so a typo cannot ship.
func Defaults() map[string]Price {
	out := make(map[string]Price, len(defaults))
	for m, r := range defaults {
		p, err := ParsePrice(r)
		if err != nil {
			panic("pricing: default price of " + m + ": " + err.Error()) // programmer error, caught by tests
		}
		out[m] = p
	}
	return out
}
