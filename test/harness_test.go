package test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// Keys the fake upstream expects and the proxy sends.
const (
	fakeOpenAIKey    = "sk-fake-openai-key"
	fakeAnthropicKey = "sk-ant-fake-key"
)

// startFake runs a fake upstream on loopback for one test.
func startFake(t *testing.T, opts fakeupstream.Options) *fakeupstream.Server {
	t.Helper()
	if opts.OpenAIKey == "" {
		opts.OpenAIKey = fakeOpenAIKey
	}
	if opts.AnthropicKey == "" {
		opts.AnthropicKey = fakeAnthropicKey
	}
	f := fakeupstream.New(opts)
	_, err := f.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// freePort returns a loopback port this test owns: the harness keeps it
// bound until the test ends and hands the socket to the process that
// serves on it (see ports.go), so no other program can take it meanwhile.
func freePort(t *testing.T) int {
	t.Helper()
	return ports.reserve(t)
}

// proxySetup describes a proxy working directory.
type proxySetup struct {
	fakeURL string
	port    int
	extra   string // appended to config.yaml (YAML at top level)
}

// providersYAML routes the seed's providers to the fake upstream.
func providersYAML(fakeURL string) string {
	return fmt.Sprintf(`providers:
  openai:
    upstream_url: %[1]s
    api_key_env: OPENAI_API_KEY
    models: [gpt-4o, gpt-4o-mini, o3-mini, o4-mini, text-embedding-3-small, gpt-3.5-turbo-instruct]
  anthropic:
    upstream_url: %[1]s
    api_key_env: ANTHROPIC_API_KEY
    auth_scheme: header
    auth_header: x-api-key
    headers:
      anthropic-version: "2023-06-01"
    chat_path: /v1/messages
    models: [claude-opus-4-6, claude-sonnet-4-6, claude-haiku-4-5]
`, fakeURL)
}

// newProxyDir writes config.yaml and providers.yaml for a proxy on s.port.
func newProxyDir(t *testing.T, s proxySetup) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`server:
  http_port: %d
  upstream_url: %s
  shutdown_timeout: 5s
storage:
  db_path: ./tokenomics.db
memory:
  allowed_dirs: ["./memory", "/var/log/tokenomics"]
plugins:
  cache_dir: %s
  load_wait: %s
%s`, s.port, s.fakeURL, wasmCacheDir(t), harnessLoadWait, s.extra)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "providers.yaml"), []byte(providersYAML(s.fakeURL)), 0o600))
	return dir
}

// harnessLoadWait is plugins.load_wait for test proxies: a request whose
// rules are still loading is held this long before a 503. Generous, so a
// token created while a busy machine compiles its plugins is checked, not
// refused; startServe waits for the rules of the tokens that exist at
// start (awaitRulesLoaded), and the tests of the refusal set their own.
const harnessLoadWait = "60s"

// wasmCacheDir is shared by every proxy of the test run, so each one
// compiles the built-in plugins from wazero's cache after the first.
func wasmCacheDir(t *testing.T) string {
	dir := filepath.Join(os.TempDir(), "tokenomics-test-wasm-cache")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	return dir
}

// proxyEnv is the environment every proxy and token command gets.
func proxyEnv(extra ...string) []string {
	return append([]string{hashKeyEnv, "OPENAI_API_KEY=" + fakeOpenAIKey, "ANTHROPIC_API_KEY=" + fakeAnthropicKey}, extra...)
}

// proc is a running tokenomics process.
type proc struct {
	cmd   *exec.Cmd
	URL   string
	Ready readyInfo // what the process wrote to its --ready-file
	mu    sync.Mutex
	logs  strings.Builder
	done  chan struct{}
}

// Logs returns what the process wrote to stderr so far.
func (p *proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *proc) Stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatalf("process did not stop within 15s; logs:\n%s", p.Logs())
	}
}

