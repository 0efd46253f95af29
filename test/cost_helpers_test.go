package test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// costPrice is a price in micro-dollars per 1M tokens (per request for
// fee), written into providers.yaml by costPricingYAML and used by the
// tests to compute what the books must say, independently of the proxy.
type costPrice struct {
	input, cached, output, reasoning, fee int64
}

// cost is the price of a reported usage: uncached prompt, cached prompt,
// visible output and reasoning at their rates, rounded up to a whole
// micro-dollar, plus the fee.
func (p costPrice) cost(u costUsage) int64 {
	cached := u.PromptTokensDetails.CachedTokens
	reasoning := u.CompletionTokensDetails.ReasoningTokens
	sum := (u.PromptTokens-cached)*p.input + cached*p.cached +
		(u.CompletionTokens-reasoning)*p.output + reasoning*p.reasoning
	return (sum+999_999)/1_000_000 + p.fee
}

// costUsage is an OpenAI usage object with the details pricing reads.
type costUsage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// costUsageOf reads the usage and finish_reason of a non-streamed chat
// completion.
func costUsageOf(t *testing.T, body []byte) (costUsage, string) {
	t.Helper()
	var out struct {
		Usage   *costUsage `json:"usage"`
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	require.NoError(t, json.Unmarshal(body, &out), "body: %s", body)
	require.NotNil(t, out.Usage, "no usage in %s", body)
	require.Len(t, out.Choices, 1, "body: %s", body)
	return *out.Usage, out.Choices[0].FinishReason
}

// costProxyDir is newProxyDir with pricing appended to providers.yaml.
func costProxyDir(t *testing.T, fakeURL string, port int, extra, pricing string) string {
	t.Helper()
	dir := newProxyDir(t, proxySetup{fakeURL: fakeURL, port: port, extra: extra})
	path := filepath.Join(dir, "providers.yaml")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(b, pricing...), 0o600))
	return dir
}

// startCostFleet starts n proxies with the same token (one database copied
// into each dir) and the given pricing in their providers.yaml.
func startCostFleet(t *testing.T, n int, fakeURL, extra, pricing, policy string) *proxyFleet {
	t.Helper()
	env := limitsEnv()
	f := &proxyFleet{}
	ports := make([]int, n)
	for i := range n {
		ports[i] = freePort(t)
		f.dirs = append(f.dirs, costProxyDir(t, fakeURL, ports[i], extra, pricing))
	}
	f.tok, f.hash = createToken(t, f.dirs[0], env, policy)
	db, err := os.ReadFile(filepath.Join(f.dirs[0], "tokenomics.db"))
	require.NoError(t, err)
	for _, d := range f.dirs[1:] {
		require.NoError(t, os.WriteFile(filepath.Join(d, "tokenomics.db"), db, 0o600))
	}
	for i, d := range f.dirs {
		f.procs = append(f.procs, startServe(t, d, ports[i], env))
	}
	return f
}

// costRow is one dollar counter of GET /v1/usage.
type costRow struct {
	Key      string `json:"key"`
	Limit    int64  `json:"limit_usd_micros"`
	Used     int64  `json:"used_usd_micros"`
	Reserved int64  `json:"reserved_usd_micros"`
}

// costSettled reads the token's dollar counter key from /v1/usage once no
// reservation is left on it (streams settle after their last byte).
func costSettled(t *testing.T, c *http.Client, base, tok, key string) costRow {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, err := http.NewRequest(http.MethodGet, base+"/v1/usage", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode, "GET /v1/usage: %s", b)
		var u struct {
			Cost []costRow `json:"cost_budgets"`
		}
		require.NoError(t, json.Unmarshal(b, &u), "GET /v1/usage: %s", b)
		var row *costRow
		for i := range u.Cost {
			if u.Cost[i].Key == key {
				row = &u.Cost[i]
			}
		}
		require.NotNil(t, row, "no dollar budget %q in /v1/usage: %s", key, b)
		if row.Reserved == 0 || time.Now().After(deadline) {
			return *row
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisCostUsed reads a token's settled spend straight from Redis: the
// dollar counters live on the subject "<hash>/usd" (core/proxy/cost.go).
func redisCostUsed(t *testing.T, c *redis.Client, hash string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := c.HGet(ctx, "tkn:{"+hash+"/usd}:b", "u:").Int64()
	require.NoError(t, err, "reading the dollar counter from Redis")
	return v
}
