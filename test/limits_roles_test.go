package test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// The four role policies of the distributed-team example against the fake
// upstream, checked row by row against SEED.txt's role table:
//
//	Role          Models              Budget  Rate limit     Retry
//	Lead Engineer All providers       1M      120/min, 500k/hr 3 retries + fallback
//	Developer     OpenAI + Anthropic  200k    60/min, 200k/hr  2 retries
//	Contractor    OpenAI only         50k     20/min, 50k/hr   None
//	CI Pipeline   gpt-4o-mini only    500k    30/min           2 retries + fallback

// roleProxy is a proxy for one role's tests, with every seed provider
// (groq and mistral too) routed to the fake upstream.
type roleProxy struct {
	t    *testing.T
	fake *fakeupstream.Server
	p    *proc
	c    *http.Client
	dir  string
	env  []string
}

func startRoleProxy(t *testing.T) *roleProxy {
	t.Helper()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	provs := providersYAML(fake.URL()) + fmt.Sprintf(`  groq:
    upstream_url: %[1]s
    api_key_env: GROQ_API_KEY
    models: [llama-3.3-70b-versatile, llama-3.1-8b-instant]
  mistral:
    upstream_url: %[1]s
    api_key_env: MISTRAL_API_KEY
    models: [mistral-large-latest, mistral-small-latest]
`, fake.URL())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "providers.yaml"), []byte(provs), 0o600))
	env := limitsEnv("GROQ_API_KEY="+fakeOpenAIKey, "MISTRAL_API_KEY="+fakeOpenAIKey)
	return &roleProxy{t: t, fake: fake, c: limClient(8), dir: dir, env: env}
}

// token creates a token with the role's policy, changed by edit.
func (rp *roleProxy) token(role string, edit func(map[string]any)) (tok, hash string) {
	rp.t.Helper()
	return createToken(rp.t, rp.dir, rp.env, rolePolicy(rp.t, role, edit))
}

func (rp *roleProxy) start() {
	rp.t.Helper()
	port, err := strconv.Atoi(rp.portOf())
	require.NoError(rp.t, err)
	rp.p = startServe(rp.t, rp.dir, port, rp.env)
}

func (rp *roleProxy) portOf() string {
	b, err := os.ReadFile(filepath.Join(rp.dir, "config.yaml"))
	require.NoError(rp.t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "http_port:"); ok {
			return strings.TrimSpace(v)
		}
	}
	rp.t.Fatal("no http_port in config.yaml")
	return ""
}

func (rp *roleProxy) chat(tok, model, prompt string, maxTokens int) limReply {
	return limChat(rp.c, rp.p.URL, tok, model, prompt, maxTokens)
}

// upstreamModels lists the models of the requests the fake saw since the
// last Reset, in order.
func (rp *roleProxy) upstreamModels() []string {
	var out []string
	for _, r := range rp.fake.Requests() {
		var b struct {
			Model string `json:"model"`
		}
		if r.JSON(&b) == nil {
			out = append(out, b.Model)
		}
	}
	return out
}

