package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// Policies of the client tests: claude-haiku-4-5 and o3-mini are served by
// the providers but outside the regex, so asking for them is a 403.
const (
	clientsPolicy      = `{"model_regex":"^(gpt-4o|claude-(sonnet|opus))","max_tokens":1000000}`
	clientsTinyPolicy  = `{"model_regex":"^(gpt-4o|claude-(sonnet|opus))","max_tokens":10}`
	clientsNodeTimeout = 60 * time.Second
)

// clientResult is the JSON line test/clients/*.mjs print.
type clientResult struct {
	OK     bool   `json:"ok"`
	Text   string `json:"text"`
	Finish string `json:"finish"`
	Model  string `json:"model"`
	Chunks int    `json:"chunks"`
	Usage  *struct {
		Input  int  `json:"input"`
		Output int  `json:"output"`
		Total  *int `json:"total"`
	} `json:"usage"`
	UsageChunks int      `json:"usage_chunks"`
	UsageLast   bool     `json:"usage_last"`
	Events      []string `json:"events"`
	Error       *struct {
		Class    string `json:"class"`
		SDKClass string `json:"sdk_class"`
		Status   int    `json:"status"`
		Code     string `json:"code"`
		Type     string `json:"type"`
		Message  string `json:"message"`
	} `json:"error"`
}

// clientsDir returns test/clients, or skips when node or the installed
// SDKs are missing (a machine without npm still passes go test).
func clientsDir(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH: skipping the official SDK client tests")
	}
	dir, err = filepath.Abs("clients")
	require.NoError(t, err)
	for _, pkg := range []string{"openai", "@anthropic-ai/sdk"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			t.Skipf("test/clients/node_modules/%s missing: run (cd test/clients && npm ci) to enable the SDK client tests", pkg)
		}
	}
	return node, dir
}

// clientInitEnv runs `tokenomics init --output json` for tok, as a team
// member would, and returns the variables it prints.
func clientInitEnv(t *testing.T, dir string, env []string, tok string, port int) map[string]string {
	t.Helper()
	res := run(t, dir, env, "init", "--token", tok, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--insecure", "--output", "json")
	require.Equal(t, 0, res.code, "init: %s", res.stderr)
	vars := map[string]string{}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &vars), res.stdout)
	return vars
}

// runClient runs one op of an SDK script with exactly the init variables
// (plus PATH and a scratch HOME, so no user SDK configuration is read).
func runClient(t *testing.T, node, dir, script string, vars map[string]string, op, model, prompt string) clientResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientsNodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, op, model, prompt)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	require.NoError(t, err, "node %s %s: stderr:\n%s", script, op, errb.String())
	var res clientResult
	require.NoError(t, json.Unmarshal(out.Bytes(), &res), "node %s %s printed %q; stderr:\n%s", script, op, out.String(), errb.String())
	return res
}

