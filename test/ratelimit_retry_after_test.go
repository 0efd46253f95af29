package test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestRateLimitRetryAfterIsExact: with a limit of one request per minute,
// a refused request is told to wait at most the window (the AI SDK and
// LangChain give up on a Retry-After above 60 s), and a retry after exactly
// that wait succeeds, on the memory backend and on a real redis-server.
func TestRateLimitRetryAfterIsExact(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			extra := ""
			if backend == "redis" {
				extra = limSessionYAML(limStartRedis(t, false).addr(), "closed")
			}
			fake := startFake(t, fakeupstream.Options{RecordLimit: -1})
			lp := startLimProxy(t, fake.URL(), extra,
				`{"model_regex":"^gpt-4o","max_tokens":100000,"rate_limit":{"rules":[{"requests":1,"window":"1m"}]}}`)
			c := limClient(1)
			call := func() limReply {
				r := limChat(c, lp.p.URL, lp.tok, "gpt-4o-mini", "hello", 5)
				require.NoError(t, r.Err)
				return r
			}
			retryAfter := func(r limReply) time.Duration {
				require.Equal(t, 429, r.Status, "%s", r.Body)
				assert.Equal(t, "rate_limit_exceeded", r.Code())
				s, err := strconv.Atoi(r.Header.Get("Retry-After"))
				require.NoError(t, err, "Retry-After %q", r.Header.Get("Retry-After"))
				d := time.Duration(s) * time.Second
				require.Positive(t, d)
				require.LessOrEqual(t, d, time.Minute, "Retry-After above the window")
				return d
			}

			require.Equal(t, 200, call().Status)
			time.Sleep(2 * time.Second)
			wait := retryAfter(call())
			// Two seconds of the minute have passed: the answer says so.
			assert.LessOrEqual(t, wait, 58*time.Second+time.Second)
			time.Sleep(wait)
			r := call()
			require.Equal(t, 200, r.Status, "retry after exactly Retry-After (%s) refused: %s", wait, r.Body)
			again := retryAfter(call())
			t.Logf("%s: Retry-After %s, then %s after the retry", backend, wait, again)
			lp.p.Stop(t)
		})
	}
}
