package test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// seedRoot is the user's example, read-only.
const seedRoot = "/work/shared/compat/distributed-team"

// seedQuickStart holds SEED.txt's quick-start commands for steps 3 to 6,
// exactly as written there (TestCompatSeedQuickStart checks that each line
// appears in SEED.txt verbatim).
var seedQuickStart = struct{ step3, step4, step5, step6 []string }{
	step3: []string{
		"cp examples/distributed-team/central-config.yaml config.yaml",
		"cp examples/distributed-team/providers.yaml providers.yaml",
		`./bin/tokenomics token create \
  --policy "$(cat examples/distributed-team/policies/lead-engineer.json)" \
  --expires 1y`,
		`./bin/tokenomics token create \
  --policy "$(cat examples/distributed-team/policies/developer.json)" \
  --expires 90d`,
		`./bin/tokenomics token create \
  --policy "$(cat examples/distributed-team/policies/contractor.json)" \
  --expires 30d`,
		`./bin/tokenomics token create \
  --policy "$(cat examples/distributed-team/policies/ci-pipeline.json)" \
  --expires 1y`,
	},
	step4: []string{`./bin/tokenomics remote --addr :9090 --api-key "$TOKENOMICS_REMOTE_KEY"`},
	step5: []string{"cp examples/distributed-team/proxy-config.yaml config.yaml", "./bin/tokenomics serve"},
	step6: []string{
		"eval $(./bin/tokenomics init --token tkn_<their-token> --host proxy.internal --port 8443 --insecure)",
		`curl $OPENAI_BASE_URL/chat/completions \
  -H "Authorization: Bearer $OPENAI_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}'`,
	},
}

