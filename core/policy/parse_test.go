package policy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readPolicy(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return data
}

func mustParse(t testing.TB, name string) *Policy {
	t.Helper()
	p, err := Parse(readPolicy(t, name))
	require.NoError(t, err)
	return p
}

func groupNames(ps Providers) []string {
	var names []string
	for _, g := range ps {
		names = append(names, g.Name)
	}
	return names
}

func TestParseCompatPolicies(t *testing.T) {
	t.Parallel()

	t.Run("developer", func(t *testing.T) {
		t.Parallel()
		p := mustParse(t, "developer.json")
		assert.Equal(t, int64(200000), p.MaxTokens)
		assert.Equal(t, 60, p.Timeout)
		assert.Equal(t, []Message{{Role: "system", Content: "You are a helpful engineering assistant."}}, p.Prompts)
		require.Len(t, p.Rules, 1)
		assert.Equal(t, Rule{
			Name: "pii-mask", Type: "pii",
			Detect: []string{"ssn", "credit_card", "aws_key", "api_key"},
			Action: "mask", Scope: "both", OnError: "block",
		}, p.Rules[0])
		require.NotNil(t, p.RateLimit)
		assert.Equal(t, 5, p.RateLimit.MaxParallel)
		require.Len(t, p.RateLimit.Rules, 2)
		assert.Equal(t, int64(60), p.RateLimit.Rules[0].Requests)
		assert.Equal(t, "sliding", p.RateLimit.Rules[0].Strategy)
		assert.Equal(t, time.Minute, p.RateLimit.Rules[0].WindowDuration())
		assert.Equal(t, int64(200000), p.RateLimit.Rules[1].Tokens)
		assert.Equal(t, time.Hour, p.RateLimit.Rules[1].WindowDuration())
		assert.Equal(t, &Retry{MaxRetries: 2, Fallbacks: []string{"gpt-4o-mini"}, RetryOn: []int{429, 500, 502, 503}}, p.Retry)
		assert.Equal(t, map[string]string{"role": "developer", "team": "engineering"}, p.Metadata)
		assert.Equal(t, &Memory{Enabled: true, FilePath: "/var/log/tokenomics/sessions", FileName: "{token_hash}.md"}, p.Memory)
		assert.Equal(t, []string{"openai", "anthropic"}, groupNames(p.Providers))
		require.Len(t, p.Providers[0].Entries, 2)
		assert.Equal(t, "gpt-4o", p.Providers[0].Entries[0].Model)
		assert.Equal(t, "^gpt-4o-mini", p.Providers[0].Entries[1].ModelRegex)
	})

	t.Run("contractor", func(t *testing.T) {
		t.Parallel()
		p := mustParse(t, "contractor.json")
		assert.Equal(t, "OPENAI_API_KEY", p.BaseKeyEnv)
		assert.Equal(t, "^gpt-4o", p.ModelRegex)
		assert.Equal(t, int64(50000), p.MaxTokens)
		require.Len(t, p.Rules, 3)
		assert.Equal(t, []string{"mask", "fail", "fail"}, []string{p.Rules[0].Action, p.Rules[1].Action, p.Rules[2].Action})
		assert.Equal(t, []string{"both", "input", "input"}, []string{p.Rules[0].Scope, p.Rules[1].Scope, p.Rules[2].Scope})
		assert.Equal(t, []string{"block", "block", "block"}, []string{p.Rules[0].OnError, p.Rules[1].OnError, p.Rules[2].OnError})
		assert.Equal(t, "(?i)(ignore.*instructions|system.*prompt|you are now)", p.Rules[1].Pattern)
		assert.Equal(t, []string{"jailbreak", "bypass", "override", "hack"}, p.Rules[2].Keywords)
		assert.Nil(t, p.Retry)
		assert.Nil(t, p.Providers)
		assert.Equal(t, &Memory{Enabled: true, FilePath: "/var/log/tokenomics/contractor-sessions.md"}, p.Memory)
	})

	t.Run("ci-pipeline", func(t *testing.T) {
		t.Parallel()
		p := mustParse(t, "ci-pipeline.json")
		assert.Equal(t, "gpt-4o-mini", p.Model)
		assert.Empty(t, p.Rules)
		require.Len(t, p.RateLimit.Rules, 2)
		assert.Equal(t, "sliding", p.RateLimit.Rules[0].Strategy)
		assert.Equal(t, "fixed", p.RateLimit.Rules[1].Strategy)
		assert.Equal(t, 24*time.Hour, p.RateLimit.Rules[1].WindowDuration())
		assert.Equal(t, 3, p.RateLimit.MaxParallel)
		assert.Nil(t, p.Memory)
	})

	t.Run("lead-engineer", func(t *testing.T) {
		t.Parallel()
		p := mustParse(t, "lead-engineer.json")
		assert.Equal(t, []string{"openai", "anthropic", "groq", "mistral"}, groupNames(p.Providers))
		assert.Equal(t, "warn", p.Rules[0].Action)
		assert.Equal(t, "allow", p.Rules[0].OnError)
		assert.Equal(t, 3, p.Retry.MaxRetries)
	})
}

