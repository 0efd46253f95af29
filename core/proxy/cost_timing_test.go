package proxy

import "testing"

// BenchmarkProxyHandlerChat1KBDollarBudget is BenchmarkProxyHandlerChat1KB
// for a token with a dollar budget: the price lookup, the second limiter
// call on the token's dollar subject and its settle. Compare allocs/op and
// ns/op with BenchmarkProxyHandlerChat1KB for what dollar budgets cost.
func BenchmarkProxyHandlerChat1KBDollarBudget(b *testing.B) {
	benchHandlerChat1KB(b, `{"max_tokens":0,"max_cost_usd":1000000}`)
}