// Kill ends the process at once, as a crash would.
func (p *proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// startServe runs `tokenomics serve` in dir and waits until it reports
// its listeners and /ready answers. port is the server.http_port written
// by newProxyDir (a freePort): its socket, and that of any other owned
// port in config.yaml, is handed to the process.
func startServe(t *testing.T, dir string, port int, env []string) *proc {
	t.Helper()
	return startProc(t, dir, env, fmt.Sprintf("http://127.0.0.1:%d", port), "/ready", "serve")
}

// launchProc starts cmd in dir with the minimal environment plus env,
// handing it the owned ports that portArgs, env, url or dir/config.yaml
// name; it collects stderr into p.Logs(), kills the process at cleanup
// and logs its stderr, under name, when the test failed.
func launchProc(t *testing.T, cmd *exec.Cmd, dir string, env, portArgs []string, url, name string) *proc {
	t.Helper()
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	handed := ports.handOver(t, cmd, portsNamed(dir, portArgs, env, url))
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	cmd.Stdout = io.Discard
	require.NoError(t, cmd.Start())
	ports.started(cmd)
	p := &proc{cmd: cmd, URL: url, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text())
			p.logs.WriteByte('\n')
			p.mu.Unlock()
		}
		_ = cmd.Wait()
		// The process is gone: its ports refuse connections again, as a
		// crashed server's would, until a restart takes them back.
		ports.release(handed)
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.Kill()
		}
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, p.Logs())
		}
	})
	return p
}

// startProc runs the binary with args (a serve or remote command) and
// waits for it to write its --ready-file, then for url+probe to answer
// 200. Sockets of owned ports named in args or in dir/config.yaml are
// handed over, so the process never races another program for its port;
// p.URL is the address the process reports, which may differ from url
// when the port was not owned (then the process binds it itself).
func startProc(t *testing.T, dir string, env []string, url, probe string, args ...string) *proc {
	t.Helper()
	readyPath := filepath.Join(t.TempDir(), "ready.env")
	full := append(append([]string{}, args...), "--ready-file", readyPath)
	p := launchProc(t, exec.Command(binary(t), full...), dir, env, args, url, args[0])
	// A busy machine compiles the rule plugins slowly: a minute, not 20s.
	deadline := time.Now().Add(60 * time.Second)
	for p.Ready == nil && time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%v exited before it was ready:\n%s", args, p.Logs())
		case <-time.After(20 * time.Millisecond):
		}
		p.Ready = readReady(readyPath)
	}
	if p.Ready == nil {
		t.Fatalf("%v wrote no ready file after 60s:\n%s", args, p.Logs())
	}
	if a := p.Ready.addr(); a != "" {
		p.URL = "http://" + a
	}
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%v exited early:\n%s", args, p.Logs())
		default:
		}
		resp, err := probeClient.Get(p.URL + probe)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				if probe == "/ready" {
					awaitRulesLoaded(t, p, time.Now().Add(2*time.Minute))
				}
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%v listens on %s but %s did not answer 200 within 60s:\n%s", args, p.URL, probe, p.Logs())
	return nil
}

// awaitRulesLoaded waits until serve's /ready counts no rule set still
// loading: serve answers before its tokens' rule plugins compiled, and the
// tests send rule-checked requests right after start. A /ready without
// the count (the public one when metrics are split off) is not waited on.
func awaitRulesLoaded(t *testing.T, p *proc, deadline time.Time) {
	t.Helper()
	for {
		resp, err := probeClient.Get(p.URL + "/ready")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if !strings.Contains(string(body), `"rules_loading":`) || strings.Contains(string(body), `"rules_loading":0`) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rule plugins of %s did not load within 2 minutes:\n%s", p.URL, p.Logs())
		}
		select {
		case <-p.done:
			t.Fatalf("serve exited early:\n%s", p.Logs())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// probeClient polls a process this test started, on the address it
// reported; a probe that hangs is retried rather than waited on.
var probeClient = &http.Client{Timeout: 5 * time.Second}

// createToken runs `token create` in dir and returns the token and its hash.
func createToken(t *testing.T, dir string, env []string, policy string, extra ...string) (token, hash string) {
	t.Helper()
	args := append([]string{"token", "create", "--policy", policy}, extra...)
	res := run(t, dir, env, args...)
	require.Equal(t, 0, res.code, "token create: %s", res.stderr)
	tm := tokenLine.FindStringSubmatch(res.stdout)
	hm := hashLine.FindStringSubmatch(res.stdout)
	require.NotNil(t, tm, res.stdout)
	require.NotNil(t, hm, res.stdout)
	return tm[1], hm[1]
}