// rolePolicy reads a seed policy and applies edit. Running as root, memory
// files would land in /var/log/tokenomics: the paths move under the test's
// ./memory (an allowed directory) instead. Otherwise they stay as written,
// where writing fails, which must not break a request.
func rolePolicy(t *testing.T, role string, edit func(map[string]any)) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(readPolicy(t, role)), &m))
	if mem, ok := m["memory"].(map[string]any); ok && os.Geteuid() == 0 {
		if p, ok := mem["file_path"].(string); ok {
			mem["file_path"] = strings.Replace(p, "/var/log/tokenomics", "./memory", 1)
		}
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// checkRateLimit sends one request more than the role's requests per
// minute: all pass but the last, which is refused with the OpenAI 429.
func (rp *roleProxy) checkRateLimit(t *testing.T, tok, model string, perMin, tokensLimit int) {
	t.Helper()
	outsideMinuteEdge(t, 5*time.Second)
	start := time.Now()
	n := 0
	var r limReply
	for {
		r = rp.chat(tok, model, "hello", 5)
		if r.Status == 429 || n > 2*perMin {
			break
		}
		require.Equal(t, 200, r.Status, "request %d of %d/min: %s", n+1, perMin, r.Body)
		if n == 0 {
			assert.Equal(t, strconv.Itoa(perMin), r.Header.Get("X-Ratelimit-Limit-Requests"))
			assert.Equal(t, strconv.Itoa(perMin-1), r.Header.Get("X-Ratelimit-Remaining-Requests"))
			assert.Equal(t, strconv.Itoa(tokensLimit), r.Header.Get("X-Ratelimit-Limit-Tokens"))
		}
		n++
	}
	// The window is GCRA: a burst of perMin, then one more every
	// minute/perMin, so requests sent faster than that are refused soon
	// after the burst.
	interval := time.Minute / time.Duration(perMin)
	assert.GreaterOrEqual(t, n, perMin, "refused before the burst of %d/min", perMin)
	assert.LessOrEqual(t, n, perMin+int(time.Since(start)/interval)+1, "more than %d/min admitted", perMin)
	require.Equal(t, 429, r.Status, "request %d: %s", n+1, r.Body)
	assert.Equal(t, "rate_limit_exceeded", r.ErrorShape(t).Error.Code)
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", r.Header.Get("Retry-After"))
	assert.LessOrEqual(t, time.Duration(ra)*time.Second, interval+time.Second, "the next request fits after one interval")
}

// checkModels asserts which models the token may use.
func (rp *roleProxy) checkModels(t *testing.T, tok string, allowed, refused []string) {
	t.Helper()
	for _, m := range allowed {
		r := rp.chat(tok, m, "hello", 5)
		assert.Equal(t, 200, r.Status, "model %s should be allowed: %s", m, r.Body)
	}
	for _, m := range refused {
		before := len(rp.fake.Requests())
		r := rp.chat(tok, m, "hello", 5)
		assert.Equal(t, 403, r.Status, "model %s should be refused: %s", m, r.Body)
		assert.Equal(t, "model_not_allowed", r.Code(), "model %s", m)
		assert.Equal(t, before, len(rp.fake.Requests()), "refused model %s reached the upstream", m)
	}
}

// checkLimits asserts the budget counters /v1/usage shows for a fresh token.
func (rp *roleProxy) checkLimits(t *testing.T, tok string, want map[string]int64) {
	t.Helper()
	u := limGetUsage(t, rp.c, rp.p.URL, tok)
	got := map[string]int64{}
	for _, b := range u.Budgets {
		got[b.Key] = b.Limit
	}
	assert.Equal(t, want, got, "budget limits in /v1/usage")
}

func limScripted(model string, statuses ...int) []fakeupstream.Scripted {
	out := make([]fakeupstream.Scripted, len(statuses))
	for i, s := range statuses {
		out[i] = fakeupstream.Scripted{Model: model, Status: s}
	}
	return out
}

func TestLimitsRoleContractor(t *testing.T) {
	t.Parallel()
	rp := startRoleProxy(t)
	rateTok, _ := rp.token("contractor", nil)
	tok, _ := rp.token("contractor", nil)
	smallTok, _ := rp.token("contractor", func(m map[string]any) { m["max_tokens"] = 400 })
	rp.start()

	t.Run("budget", func(t *testing.T) {
		rp.checkLimits(t, tok, map[string]int64{"": 50000})
		// A copy with a 400-token budget: long replies exhaust it.
		var i int
		for i = 0; i < 10; i++ {
			r := rp.chat(smallTok, "gpt-4o", "[[fake:long=500]] write", 100)
			if r.Status == 429 {
				assert.Equal(t, "budget_exceeded", r.ErrorShape(t).Error.Code)
				break
			}
			require.Equal(t, 200, r.Status, "%s", r.Body)
			// 100, or fewer once the budget's end clamps the cap.
			assert.LessOrEqual(t, r.Usage(t).CompletionTokens, int64(100))
		}
		assert.Less(t, i, 10, "a 400-token budget never ran out")
		assert.GreaterOrEqual(t, i, 2, "refused before the budget was spent")
	})
	t.Run("rate limit 20/min", func(t *testing.T) {
		rp.checkRateLimit(t, rateTok, "gpt-4o", 20, 50000)
	})
	t.Run("models: OpenAI only", func(t *testing.T) {
		rp.checkModels(t, tok, []string{"gpt-4o", "gpt-4o-mini"},
			[]string{"claude-sonnet-4-6", "llama-3.3-70b-versatile", "mistral-large-latest", "o3-mini"})
	})
	t.Run("no retry", func(t *testing.T) {
		rp.fake.Reset()
		require.NoError(t, rp.fake.Script(limScripted("gpt-4o", 503)...))
		r := rp.chat(tok, "gpt-4o", "hello", 5)
		assert.Equal(t, 503, r.Status, "%s", r.Body)
		assert.Equal(t, []string{"gpt-4o"}, rp.upstreamModels(), "a token without retry was retried")
		assert.Equal(t, 200, rp.chat(tok, "gpt-4o", "hello", 5).Status)
	})
}

func TestLimitsRoleDeveloper(t *testing.T) {
	t.Parallel()
	rp := startRoleProxy(t)
	rateTok, _ := rp.token("developer", nil)
	tok, _ := rp.token("developer", nil)
	fbTok, _ := rp.token("developer", nil)
	// A copy allowing 3 requests a minute, to count what a fallback costs.
	fbRateTok, _ := rp.token("developer", func(m map[string]any) {
		m["rate_limit"].(map[string]any)["rules"] = []any{map[string]any{"requests": 3, "window": "1m"}}
	})
	rp.start()

	t.Run("budget", func(t *testing.T) {
		rp.checkLimits(t, tok, map[string]int64{"": 200000, "openai/0": 100000, "openai/1": 200000})
	})
	t.Run("rate limit 60/min", func(t *testing.T) {
		rp.checkRateLimit(t, rateTok, "gpt-4o", 60, 200000)
	})
	t.Run("models: OpenAI and Anthropic", func(t *testing.T) {
		rp.checkModels(t, tok, []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet-4-6", "claude-haiku-4-5"},
			[]string{"llama-3.3-70b-versatile", "mistral-large-latest", "o3-mini"})
	})
	t.Run("two 503s then success", func(t *testing.T) {
		rp.fake.Reset()
		require.NoError(t, rp.fake.Script(limScripted("gpt-4o", 503, 503)...))
		r := rp.chat(tok, "gpt-4o", "hello", 5)
		assert.Equal(t, 200, r.Status, "%s", r.Body)
		assert.Equal(t, []string{"gpt-4o", "gpt-4o", "gpt-4o"}, rp.upstreamModels())
	})
	t.Run("three 503s fall back to gpt-4o-mini", func(t *testing.T) {
		first := rp.chat(fbTok, "gpt-4o", "hello", 5)
		require.Equal(t, 200, first.Status, "%s", first.Body)
		before := limGetUsage(t, rp.c, rp.p.URL, fbTok)
		rp.fake.Reset()
		require.NoError(t, rp.fake.Script(limScripted("gpt-4o", 503, 503, 503)...))
		r := rp.chat(fbTok, "gpt-4o", "hello", 5)
		require.Equal(t, 200, r.Status, "%s", r.Body)
		assert.Equal(t, []string{"gpt-4o", "gpt-4o", "gpt-4o", "gpt-4o-mini"}, rp.upstreamModels())
		used := r.Usage(t).TotalTokens
		after := limSettled(t, rp.c, rp.p.URL, fbTok, "")
		assert.Equal(t, before.Budget(t, "").Used+used, after.Used, "the token's budget")
		au := limGetUsage(t, rp.c, rp.p.URL, fbTok)
		assert.Equal(t, before.Budget(t, "openai/0").Used, au.Budget(t, "openai/0").Used, "gpt-4o's entry charged for the fallback")
		assert.Equal(t, before.Budget(t, "openai/1").Used+used, au.Budget(t, "openai/1").Used, "gpt-4o-mini's entry not charged")
	})
	t.Run("a fallback is one request against the rate limit", func(t *testing.T) {
		outsideMinuteEdge(t, 5*time.Second)
		require.Equal(t, 200, rp.chat(fbRateTok, "gpt-4o", "hello", 5).Status)
		rp.fake.Reset()
		require.NoError(t, rp.fake.Script(limScripted("gpt-4o", 503, 503, 503)...))
		r := rp.chat(fbRateTok, "gpt-4o", "hello", 5)
		require.Equal(t, 200, r.Status, "%s", r.Body)
		require.Equal(t, []string{"gpt-4o", "gpt-4o", "gpt-4o", "gpt-4o-mini"}, rp.upstreamModels())
		assert.Equal(t, "1", r.Header.Get("X-Ratelimit-Remaining-Requests"), "x-ratelimit-remaining-requests after 2 of 3 requests")
		r = rp.chat(fbRateTok, "gpt-4o", "hello", 5)
		assert.Equal(t, 200, r.Status, "third client request of 3/min refused: the fallback counted twice: %s", r.Body)
		r = rp.chat(fbRateTok, "gpt-4o", "hello", 5)
		assert.Equal(t, 429, r.Status, "fourth request of 3/min: %s", r.Body)
	})
}

func TestLimitsRoleLeadEngineer(t *testing.T) {
	t.Parallel()
	rp := startRoleProxy(t)
	rateTok, _ := rp.token("lead-engineer", nil)
	tok, _ := rp.token("lead-engineer", nil)
	rp.start()

	t.Run("budget", func(t *testing.T) {
		rp.checkLimits(t, tok, map[string]int64{"": 1000000, "openai/0": 500000, "openai/1": 1000000})
	})
	t.Run("rate limit 120/min", func(t *testing.T) {
		rp.checkRateLimit(t, rateTok, "gpt-4o-mini", 120, 500000)
	})
	t.Run("models: all providers", func(t *testing.T) {
		rp.checkModels(t, tok, []string{"gpt-4o", "gpt-4o-mini", "o3-mini", "claude-opus-4-6",
			"llama-3.3-70b-versatile", "mistral-large-latest"}, []string{"gpt-3.5-turbo-instruct"})
	})
	t.Run("upstream 503 falls back to gpt-4o-mini", func(t *testing.T) {
		rp.fake.Reset()
		// One try and three retries of gpt-4o, then the fallback.
		require.NoError(t, rp.fake.Script(limScripted("gpt-4o", 503, 503, 503, 503)...))
		r := rp.chat(tok, "gpt-4o", "hello", 5)
		require.Equal(t, 200, r.Status, "%s", r.Body)
		assert.Equal(t, []string{"gpt-4o", "gpt-4o", "gpt-4o", "gpt-4o", "gpt-4o-mini"}, rp.upstreamModels())
	})
}

func TestLimitsRoleCIPipeline(t *testing.T) {
	t.Parallel()
	rp := startRoleProxy(t)
	rateTok, _ := rp.token("ci-pipeline", nil)
	tok, _ := rp.token("ci-pipeline", nil)
	rp.start()

	t.Run("budget", func(t *testing.T) {
		rp.checkLimits(t, tok, map[string]int64{"": 500000})
	})
	t.Run("rate limit 30/min", func(t *testing.T) {
		rp.checkRateLimit(t, rateTok, "gpt-4o-mini", 30, 500000)
	})
	t.Run("models: gpt-4o-mini only", func(t *testing.T) {
		rp.checkModels(t, tok, []string{"gpt-4o-mini"}, []string{"gpt-4o", "claude-sonnet-4-6", "o3-mini"})
	})
	t.Run("upstream 503 retried, then the gpt-4o-mini fallback", func(t *testing.T) {
		rp.fake.Reset()
		require.NoError(t, rp.fake.Script(limScripted("gpt-4o-mini", 503)...))
		r := rp.chat(tok, "gpt-4o-mini", "hello", 5)
		assert.Equal(t, 200, r.Status, "%s", r.Body)
		assert.Len(t, rp.upstreamModels(), 2)

		// Three tries fail; the fallback (the same model) is the fourth.
		rp.fake.Reset()
		require.NoError(t, rp.fake.Script(limScripted("gpt-4o-mini", 503, 503, 503)...))
		r = rp.chat(tok, "gpt-4o-mini", "hello", 5)
		assert.Equal(t, 200, r.Status, "%s", r.Body)
		assert.Equal(t, []string{"gpt-4o-mini", "gpt-4o-mini", "gpt-4o-mini", "gpt-4o-mini"}, rp.upstreamModels())

		// Every attempt fails: the client gets the provider's 503.
		rp.fake.Reset()
		require.NoError(t, rp.fake.Script(limScripted("gpt-4o-mini", 503, 503, 503, 503)...))
		r = rp.chat(tok, "gpt-4o-mini", "hello", 5)
		assert.Equal(t, 503, r.Status, "%s", r.Body)
		assert.Len(t, rp.upstreamModels(), 4)
	})
}
