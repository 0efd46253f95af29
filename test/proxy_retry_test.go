package test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// pxUsageAll returns every budget counter of the token by key.
func pxUsageAll(t *testing.T, url, tok string) map[string]pxBudget {
	t.Helper()
	r := pxDo(t, "GET", url+"/v1/usage", "", "Authorization", "Bearer "+tok)
	require.Equal(t, 200, r.status, string(r.body))
	var out struct {
		Budgets []pxBudget `json:"budgets"`
	}
	require.NoError(t, json.Unmarshal(r.body, &out), string(r.body))
	m := map[string]pxBudget{}
	for _, b := range out.Budgets {
		m[b.Key] = b
	}
	return m
}

// TestProxyRetryAndFallback: retry_on statuses are retried up to
// max_retries, then the fallbacks are tried; only the answer that reached
// the client is charged, to the budget of the entry that served it.
func TestProxyRetryAndFallback(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	const retry = `"retry":{"max_retries":2,"retry_on":[429,500,503]`
	cases := []struct {
		name     string
		policy   string
		script   []fakeupstream.Scripted
		body     string
		status   int
		attempts map[string]int // upstream requests by model
		served   string         // model of the answer ("" for errors)
		maxTime  time.Duration
		budgets  map[string]bool // keys whose usage must equal the charge (others 0)
		// retryAfter is the Retry-After the client must get.
		retryAfter string
	}{
		{name: "retry then success", policy: `{"max_tokens":100000,` + retry + `}}`,
			script: []fakeupstream.Scripted{{Model: "gpt-4o", Status: 503}},
			body:   pxChat("gpt-4o", "retry once", false, ""), status: 200,
			attempts: map[string]int{"gpt-4o": 2}, served: "gpt-4o"},
		{name: "stream retry then success", policy: `{"max_tokens":100000,` + retry + `}}`,
			script: []fakeupstream.Scripted{{Model: "gpt-4o", Status: 500}},
			body:   pxChat("gpt-4o", "retry stream", true, `"stream_options":{"include_usage":true}`), status: 200,
			attempts: map[string]int{"gpt-4o": 2}, served: "gpt-4o"},
		{name: "retries exhausted", policy: `{"max_tokens":100000,` + retry + `}}`,
			script: []fakeupstream.Scripted{{Model: "gpt-4o", Status: 503}, {Model: "gpt-4o", Status: 503}, {Model: "gpt-4o", Status: 503}},
			body:   pxChat("gpt-4o", "always down", false, ""), status: 503,
			attempts: map[string]int{"gpt-4o": 3}},
		{name: "status not in retry_on", policy: `{"max_tokens":100000,` + retry + `}}`,
			script: []fakeupstream.Scripted{{Model: "gpt-4o", Status: 400}},
			body:   pxChat("gpt-4o", "bad request", false, ""), status: 400,
			attempts: map[string]int{"gpt-4o": 1}},
		{name: "fallback after retries", policy: `{"max_tokens":100000,` + retry + `,"fallbacks":["gpt-4o-mini"]}}`,
			script: []fakeupstream.Scripted{{Model: "gpt-4o", Status: 503}, {Model: "gpt-4o", Status: 503}, {Model: "gpt-4o", Status: 503}},
			body:   pxChat("gpt-4o", "fall back", false, ""), status: 200,
			attempts: map[string]int{"gpt-4o": 3, "gpt-4o-mini": 1}, served: "gpt-4o-mini"},
		{name: "long retry-after skips to the fallback", policy: `{"max_tokens":100000,` + retry + `,"fallbacks":["gpt-4o-mini"]}}`,
			script: []fakeupstream.Scripted{{Model: "gpt-4o", Status: 429, RetryAfter: "120"}},
			body:   pxChat("gpt-4o", "busy", false, ""), status: 200, maxTime: 5 * time.Second,
			attempts: map[string]int{"gpt-4o": 1, "gpt-4o-mini": 1}, served: "gpt-4o-mini"},
		{name: "long retry-after without fallback is passed on", policy: `{"max_tokens":100000,` + retry + `}}`,
			script: []fakeupstream.Scripted{{Model: "gpt-4o", Status: 429, RetryAfter: "120"}, {Model: "gpt-4o", Status: 429, RetryAfter: "120"}, {Model: "gpt-4o", Status: 429, RetryAfter: "120"}},
			body:   pxChat("gpt-4o", "busy for long", false, ""), status: 429, maxTime: 5 * time.Second, retryAfter: "120",
			attempts: map[string]int{"gpt-4o": 1}},
		{name: "fallback to another provider is translated", policy: `{"max_tokens":100000,"retry":{"max_retries":0,"retry_on":[503],"fallbacks":["claude-haiku-4-5"]}}`,
			script: []fakeupstream.Scripted{{Model: "gpt-4o", Status: 503}},
			body:   pxChat("gpt-4o", "to claude", false, ""), status: 200,
			attempts: map[string]int{"gpt-4o": 1, "claude-haiku-4-5": 1}, served: "claude-haiku-4-5"},
		{name: "fallback charged to its own entry budget",
			policy: `{"max_tokens":100000,"retry":{"max_retries":0,"retry_on":[503],"fallbacks":["gpt-4o-mini"]},
				"providers":{"openai":[{"model":"gpt-4o","max_tokens":5000},{"model":"gpt-4o-mini","max_tokens":6000}]}}`,
			script: []fakeupstream.Scripted{{Model: "gpt-4o", Status: 503}},
			body:   pxChat("gpt-4o", "entry budgets", false, ""), status: 200,
			attempts: map[string]int{"gpt-4o": 1, "gpt-4o-mini": 1}, served: "gpt-4o-mini",
			budgets: map[string]bool{"": true, "openai/1": true, "openai/0": false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, _ := px.token(t, tc.policy)
			px.fake.Reset() // also clears scripted answers a failed case left
			require.NoError(t, px.fake.Script(tc.script...))
			start := time.Now()
			r := pxPost(t, px.url+"/v1/chat/completions", tok, tc.body)
			took := time.Since(start)
			require.Equal(t, tc.status, r.status, string(r.body))
			if tc.maxTime > 0 {
				assert.Less(t, took, tc.maxTime)
			}
			if tc.retryAfter != "" {
				assert.Equal(t, tc.retryAfter, r.header.Get("Retry-After"))
			}
			if tc.status == 200 {
				assert.Zero(t, px.fake.Pending(), "every scripted answer was used")
			}
			reqs := px.fake.Requests()
			got := map[string]int{}
			var last fakeupstream.Request
			for _, q := range reqs {
				var m struct{ Model string }
				require.NoError(t, json.Unmarshal(q.Body, &m))
				got[m.Model]++
				last = q
			}
			assert.Equal(t, tc.attempts, got, "upstream attempts by model")

			var charge int64
			if tc.served != "" {
				var m struct{ Model string }
				require.NoError(t, json.Unmarshal(last.Body, &m))
				assert.Equal(t, tc.served, m.Model)
				charge = pxPredictTotal(t, last)
				if strings.Contains(r.header.Get("Content-Type"), "json") { // not a stream: the answer names the model
					var ans struct{ Model string }
					require.NoError(t, json.Unmarshal(r.body, &ans))
					assert.Equal(t, tc.served, ans.Model)
				}
			} else {
				pxErrorShape(t, r.body)
			}
			all := pxUsageAll(t, px.url, tok)
			for k, b := range all {
				assert.Zero(t, b.Reserved, "budget %q keeps a reservation", k)
			}
			if tc.budgets == nil {
				tc.budgets = map[string]bool{"": true}
			}
			for k, charged := range tc.budgets {
				b, ok := all[k]
				require.True(t, ok, "budget %q: %v", k, all)
				if charged {
					assert.Equal(t, charge, b.Used, "budget %q", k)
				} else {
					assert.Zero(t, b.Used, "budget %q", k)
				}
			}
		})
	}
}
