package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestW6rServePositionIndependent builds the real binary as a
// position-independent executable (go build -buildmode=pie, as Linux
// distributions package Go programs) and runs serve with a rule-checked
// token: once the start's rules load, serve releases the binary's
// read-only pages (internal/startmem). In a PIE some of those pages were
// written by the loader (relocations) before they were made read-only;
// releasing them put the file's unrelocated bytes back and serve died of
// SIGSEGV on its next request.
func TestW6rServePositionIndependent(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("startmem releases pages on Linux only")
	}
	bin := filepath.Join(t.TempDir(), "tokenomics-pie")
	_, self, _, _ := runtime.Caller(0)
	build := exec.Command("go", "build", "-buildmode=pie", "-o", bin, "./cmd/tokenomics")
	build.Dir = filepath.Join(filepath.Dir(self), "..")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building a PIE: %s", out)

	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	env := proxyEnv()
	var pol map[string]any
	require.NoError(t, json.Unmarshal([]byte(readPolicy(t, "contractor")), &pol))
	raw, err := json.Marshal(map[string]any{"model_regex": "^gpt-4o", "max_tokens": 10_000_000, "rules": pol["rules"]})
	require.NoError(t, err)
	tok, _ := createToken(t, dir, env, string(raw))

	readyPath := filepath.Join(t.TempDir(), "ready.env")
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	p := launchProc(t, exec.Command(bin, "serve", "--ready-file", readyPath), dir, env, nil, url, "serve (pie)")
	deadline := time.Now().Add(90 * time.Second)
	for p.Ready == nil && time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("serve (pie) exited before it was ready:\n%s", p.Logs())
		case <-time.After(20 * time.Millisecond):
		}
		p.Ready = readReady(readyPath)
	}
	require.NotNil(t, p.Ready, "no ready file:\n%s", p.Logs())
	if a := p.Ready.addr(); a != "" {
		p.URL = "http://" + a
	}
	// The start's pages are released once the token's rules loaded.
	for !strings.Contains(p.Logs(), "content rules loaded") {
		select {
		case <-p.done:
			t.Fatalf("serve (pie) died after its start:\n%s", p.Logs())
		case <-time.After(50 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "the start never ended:\n%s", p.Logs())
	}
	for i := range 5 {
		r := pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", fmt.Sprintf("after the release, mail maria.keller@example.com %d", i), false, ""))
		require.Equal(t, 200, r.status, "%s", r.body)
	}
	r := pxDo(t, "GET", p.URL+"/ready", "")
	assert.Equal(t, 200, r.status)
	select {
	case <-p.done:
		t.Fatalf("serve (pie) exited:\n%s", p.Logs())
	default:
	}
	_ = os.Remove(bin)
}