func TestParseWASMRange(t *testing.T) {
	t.Parallel()
	for _, plugin := range []string{"guard@^1", "guard@~1.2", "guard@1.2.3", "acme.guard@>=1.1, <2"} {
		p, err := Parse([]byte(`{"rules": [{"name": "w", "type": "wasm", "plugin": "` + plugin + `", "action": "fail"}]}`))
		require.NoError(t, err, plugin)
		assert.Equal(t, plugin, p.Rules[0].Plugin)
		assert.Empty(t, p.Rules[0].SHA256)
	}
}

func TestParseNormalizes(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`{
		"rules": [
			{"name": "k", "type": "keyword", "keywords": ["x"], "action": "block"},
			{"name": "w", "type": "wasm", "plugin": "acme.guard", "action": "log", "scope": "output",
			 "sha256": "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789",
			 "config": { "level" : [1, 2] }}
		],
		"retry": {"max_retries": 1},
		"rate_limit": {"rules": [{"requests": 1, "window": "7d"}]},
		"prompts": [], "metadata": {}
	}`))
	require.NoError(t, err)
	assert.Equal(t, "fail", p.Rules[0].Action)
	assert.Equal(t, "block", p.Rules[0].OnError)
	assert.Equal(t, "input", p.Rules[0].Scope)
	assert.Equal(t, "allow", p.Rules[1].OnError)
	assert.Equal(t, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", p.Rules[1].SHA256)
	assert.JSONEq(t, `{"level":[1,2]}`, string(p.Rules[1].Config))
	assert.Equal(t, `{"level":[1,2]}`, string(p.Rules[1].Config), "config is compacted")
	assert.Equal(t, []int{429, 500, 502, 503}, p.Retry.RetryOn)
	assert.Equal(t, "sliding", p.RateLimit.Rules[0].Strategy)
	assert.Equal(t, 7*24*time.Hour, p.RateLimit.Rules[0].WindowDuration())
	assert.Nil(t, p.Prompts, "empty lists are stored as nil")
	assert.Nil(t, p.Metadata)
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	const sha = `"sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"`
	cases := []struct {
		name string
		doc  string
		path string
	}{
		{"unknown top-level field", `{"max_token": 5}`, "max_token"},
		{"unknown rule field", `{"rules": [{"name": "a", "type": "keyword", "keywords": ["x"]}, {"name": "b", "type": "keyword", "keywords": ["y"], "actoin": "fail"}]}`, "rules[1].actoin"},
		{"unknown entry field", `{"providers": {"openai": [{"model": "gpt-4o", "max_token": 1}]}}`, "providers.openai[0].max_token"},
		{"unknown rate rule field", `{"rate_limit": {"rules": [{"requests": 1, "window": "1m", "windw": "1h"}]}}`, "rate_limit.rules[0].windw"},
		{"unknown memory field", `{"memory": {"enabeld": true}}`, "memory.enabeld"},
		{"unknown retry field", `{"retry": {"max_retry": 1}}`, "retry.max_retry"},
		{"unknown prompt field", `{"prompts": [{"role": "system", "text": "hi"}]}`, "prompts[0].text"},
		{"field in wrong case", `{"Max_Tokens": 5}`, "Max_Tokens"},
		{"unknown key needing quotes", `{"a b": 1}`, `["a b"]`},
		{"string for integer", `{"max_tokens": "lots"}`, "max_tokens"},
		{"fraction for integer", `{"timeout": 1.5}`, "timeout"},
		{"integer out of range", `{"max_tokens": 1e400}`, "max_tokens"},
		{"int overflow", `{"max_tokens": 9223372036854775808}`, "max_tokens"},
		{"string for list", `{"rules": "none"}`, "rules"},
		{"null for string", `{"model": null}`, "model"},
		{"number in metadata", `{"metadata": {"team": 5}}`, "metadata.team"},
		{"string for bool", `{"memory": {"enabled": "yes"}}`, "memory.enabled"},
		{"string for threshold", `{"rules": [{"name": "g", "type": "prompt_guard", "threshold": "high"}]}`, "rules[0].threshold"},
		{"providers as array", `{"providers": []}`, "providers"},
		{"provider group as object", `{"providers": {"openai": {}}}`, "providers.openai"},
		{"bad model_regex", `{"model_regex": "("}`, "model_regex"},
		{"bad entry model_regex", `{"providers": {"openai": [{"model_regex": "[a-"}]}}`, "providers.openai[0].model_regex"},
		{"negative budget", `{"max_tokens": -1}`, "max_tokens"},
		{"negative entry budget", `{"providers": {"openai": [{"max_tokens": -5}]}}`, "providers.openai[0].max_tokens"},
		{"negative timeout", `{"timeout": -1}`, "timeout"},
		{"timeout too long", `{"timeout": 3601}`, "timeout"},
		{"entry timeout too long", `{"providers": {"openai": [{"timeout": 7200}]}}`, "providers.openai[0].timeout"},
		{"bad window", `{"rate_limit": {"rules": [{"requests": 1, "window": "5x"}]}}`, "rate_limit.rules[0].window"},
		{"zero window", `{"rate_limit": {"rules": [{"requests": 1, "window": "0m"}]}}`, "rate_limit.rules[0].window"},
		{"window too long", `{"rate_limit": {"rules": [{"requests": 1, "window": "32d"}]}}`, "rate_limit.rules[0].window"},
		{"missing window", `{"rate_limit": {"rules": [{"requests": 1}]}}`, "rate_limit.rules[0].window"},
		{"requests and tokens", `{"rate_limit": {"rules": [{"requests": 1, "tokens": 5, "window": "1m"}]}}`, "rate_limit.rules[0]"},
		{"neither requests nor tokens", `{"rate_limit": {"rules": [{"window": "1m"}]}}`, "rate_limit.rules[0]"},
		{"negative requests", `{"rate_limit": {"rules": [{"requests": -1, "window": "1m"}]}}`, "rate_limit.rules[0].requests"},
		{"bad strategy", `{"rate_limit": {"rules": [{"tokens": 1, "window": "1m", "strategy": "leaky"}]}}`, "rate_limit.rules[0].strategy"},
		{"negative max_parallel", `{"rate_limit": {"max_parallel": -1}}`, "rate_limit.max_parallel"},
		{"bad action", `{"rules": [{"name": "a", "type": "keyword", "keywords": ["x"], "action": "explode"}]}`, "rules[0].action"},
		{"mask on prompt_guard", `{"rules": [{"name": "g", "type": "prompt_guard", "action": "mask"}]}`, "rules[0].action"},
		{"threshold above one", `{"rules": [{"name": "g", "type": "prompt_guard", "threshold": 1.5}]}`, "rules[0].threshold"},
		{"bad scope", `{"rules": [{"name": "a", "type": "keyword", "keywords": ["x"], "scope": "sideways"}]}`, "rules[0].scope"},
		{"bad on_error", `{"rules": [{"name": "a", "type": "keyword", "keywords": ["x"], "on_error": "retry"}]}`, "rules[0].on_error"},
		{"default rule name taken", `{"rules": [{"type": "keyword", "keywords": ["x"]}, {"name": "rules[0]", "type": "regex", "pattern": "y"}]}`, "rules[1].name"},
		{"duplicate rule names", `{"rules": [{"name": "a", "type": "keyword", "keywords": ["x"]}, {"name": "a", "type": "regex", "pattern": "y"}]}`, "rules[1].name"},
		{"missing rule type is regex, which needs a pattern", `{"rules": [{"name": "a"}]}`, "rules[0].pattern"},
		{"legacy rule with a bad pattern", `{"rules": ["ok", "(?P<x"]}`, "rules[1].pattern"},
		{"legacy rule of another JSON type", `{"rules": [42]}`, "rules[0]"},
		{"jailbreak misspelled field", `{"rules": [{"type": "jailbreak", "actoin": "mask"}]}`, "rules[0].actoin"},
		{"jailbreak with keywords", `{"rules": [{"type": "jailbreak", "keywords": ["x"]}]}`, "rules[0].keywords"},
		{"prompt_guard mask", `{"rules": [{"name": "g", "type": "prompt_guard", "action": "mask"}]}`, "rules[0].action"},
		{"entry prompt misspelled", `{"providers": {"openai": [{"prompt": []}]}}`, "providers.openai[0].prompt"},
		{"entry prompt role", `{"providers": {"openai": [{"prompts": [{"role": "robot", "content": "x"}]}]}}`, "providers.openai[0].prompts[0].role"},
		{"entry rule field", `{"providers": {"openai": [{"rules": [{"type": "regex", "patern": "x"}]}]}}`, "providers.openai[0].rules[0].patern"},
		{"entry rule name repeats a policy rule", `{"rules": [{"name": "a", "pattern": "x"}], "providers": {"openai": [{"rules": [{"name": "a", "pattern": "y"}]}]}}`, "providers.openai[0].rules[0].name"},
		{"entry legacy rule bad pattern", `{"providers": {"openai": [{"rules": ["(x"]}]}}`, "providers.openai[0].rules[0].pattern"},
		{"bad default provider", `{"default_provider": "Open AI"}`, "default_provider"},
		{"memory unknown field", `{"memory": {"enabled": true, "file_path": "/d", "max_size": 1}}`, "memory.max_size"},
		{"memory file_name absolute", `{"memory": {"enabled": true, "file_path": "/d", "file_name": "/etc/{date}.md"}}`, "memory.file_name"},
		{"memory file_name empty segment", `{"memory": {"enabled": true, "file_path": "/d", "file_name": "a//{date}.md"}}`, "memory.file_name"},
		{"memory file_name unknown placeholder", `{"memory": {"enabled": true, "file_path": "/d", "file_name": "{session}.md"}}`, "memory.file_name"},
		{"unknown rule type", `{"rules": [{"name": "a", "type": "lua"}]}`, "rules[0].type"},
		{"pii without detectors", `{"rules": [{"name": "p", "type": "pii"}]}`, "rules[0].detect"},
		{"unknown detector", `{"rules": [{"name": "p", "type": "pii", "detect": ["ssn", "dna"]}]}`, "rules[0].detect[1]"},
		{"bad regex pattern", `{"rules": [{"name": "r", "type": "regex", "pattern": "(?P<x"}]}`, "rules[0].pattern"},
		{"regex without pattern", `{"rules": [{"name": "r", "type": "regex"}]}`, "rules[0].pattern"},
		{"keyword without keywords", `{"rules": [{"name": "k", "type": "keyword", "keywords": []}]}`, "rules[0].keywords"},
		{"empty keyword", `{"rules": [{"name": "k", "type": "keyword", "keywords": ["a", ""]}]}`, "rules[0].keywords[1]"},
		{"pattern on keyword rule", `{"rules": [{"name": "k", "type": "keyword", "keywords": ["a"], "pattern": "x"}]}`, "rules[0].pattern"},
		{"threshold on regex rule", `{"rules": [{"name": "r", "type": "regex", "pattern": "x", "threshold": 0.5}]}`, "rules[0].threshold"},
		{"config on pii rule", `{"rules": [{"name": "p", "type": "pii", "detect": ["ssn"], "config": {}}]}`, "rules[0].config"},
		{"wasm without sha256", `{"rules": [{"name": "w", "type": "wasm", "plugin": "guard"}]}`, "rules[0].sha256"},
		{"wasm range not semver", `{"rules": [{"name": "w", "type": "wasm", "plugin": "guard@banana"}]}`, "rules[0].plugin"},
		{"wasm empty range", `{"rules": [{"name": "w", "type": "wasm", "plugin": "guard@"}]}`, "rules[0].plugin"},
		{"wasm range and sha256", `{"rules": [{"name": "w", "type": "wasm", "plugin": "guard@^1", ` + sha + `}]}`, "rules[0].sha256"},
		{"wasm range without name", `{"rules": [{"name": "w", "type": "wasm", "plugin": "@^1"}]}`, "rules[0].plugin"},
		{"wasm short sha256", `{"rules": [{"name": "w", "type": "wasm", "plugin": "guard", "sha256": "abc"}]}`, "rules[0].sha256"},
		{"wasm without plugin", `{"rules": [{"name": "w", "type": "wasm", ` + sha + `}]}`, "rules[0].plugin"},
		{"wasm plugin path", `{"rules": [{"name": "w", "type": "wasm", "plugin": "../guard", ` + sha + `}]}`, "rules[0].plugin"},
		{"wasm config not object", `{"rules": [{"name": "w", "type": "wasm", "plugin": "guard", ` + sha + `, "config": [1]}]}`, "rules[0].config"},
		{"wasm config null", `{"rules": [{"name": "w", "type": "wasm", "plugin": "guard", ` + sha + `, "config": null}]}`, "rules[0].config"},
		{"duplicate top-level key", `{"max_tokens": 1, "max_tokens": 2}`, "max_tokens"},
		{"duplicate nested key", `{"rate_limit": {"rules": [{"requests": 1, "window": "1m", "window": "1h"}]}}`, "rate_limit.rules[0].window"},
		{"duplicate group", `{"providers": {"openai": [{}], "openai": [{}]}}`, "providers.openai"},
		{"duplicate escaped key", `{"model": "a", "\u006dodel": "b"}`, "model"},
		{"duplicate key in wasm config", `{"rules": [{"name": "w", "type": "wasm", "plugin": "g", ` + sha + `, "config": {"a": 1, "a": 2}}]}`, "rules[0].config.a"},
		{"max_retries too high", `{"retry": {"max_retries": 11}}`, "retry.max_retries"},
		{"retry_on not an error status", `{"retry": {"retry_on": [429, 200]}}`, "retry.retry_on[1]"},
		{"empty fallback", `{"retry": {"fallbacks": [""]}}`, "retry.fallbacks[0]"},
		{"fallback refused by policy", `{"model": "gpt-4o", "retry": {"fallbacks": ["gpt-4o", "claude"]}}`, "retry.fallbacks[1]"},
		{"empty metadata key", `{"metadata": {"": "x"}}`, `metadata[""]`},
		{"memory without file_path", `{"memory": {"enabled": true}}`, "memory.file_path"},
		{"memory file_path with ..", `{"memory": {"enabled": true, "file_path": "/var/log/../../etc/x.md"}}`, "memory.file_path"},
		{"memory unknown placeholder", `{"memory": {"enabled": true, "file_path": "/d", "file_name": "{user}.md"}}`, "memory.file_name"},
		{"memory nested placeholder", `{"memory": {"enabled": true, "file_path": "/d", "file_name": "{{date}}.md"}}`, "memory.file_name"},
		{"memory file_name backslash", `{"memory": {"enabled": true, "file_path": "/d", "file_name": "a\\{date}.md"}}`, "memory.file_name"},
		{"memory file_name dotdot", `{"memory": {"enabled": true, "file_path": "/d", "file_name": "a/../{date}.md"}}`, "memory.file_name"},
		{"bad prompt role", `{"prompts": [{"role": "robot", "content": "x"}]}`, "prompts[0].role"},
		{"empty prompt", `{"prompts": [{"role": "system", "content": " "}]}`, "prompts[0].content"},
		{"bad group name", `{"providers": {"Open AI": [{}]}}`, `providers["Open AI"]`},
		{"empty group", `{"providers": {"openai": []}}`, "providers.openai"},
		{"bad key env", `{"base_key_env": "1KEY"}`, "base_key_env"},
		{"bad upstream url", `{"providers": {"o": [{"upstream_url": "ftp://example.com"}]}}`, "providers.o[0].upstream_url"},
		{"upstream url with credentials", `{"upstream_url": "https://user:pw@example.com"}`, "upstream_url"},
		{"top level array", `[]`, ""},
		{"top level null", `null`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(tc.doc))
			require.Error(t, err)
			assert.Nil(t, p)
			fes := FieldErrors(err)
			require.Len(t, fes, 1, "errors: %v", err)
			assert.Equal(t, tc.path, fes[0].Path, "error: %v", err)
		})
	}
}

