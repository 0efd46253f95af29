package test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hashKeyEnv = "TOKENOMICS_HASH_KEY=e2e-test-hash-key-0123456789abcdef"

var (
	tokenLine = regexp.MustCompile(`(?m)^Token:\s+(tkn_[A-Za-z0-9_-]{43})$`)
	hashLine  = regexp.MustCompile(`(?m)^Hash:\s+([0-9a-f]{64})$`)
)

// seedDir prepares a working directory as SEED.txt step 3 does: the central
// config as config.yaml and providers.yaml beside it.
func seedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, "testdata/compat/central-config.yaml", dir, "config.yaml")
	copyFile(t, "testdata/compat/providers.yaml", dir, "providers.yaml")
	return dir
}

func readPolicy(t *testing.T, role string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/compat/policies", role+".json"))
	require.NoError(t, err)
	return string(b)
}

// TestTokenLifecycle follows SEED.txt steps 2-3 and "Managing Tokens" with
// the real binary: four role tokens, list, get by prefix, update, delete.
func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	dir := seedDir(t)
	env := []string{hashKeyEnv}
	roles := []struct{ name, expires string }{
		{"lead-engineer", "1y"}, {"developer", "90d"}, {"contractor", "30d"}, {"ci-pipeline", "1y"},
	}
	hashes := map[string]string{}
	for _, r := range roles {
		res := run(t, dir, env, "token", "create", "--policy", readPolicy(t, r.name), "--expires", r.expires)
		require.Equal(t, 0, res.code, "create %s: %s", r.name, res.stderr)
		require.Regexp(t, tokenLine, res.stdout)
		m := hashLine.FindStringSubmatch(res.stdout)
		require.NotNil(t, m, res.stdout)
		hashes[r.name] = m[1]
	}

	list := run(t, dir, env, "token", "list")
	require.Equal(t, 0, list.code, list.stderr)
	for role, h := range hashes {
		assert.Contains(t, list.stdout, h[:16])
		assert.Contains(t, list.stdout, role)
	}

	var recs []struct {
		Hash      string          `json:"hash"`
		Policy    json.RawMessage `json:"policy"`
		ExpiresAt *time.Time      `json:"expires_at"`
	}
	js := run(t, dir, env, "token", "list", "--output", "json")
	require.Equal(t, 0, js.code, js.stderr)
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &recs))
	require.Len(t, recs, 4)
	for _, r := range recs {
		assert.NotContains(t, string(r.Policy), "tkn_", "a token must never be stored")
		require.NotNil(t, r.ExpiresAt)
	}

	dev := hashes["developer"]
	get := run(t, dir, env, "token", "get", "--hash", dev[:8])
	require.Equal(t, 0, get.code, get.stderr)
	assert.Contains(t, get.stdout, dev)
	assert.Contains(t, get.stdout, `"max_tokens": 200000`)

	// SEED.txt "Reduce a budget": a merge patch changes only the budget.
	upd := run(t, dir, env, "token", "update", "--hash", dev[:8], "--policy", `{"max_tokens": 100000}`)
	require.Equal(t, 0, upd.code, upd.stderr)
	get = run(t, dir, env, "token", "get", "--hash", dev[:8], "--output", "json")
	require.Equal(t, 0, get.code, get.stderr)
	var rec struct {
		Policy struct {
			MaxTokens int64                      `json:"max_tokens"`
			Providers map[string]json.RawMessage `json:"providers"`
			Rules     []json.RawMessage          `json:"rules"`
		} `json:"policy"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	require.NoError(t, json.Unmarshal([]byte(get.stdout), &rec))
	assert.EqualValues(t, 100000, rec.Policy.MaxTokens)
	assert.Len(t, rec.Policy.Providers, 2, "the patch must keep the providers")
	assert.Len(t, rec.Policy.Rules, 1)
	// Providers keep their written order through the patch.
	assert.Less(t, strings.Index(get.stdout, `"openai"`), strings.Index(get.stdout, `"anthropic"`))

	// SEED.txt "Extend a developer token", then clear the expiry.
	ext := run(t, dir, env, "token", "update", "--hash", dev[:8], "--expires", "180d")
	require.Equal(t, 0, ext.code, ext.stderr)
	get = run(t, dir, env, "token", "get", "--hash", dev[:8], "--output", "json")
	require.NoError(t, json.Unmarshal([]byte(get.stdout), &rec))
	require.NotNil(t, rec.ExpiresAt)
	assert.WithinDuration(t, time.Now().Add(180*24*time.Hour), *rec.ExpiresAt, time.Hour)
	clr := run(t, dir, env, "token", "update", "--hash", dev[:8], "--expires", "clear")
	require.Equal(t, 0, clr.code, clr.stderr)
	get = run(t, dir, env, "token", "get", "--hash", dev[:8], "--output", "json")
	rec.ExpiresAt = nil
	require.NoError(t, json.Unmarshal([]byte(get.stdout), &rec))
	assert.Nil(t, rec.ExpiresAt)

	// A replaced policy drops what the new one does not say.
	rep := run(t, dir, env, "token", "update", "--hash", dev[:8], "--replace", "--policy", `{"model":"gpt-4o-mini","max_tokens":10}`)
	require.Equal(t, 0, rep.code, rep.stderr)
	get = run(t, dir, env, "token", "get", "--hash", dev[:8], "--output", "json")
	assert.NotContains(t, get.stdout, "providers")

	// SEED.txt "Revoke a contractor token immediately".
	con := hashes["contractor"]
	del := run(t, dir, env, "token", "delete", "--hash", con[:10])
	require.Equal(t, 0, del.code, del.stderr)
	gone := run(t, dir, env, "token", "get", "--hash", con[:10])
	assert.NotEqual(t, 0, gone.code)
	assert.Contains(t, gone.stderr, "not found")
	list = run(t, dir, env, "token", "list", "--output", "json")
	recs = nil
	require.NoError(t, json.Unmarshal([]byte(list.stdout), &recs))
	assert.Len(t, recs, 3)
}

func TestTokenCreateRefusesBadPolicies(t *testing.T) {
	t.Parallel()
	dir := seedDir(t)
	env := []string{hashKeyEnv}
	cases := []struct {
		name, policy, want string
	}{
		{"unknown top-level field", `{"max_tokens":10,"max_token":5}`, "max_token"},
		{"misspelled nested field", `{"rules":[{"name":"r","type":"regex","pattern":"x","actoin":"fail"}]}`, "rules[0].actoin"},
		{"bad regex", `{"model_regex":"^gpt-(4o"}`, "model_regex"},
		{"bad rule regex", `{"rules":[{"name":"r","type":"regex","pattern":"(?P<x"}]}`, "rules[0].pattern"},
		{"negative budget", `{"max_tokens":-5}`, "max_tokens"},
		{"negative entry budget", `{"providers":{"openai":[{"model":"gpt-4o","max_tokens":-1}]}}`, "providers.openai[0].max_tokens"},
		{"bad window", `{"rate_limit":{"rules":[{"requests":5,"window":"5x"}]}}`, "rate_limit.rules[0].window"},
		{"not json", `{"max_tokens":`, "policy"},
		{"memory outside allowed dirs", `{"memory":{"enabled":true,"file_path":"/etc/passwd"}}`, "memory.file_path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, dir, env, "token", "create", "--policy", tc.policy)
			assert.NotEqual(t, 0, res.code)
			assert.Contains(t, res.stderr, tc.want)
			assert.Empty(t, res.stdout, "no token may be printed for a refused policy")
		})
	}
	list := run(t, dir, env, "token", "list", "--output", "json")
	assert.Equal(t, "[]\n", list.stdout, "refused policies must leave nothing behind")
}

func TestTokenCommandErrors(t *testing.T) {
	t.Parallel()
	dir := seedDir(t)
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no hash key", nil, []string{"token", "list"}, "TOKENOMICS_HASH_KEY"},
		{"bad expiry", []string{hashKeyEnv}, []string{"token", "create", "--policy", `{}`, "--expires", "soon"}, "--expires"},
		{"missing policy flag", []string{hashKeyEnv}, []string{"token", "create"}, "policy"},
		{"missing config file", []string{hashKeyEnv}, []string{"--config", "nope.yaml", "token", "list"}, "nope.yaml"},
		{"unknown prefix", []string{hashKeyEnv}, []string{"token", "get", "--hash", "ffffffff"}, "not found"},
		{"unreachable central", []string{hashKeyEnv}, []string{"token", "list", "--remote", "http://127.0.0.1:1"}, "127.0.0.1:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, dir, tc.env, tc.args...)
			assert.NotEqual(t, 0, res.code)
			assert.Contains(t, res.stderr, tc.want)
		})
	}
}

// TestTokenLockedDatabase: a database held by another process gives a clear
// message naming the online way, never a bare lock timeout.
func TestTokenLockedDatabase(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) not installed")
	}
	dir := seedDir(t)
	env := []string{hashKeyEnv}
	require.Equal(t, 0, run(t, dir, env, "token", "list").code) // creates the file
	hold := exec.Command("flock", "-x", filepath.Join(dir, "tokenomics.db"), "sleep", "30")
	require.NoError(t, hold.Start())
	t.Cleanup(func() { _ = hold.Process.Kill(); _ = hold.Wait() })
	time.Sleep(200 * time.Millisecond) // let flock take the lock
	start := time.Now()
	res := run(t, dir, env, "token", "list")
	assert.NotEqual(t, 0, res.code)
	assert.Contains(t, res.stderr, "in use")
	assert.Contains(t, res.stderr, "--remote")
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestInitPrintsClientEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	copyFile(t, "testdata/compat/proxy-config.yaml", dir, "config.yaml")
	tok := "tkn_" + strings.Repeat("A", 43)
	// SEED.txt step 6, through a real shell.
	script := `eval $("$BIN" init --token ` + tok + ` --host proxy.internal --port 8443 --insecure); printf '%s|%s|%s|%s' "$OPENAI_BASE_URL" "$OPENAI_API_KEY" "$ANTHROPIC_BASE_URL" "$ANTHROPIC_API_KEY"`
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BIN="+binary(t))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	assert.Equal(t, "http://proxy.internal:8443/v1|"+tok+"|http://proxy.internal:8443|"+tok, string(out))
	assert.Contains(t, stderr.String(), "clear text", "plain http is said out loud, on stderr")

	res := run(t, dir, nil, "init", "--token", tok, "--port", "8443", "--provider", "claude", "--output", "json")
	require.Equal(t, 0, res.code, res.stderr)
	var m map[string]string
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &m))
	assert.Equal(t, map[string]string{"ANTHROPIC_BASE_URL": "https://localhost:8443", "ANTHROPIC_API_KEY": tok}, m)

	res = run(t, dir, nil, "init", "--token", tok, "--output", "dotenv", "--provider", "openai")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "OPENAI_BASE_URL=\"http://localhost:8080/v1\"\nOPENAI_API_KEY=\""+tok+"\"\n", res.stdout)

	bad := run(t, dir, nil, "init", "--token", "sk-not-ours")
	assert.NotEqual(t, 0, bad.code)
	assert.Contains(t, bad.stderr, "--token")
}

func TestVersion(t *testing.T) {
	t.Parallel()
	res := run(t, t.TempDir(), nil, "version", "--output", "json")
	require.Equal(t, 0, res.code, res.stderr)
	var v map[string]string
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &v))
	for _, k := range []string{"version", "commit", "date", "go"} {
		assert.NotEmpty(t, v[k], k)
	}
}
