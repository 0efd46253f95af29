package test

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestBudgetEdgesChargedFailures: a provider bills a request it received
// even when its answer never arrives. A 504 after the upstream was reached,
// and a broken body, are charged at least the prompt; a provider that could
// not be reached at all charges nothing.
func TestBudgetEdgesChargedFailures(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	env := limitsEnv()
	prompt := "please summarise the quarterly figures for the board [[fake:hang]]"
	hangTok, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":5000,"timeout":1}`)
	brokenTok, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":5000}`)
	p := startServe(t, dir, port, env)
	c := limClient(2)

	r := limChat(c, p.URL, hangTok, "gpt-4o", prompt, 50)
	require.NoError(t, r.Err)
	require.Equal(t, 504, r.Status, "%s", r.Body)
	sent, ok := fake.LastRequest()
	require.True(t, ok, "the request never reached the upstream")
	pred, err := fakeupstream.Predict(sent.Path, sent.Body)
	require.NoError(t, err)
	row := limSettled(t, c, p.URL, hangTok, "")
	t.Logf("504 charged %d (the provider counts %d prompt tokens)", row.Used, pred.PromptTokens)
	assert.GreaterOrEqual(t, row.Used, int64(pred.PromptTokens), "a 504 after upstream contact must be charged the prompt")
	assert.Zero(t, row.Reserved)

	r = limChat(c, p.URL, brokenTok, "gpt-4o", "tell me [[fake:truncate]] more words here", 50)
	require.NoError(t, r.Err)
	require.Equal(t, 502, r.Status, "%s", r.Body)
	row = limSettled(t, c, p.URL, brokenTok, "")
	assert.Positive(t, row.Used, "a body broken after upstream contact must be charged")
	assert.Zero(t, row.Reserved)
	p.Stop(t)

	// No provider listening: nothing was billed, nothing is charged.
	deadPort := refusingPort(t)
	port2 := freePort(t)
	dir2 := newProxyDir(t, proxySetup{fakeURL: fmt.Sprintf("http://127.0.0.1:%d", deadPort), port: port2})
	tok2, _ := createToken(t, dir2, env, `{"model_regex":"^gpt-4o","max_tokens":5000}`)
	p2 := startServe(t, dir2, port2, env)
	r = limChat(c, p2.URL, tok2, "gpt-4o", "hello", 50)
	require.NoError(t, r.Err)
	require.Equal(t, 502, r.Status, "%s", r.Body)
	row = limSettled(t, c, p2.URL, tok2, "")
	assert.Zero(t, row.Used, "an unreachable provider billed nothing")
	assert.Zero(t, row.Reserved)
	p2.Stop(t)
}

// refusingPort returns a loopback port that refuses connections for the
// whole test: a socket bound to it but never listening holds it, so no
// other process can take it meanwhile.
func refusingPort(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	return sa.(*syscall.SockaddrInet4).Port
}