// TestClients drives the official openai and @anthropic-ai/sdk npm
// packages, unchanged and configured only by `tokenomics init`, against the
// real binary: replies, streams, translation of a Claude model for an
// OpenAI client, and refusals surfacing as each SDK's own error classes.
func TestClients(t *testing.T) {
	t.Parallel()
	node, cdir := clientsDir(t)
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	env := proxyEnv()
	tok, _ := createToken(t, dir, env, clientsPolicy)
	tiny, _ := createToken(t, dir, env, clientsTinyPolicy)
	startServe(t, dir, port, env)

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	good := clientInitEnv(t, dir, env, tok, port)
	require.Equal(t, map[string]string{
		"OPENAI_BASE_URL": base + "/v1", "OPENAI_API_KEY": tok,
		"ANTHROPIC_BASE_URL": base, "ANTHROPIC_API_KEY": tok,
	}, good)
	withKey := func(key string) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		m["OPENAI_API_KEY"], m["ANTHROPIC_API_KEY"] = key, key
		return m
	}
	// Well formed, never issued.
	bad := withKey("tkn_" + strings.Repeat("Q", 43))

	type wantErr struct {
		class  string
		status int
		code   string
	}
	cases := []struct {
		name   string
		script string
		op     string
		model  string
		vars   map[string]string
		stream bool     // expect more than one text chunk
		finish string   // stop reason the SDK reports
		events []string // anthropic raw stream: event types, repeats folded (the SDK drops ping)
		err    *wantErr // the call must fail with this
	}{
		{name: "openai chat", script: "openai.mjs", op: "chat", model: "gpt-4o", finish: "stop"},
		{name: "openai stream", script: "openai.mjs", op: "stream", model: "gpt-4o-mini", stream: true, finish: "stop"},
		{name: "openai stream helper", script: "openai.mjs", op: "stream-helper", model: "gpt-4o", stream: true, finish: "stop"},
		{name: "openai client claude chat", script: "openai.mjs", op: "chat", model: "claude-sonnet-4-6", finish: "stop"},
		{name: "openai client claude stream", script: "openai.mjs", op: "stream", model: "claude-opus-4-6", stream: true, finish: "stop"},
		{name: "openai client claude stream helper", script: "openai.mjs", op: "stream-helper", model: "claude-sonnet-4-6", stream: true, finish: "stop"},
		{name: "anthropic create", script: "anthropic.mjs", op: "create", model: "claude-sonnet-4-6", finish: "end_turn"},
		{name: "anthropic stream", script: "anthropic.mjs", op: "stream", model: "claude-opus-4-6", stream: true, finish: "end_turn"},
		{name: "anthropic stream raw", script: "anthropic.mjs", op: "stream-raw", model: "claude-sonnet-4-6", stream: true, finish: "end_turn",
			events: []string{"message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}},

		{name: "openai bad token", script: "openai.mjs", op: "chat", model: "gpt-4o", vars: bad,
			err: &wantErr{class: "AuthenticationError", status: 401, code: "invalid_api_key"}},
		{name: "openai bad token stream", script: "openai.mjs", op: "stream", model: "gpt-4o", vars: bad,
			err: &wantErr{class: "AuthenticationError", status: 401, code: "invalid_api_key"}},
		{name: "openai forbidden model", script: "openai.mjs", op: "chat", model: "o3-mini",
			err: &wantErr{class: "PermissionDeniedError", status: 403, code: "model_not_allowed"}},
		{name: "openai forbidden claude model", script: "openai.mjs", op: "chat", model: "claude-haiku-4-5",
			err: &wantErr{class: "PermissionDeniedError", status: 403, code: "model_not_allowed"}},
		{name: "openai budget exhausted", script: "openai.mjs", op: "chat", model: "gpt-4o", vars: withKey(tiny),
			err: &wantErr{class: "RateLimitError", status: 429, code: "budget_exceeded"}},
		{name: "openai budget exhausted stream", script: "openai.mjs", op: "stream", model: "gpt-4o", vars: withKey(tiny),
			err: &wantErr{class: "RateLimitError", status: 429, code: "budget_exceeded"}},
		{name: "anthropic bad key", script: "anthropic.mjs", op: "create", model: "claude-sonnet-4-6", vars: bad,
			err: &wantErr{class: "AuthenticationError", status: 401}},
		{name: "anthropic bad key stream", script: "anthropic.mjs", op: "stream", model: "claude-sonnet-4-6", vars: bad,
			err: &wantErr{class: "AuthenticationError", status: 401}},
		{name: "anthropic forbidden model", script: "anthropic.mjs", op: "create", model: "claude-haiku-4-5",
			err: &wantErr{class: "PermissionDeniedError", status: 403}},
		{name: "anthropic budget exhausted", script: "anthropic.mjs", op: "create", model: "claude-sonnet-4-6", vars: withKey(tiny),
			err: &wantErr{class: "RateLimitError", status: 429}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := tc.vars
			if vars == nil {
				vars = good
			}
			prompt := "Hello from the " + tc.name + " case"
			res := runClient(t, node, cdir, tc.script, vars, tc.op, tc.model, prompt)
			if tc.err != nil {
				require.False(t, res.OK, "the call succeeded: %+v", res)
				require.NotNil(t, res.Error)
				assert.Equal(t, tc.err.class, res.Error.SDKClass, "instanceof the SDK's class; message %q", res.Error.Message)
				assert.Equal(t, tc.err.class, res.Error.Class)
				assert.Equal(t, tc.err.status, res.Error.Status)
				if tc.err.code != "" {
					assert.Equal(t, tc.err.code, res.Error.Code)
				}
				for _, up := range fake.Requests() {
					assert.NotContains(t, string(up.Body), prompt, "a refused request reached the upstream")
				}
				return
			}
			require.True(t, res.OK, "error: %+v", res.Error)
			want := "Echo: " + prompt
			assert.Equal(t, want, res.Text)
			assert.Equal(t, tc.finish, res.Finish)
			if tc.stream {
				assert.Greater(t, res.Chunks, 1, "the reply arrived in one piece, not streamed")
			}
			require.NotNil(t, res.Usage, "no usage reported")
			assert.Equal(t, fakeupstream.CountTokens(prompt)+fakeupstream.FramingPerMessage+fakeupstream.FramingReply, res.Usage.Input, "input tokens (one message)")
			assert.Equal(t, fakeupstream.CountTokens(want), res.Usage.Output, "output tokens")
			if res.Usage.Total != nil {
				assert.Equal(t, res.Usage.Input+res.Usage.Output, *res.Usage.Total, "total tokens")
			}
			if tc.script == "openai.mjs" && tc.op == "stream" {
				assert.Equal(t, 1, res.UsageChunks, "include_usage: exactly one usage chunk")
				assert.True(t, res.UsageLast, "the usage chunk comes last, with no choices")
			}
			if tc.events != nil {
				assert.Equal(t, tc.events, res.Events)
			}
		})
	}
	t.Run("curl as in the seed", func(t *testing.T) {
		t.Parallel()
		clientsCurl(t, dir, env, tok, port)
	})
}

// clientsCurl runs SEED.txt step 6 in bash: eval the init output, then the
// seed's curl line unchanged (only -sS and -w added to read the status).
func clientsCurl(t *testing.T, dir string, env []string, tok string, port int) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not on PATH")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not on PATH")
	}
	script := fmt.Sprintf(`set -e
eval $("$BIN" init --token %s --host 127.0.0.1 --port %d --insecure)
curl $OPENAI_BASE_URL/chat/completions \
  -H "Authorization: Bearer $OPENAI_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}' \
  -sS -w '\n%%{http_code}'
`, tok, port)
	ctx, cancel := context.WithTimeout(context.Background(), clientsNodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-c", script)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "BIN=" + binary(t)}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "stderr:\n%s", errb.String())
	text := strings.TrimRight(out.String(), "\n")
	i := strings.LastIndexByte(text, '\n')
	require.GreaterOrEqual(t, i, 0, "no status line: %q", text)
	body, status := text[:i], text[i+1:]
	require.Equal(t, "200", status, body)
	var reply struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &reply), body)
	require.Len(t, reply.Choices, 1)
	assert.Equal(t, "Echo: Hello", reply.Choices[0].Message.Content)
	assert.Positive(t, reply.Usage.TotalTokens)
}