func TestParseUnknownFieldMessage(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte(`{"rules": [{"name": "a", "type": "keyword", "keywords": ["x"]}, {"name": "b", "type": "keyword", "keywords": ["y"], "actoin": "fail"}]}`))
	assert.EqualError(t, err, `policy: rules[1].actoin: unknown field; did you mean "action"?`)

	_, err = Parse([]byte(`{"zzzzzz": 1}`))
	assert.EqualError(t, err, `policy: zzzzzz: unknown field`)
}

func TestParseCollectsAllErrors(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte(`{"max_tokens": -1, "timeout": -1, "rules": [{"name": "a", "type": "pii", "detect": ["dna"], "action": "boom"}]}`))
	var paths []string
	for _, fe := range FieldErrors(err) {
		paths = append(paths, fe.Path)
	}
	assert.ElementsMatch(t, []string{"max_tokens", "timeout", "rules[0].action", "rules[0].detect[0]"}, paths)

	_, err = Parse([]byte(`{"max_token": 1, "rules": [{"nam": "a"}], "timeout": "x"}`))
	paths = paths[:0]
	for _, fe := range FieldErrors(err) {
		paths = append(paths, fe.Path)
	}
	assert.Equal(t, []string{"max_token", "rules[0].nam", "timeout"}, paths)
}