// TestCompatSeedQuickStart runs SEED.txt's quick start from a scratch
// directory: the example copied to examples/distributed-team/, its
// .env.example copied to .env with values filled in, then `source .env`
// and the commands of steps 3 to 6 as written, each run by bash.
//
// What differs from a real machine, and why:
//   - step 2 (make build) is the binary under test copied to ./bin;
//   - the example's providers.yaml points at the fake upstream instead of
//     the real providers (the one file changed);
//   - the test cannot own :9090, :8080 and :8443 or resolve config-server and
//     proxy.internal: `remote --addr :9090` gets a free port, the proxy gets
//     its ports and central URL from TOKENOMICS_* overrides in its
//     environment, and curl is pointed at the proxy with --connect-to;
//   - the proxy config's remote.api_key placeholder is matched by an
//     override (TOKENOMICS_REMOTE_API_KEY) rather than an edit;
//   - memory.allowed_dirs is ./memory for the proxy, so the seed's
//     /var/log/tokenomics paths are not written on the test machine.
//
// The .env has no `export`: the binary loads ./.env itself at start.
func TestCompatSeedQuickStart(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	seed, err := os.ReadFile(filepath.Join(seedRoot, "SEED.txt"))
	require.NoError(t, err)
	for _, steps := range [][]string{seedQuickStart.step3, seedQuickStart.step4, seedQuickStart.step5, seedQuickStart.step6} {
		for _, cmd := range steps {
			require.Contains(t, string(seed), cmd, "the command must be SEED.txt's, as written")
		}
	}

	fake := startFake(t, fakeupstream.Options{
		OpenAIModels:    []string{"gpt-4o", "gpt-4o-mini", "o3-mini", "o4-mini"},
		AnthropicModels: []string{"claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5"},
	})
	dir := t.TempDir()
	ex := filepath.Join(dir, "examples", "distributed-team")
	require.NoError(t, os.MkdirAll(filepath.Join(ex, "policies"), 0o700))
	for _, f := range []string{".env.example", "central-config.yaml", "proxy-config.yaml", "policies/lead-engineer.json",
		"policies/developer.json", "policies/contractor.json", "policies/ci-pipeline.json"} {
		copyFile(t, filepath.Join(seedRoot, f), filepath.Dir(filepath.Join(ex, f)), filepath.Base(f))
	}
	providers, err := os.ReadFile(filepath.Join(seedRoot, "providers.yaml"))
	require.NoError(t, err)
	rewritten := regexp.MustCompile(`upstream_url: https://\S+`).ReplaceAllString(string(providers), "upstream_url: "+fake.URL())
	require.NoError(t, os.WriteFile(filepath.Join(ex, "providers.yaml"), []byte(rewritten), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o700))
	bin, err := os.ReadFile(binary(t))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin", "tokenomics"), bin, 0o700))

	// Step 1: cp examples/distributed-team/.env.example .env, then edit it.
	remoteKey := randomSecret(t)
	env := fillDotenv(t, filepath.Join(ex, ".env.example"), map[string]string{
		"TOKENOMICS_HASH_KEY":       randomSecret(t),
		"TOKENOMICS_ENCRYPTION_KEY": randomSecret(t),
		"TOKENOMICS_REMOTE_KEY":     remoteKey,
		"TOKENOMICS_WEBHOOK_SECRET": randomSecret(t),
		"TOKENOMICS_SIGNING_KEY":    randomSecret(t),
		"OPENAI_API_KEY":            fakeOpenAIKey,
		"ANTHROPIC_API_KEY":         fakeAnthropicKey,
		"GROQ_API_KEY":              fakeOpenAIKey,
		"MISTRAL_API_KEY":           fakeOpenAIKey,
	})
	require.NotContains(t, env, "export", "the seed's file has no export")
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600))

	shell := func(cmds ...string) string { return "set -euo pipefail\nsource .env\n" + strings.Join(cmds, "\n") }

	// Step 3.
	res := runBash(t, dir, nil, shell(seedQuickStart.step3...))
	require.Equal(t, 0, res.code, "step 3:\n%s\n%s", res.stdout, res.stderr)
	tokens := tokenLine.FindAllStringSubmatch(res.stdout, -1)
	require.Len(t, tokens, 4, res.stdout)
	developer := tokens[1][1]

	// Step 4, in its own "terminal".
	cport, hport, sport := freePort(t), freePort(t), freePort(t)
	step4 := strings.Replace(seedQuickStart.step4[0], ":9090", fmt.Sprintf("127.0.0.1:%d", cport), 1)
	central := startBash(t, dir, nil, fmt.Sprintf("http://127.0.0.1:%d", cport), "/health", shell("exec "+step4))
	pxNoRace(t, central)

	// Step 5, in another.
	proxyEnv := []string{
		fmt.Sprintf("TOKENOMICS_SERVER_HTTP_PORT=%d", hport),
		fmt.Sprintf("TOKENOMICS_SERVER_HTTPS_PORT=%d", sport),
		fmt.Sprintf("TOKENOMICS_REMOTE_URL=http://127.0.0.1:%d", cport),
		"TOKENOMICS_REMOTE_API_KEY=" + remoteKey,
		"TOKENOMICS_MEMORY_ALLOWED_DIRS=./memory",
		"TOKENOMICS_PLUGINS_CACHE_DIR=" + wasmCacheDir(t),
	}
	proxy := startBash(t, dir, proxyEnv, fmt.Sprintf("http://127.0.0.1:%d", hport), "/ready",
		shell(seedQuickStart.step5[0], "exec "+seedQuickStart.step5[1]))
	pxNoRace(t, proxy)

	// Step 6, on the developer's machine.
	step6 := []string{
		strings.Replace(seedQuickStart.step6[0], "tkn_<their-token>", developer, 1),
		strings.Replace(seedQuickStart.step6[1], "curl ", fmt.Sprintf("curl -sS --fail-with-body --connect-to proxy.internal:8443:127.0.0.1:%d ", sport), 1),
	}
	res = runBash(t, dir, nil, shell(step6...))
	require.Equal(t, 0, res.code, "step 6:\n%s\n%s\nproxy:\n%s", res.stdout, res.stderr, proxy.Logs())
	assert.Contains(t, res.stdout, `"chat.completion"`)
	assert.Contains(t, res.stdout, `"model":"gpt-4o"`)

	// The developer's request reached the fake with the policy's prompt and
	// the provider key from .env, never the client's token.
	last, ok := fake.LastRequest()
	require.True(t, ok)
	assert.Contains(t, string(last.Body), "You are a helpful engineering assistant.")
	assert.Equal(t, "Bearer "+fakeOpenAIKey, last.Header.Get("Authorization"))
	assert.NotContains(t, proxy.Logs(), developer)
}

// fillDotenv returns the .env.example text with each listed variable's
// value replaced, as a user editing the file would; comments stay.
func fillDotenv(t *testing.T, path string, values map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []string
	filled := 0
	for _, line := range strings.Split(string(b), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			if v, ok := values[k]; ok {
				line = k + "=" + v
				filled++
			}
		}
		out = append(out, line)
	}
	require.Equal(t, len(values), filled, "every value has a line in .env.example")
	return strings.Join(out, "\n")
}

// randomSecret is 32 random bytes, base64: what `openssl rand -base64 32` prints.
func randomSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

// runBash runs a bash script in dir with the minimal environment plus env.
func runBash(t *testing.T, dir string, env []string, script string) result {
	t.Helper()
	return runCmd(t, exec.Command("bash", "-c", script), dir, env, "bash")
}

// startBash is startProc for a script that ends by exec'ing the binary.
func startBash(t *testing.T, dir string, env []string, url, probe, script string) *proc {
	t.Helper()
	return startCmd(t, exec.Command("bash", "-c", script), dir, env, url, probe, "bash")
}