func TestParseDocumentErrors(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"config":`, 100) + "{}" + strings.Repeat("}", 100)
	huge := `{"metadata": {"x": "` + strings.Repeat("a", MaxSize) + `"}}`
	cases := []struct {
		name string
		doc  string
		want error
	}{
		{"empty", ``, ErrEmpty},
		{"whitespace", " \n\t", ErrEmpty},
		{"too large", huge, ErrTooLarge},
		{"two objects", `{} {}`, ErrSyntax},
		{"trailing garbage", `{"max_tokens": 1} x`, ErrSyntax},
		{"trailing bracket", `{}]`, ErrSyntax},
		{"truncated", `{"max_tokens":`, ErrSyntax},
		{"trailing comma", `{"max_tokens": 1,}`, ErrSyntax},
		{"single quotes", `{'a': 1}`, ErrSyntax},
		{"too deep", deep, ErrSyntax},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.doc))
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

// stripCompiled clears derived state so parsed policies compare by content.
func stripCompiled(p *Policy) {
	p.modelRE = nil
	for gi := range p.Providers {
		for i := range p.Providers[gi].Entries {
			p.Providers[gi].Entries[i].modelRE = nil
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"developer.json", "contractor.json", "ci-pipeline.json", "lead-engineer.json"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, name)
			out, err := p.Marshal()
			require.NoError(t, err)
			assert.JSONEq(t, string(out), string(mustMarshal(t, mustParseBytes(t, out))))

			again := mustParseBytes(t, out)
			assert.Equal(t, groupNames(p.Providers), groupNames(again.Providers))
			stripCompiled(p)
			stripCompiled(again)
			assert.Equal(t, p, again)

			out2, err := again.Marshal()
			require.NoError(t, err)
			assert.Equal(t, string(out), string(out2), "Marshal is canonical")
		})
	}
}

func TestMarshalKeepsProviderOrder(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`{"providers": {"zeta": [{"model_regex": "^m"}], "alpha": [{"model": "m1"}], "mid": [{}]}}`))
	require.NoError(t, err)
	out, err := p.Marshal()
	require.NoError(t, err)
	assert.Equal(t, `{"providers":{"zeta":[{"model_regex":"^m"}],"alpha":[{"model":"m1"}],"mid":[{}]}}`, string(out))

	r, err := p.Resolve("m1")
	require.NoError(t, err)
	assert.Equal(t, "zeta", r.Provider, "the first group in written order wins")
}

func TestMarshalNoHTMLEscaping(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`{"prompts": [{"role": "system", "content": "a <b> & c"}]}`))
	require.NoError(t, err)
	out, err := p.Marshal()
	require.NoError(t, err)
	assert.Contains(t, string(out), `a <b> & c`)
}

func TestProvidersUnmarshalJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		doc     string
		want    []string
		wantErr bool
	}{
		{"ordered", `{"b": [{}], "a": [{"model": "x"}]}`, []string{"b", "a"}, false},
		{"null", `null`, nil, false},
		{"not an object", `[1]`, nil, true},
		{"duplicate group", `{"a": [], "a": []}`, nil, true},
		{"unknown entry field", `{"a": [{"modle": "x"}]}`, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ps Providers
			err := json.Unmarshal([]byte(tc.doc), &ps)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, groupNames(ps))
		})
	}
}

func TestFieldErrorMessage(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "policy: max_tokens: must not be negative", (&FieldError{Path: "max_tokens", Msg: "must not be negative"}).Error())
	assert.Equal(t, "policy: top level must be a JSON object, got array", (&FieldError{Msg: "top level must be a JSON object, got array"}).Error())
	assert.Nil(t, FieldErrors(errors.New("other")))
}

func mustParseBytes(t testing.TB, data []byte) *Policy {
	t.Helper()
	p, err := Parse(data)
	require.NoError(t, err, "%s", data)
	return p
}

func mustMarshal(t testing.TB, p *Policy) []byte {
	t.Helper()
	out, err := p.Marshal()
	require.NoError(t, err)
	return out
}

func TestParseCanonicalWasmConfig(t *testing.T) {
	t.Parallel()
	doc := "{\"rules\":[{\"name\":\"w\",\"type\":\"wasm\",\"plugin\":\"g\"," +
		"\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"," +
		"\"config\": { \"z\" : 1.50, \"a\" : \"\xff<\" } }]}"
	p, err := Parse([]byte(doc))
	require.NoError(t, err)
	assert.Equal(t, "{\"z\":1.50,\"a\":\"\ufffd<\"}", string(p.Rules[0].Config),
		"compact, key order and number literals kept, invalid UTF-8 replaced")
}

func TestValidateBuiltPolicy(t *testing.T) {
	t.Parallel()
	bad := &Policy{
		MaxTokens: -1,
		Rules:     []Rule{{Name: "a", Type: "keyword"}},
		RateLimit: &RateLimit{Rules: []RateRule{{Requests: 5, Window: "1w"}}},
	}
	err := bad.Validate()
	var paths []string
	for _, fe := range FieldErrors(err) {
		paths = append(paths, fe.Path)
	}
	assert.Equal(t, []string{"max_tokens", "rules[0].keywords", "rate_limit.rules[0].window"}, paths)
	assert.Empty(t, bad.Rules[0].Action, "an invalid policy is not normalized")

	good := &Policy{
		Rules:     []Rule{{Name: "a", Type: "keyword", Keywords: []string{"x"}, Action: "block"}},
		RateLimit: &RateLimit{Rules: []RateRule{{Tokens: 5, Window: "2h"}}},
		Retry:     &Retry{},
	}
	require.NoError(t, good.Validate())
	assert.Equal(t, Rule{Name: "a", Type: "keyword", Keywords: []string{"x"}, Action: "fail", Scope: "input", OnError: "block"}, good.Rules[0])
	assert.Equal(t, 2*time.Hour, good.RateLimit.Rules[0].window)
	assert.Equal(t, "sliding", good.RateLimit.Rules[0].Strategy)
	assert.Equal(t, []int{429, 500, 502, 503}, good.Retry.RetryOn)
}
