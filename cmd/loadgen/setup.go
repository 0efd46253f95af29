package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// ErrNotReady means serve did not answer /ready in time.
var ErrNotReady = errors.New("loadgen: serve not ready")

// Keys the fake expects and the proxy sends; the hash key is for this
// throw-away database only.
const (
	fakeOpenAIKey    = "sk-loadgen-openai"
	fakeAnthropicKey = "sk-ant-loadgen"
	hashKey          = "loadgen-hash-key-0123456789abcdef0123"
)

// bench is the proxy's working directory and what runs in it.
type bench struct {
	dir     string // config.yaml, providers.yaml, tokenomics.db, memory/
	bin     string // tokenomics binary (absolute)
	port    int
	ln      *net.TCPListener // the proxy's port, owned by loadgen and handed to serve
	fakeURL string
	env     []string
	cpu     int // serve's CPU, or noCPU
}

// newBench writes the proxy configuration for a fake upstream at fakeURL;
// serve will run on cpu (noCPU: anywhere).
func newBench(dir, bin, fakeURL string, cpu int) (*bench, error) {
	ln, err := holdPort()
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	b := &bench{dir: dir, bin: bin, port: port, ln: ln, fakeURL: fakeURL, cpu: cpu, env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"TOKENOMICS_HASH_KEY=" + hashKey, "OPENAI_API_KEY=" + fakeOpenAIKey, "ANTHROPIC_API_KEY=" + fakeAnthropicKey,
	}}
	// The Go runtime's knobs reach serve when loadgen has them, for
	// measuring the collector's pacing (GODEBUG=gctrace=1, GOGC, GOMEMLIMIT).
	for _, k := range []string{"GODEBUG", "GOGC", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(k); ok {
			b.env = append(b.env, k+"="+v)
		}
	}
	// logging.level warn: request logs would cost the proxy CPU the
	// benchmark should not charge it.
	cfg := fmt.Sprintf(`server:
  http_port: %d
  upstream_url: %s
  shutdown_timeout: 10s
storage:
  db_path: ./tokenomics.db
memory:
  allowed_dirs: ["./memory"]
plugins:
  cache_dir: ./wasm-cache
logging:
  level: warn
`, port, fakeURL)
	providers := fmt.Sprintf(`providers:
  openai:
    upstream_url: %[1]s
    api_key_env: OPENAI_API_KEY
    models: [gpt-4o, gpt-4o-mini]
  anthropic:
    upstream_url: %[1]s
    api_key_env: ANTHROPIC_API_KEY
    auth_scheme: header
    auth_header: x-api-key
    headers:
      anthropic-version: "2023-06-01"
    chat_path: /v1/messages
    models: [claude-sonnet-4-6]
`, fakeURL)
	for name, text := range map[string]string{"config.yaml": cfg, "providers.yaml": providers} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "memory"), 0o700); err != nil {
		return nil, fmt.Errorf("creating the memory directory: %w", err)
	}
	return b, nil
}

func (b *bench) url() string { return fmt.Sprintf("http://127.0.0.1:%d", b.port) }

var tokenLine = regexp.MustCompile(`(?m)^Token:\s+(tkn_\S+)$`)

// createToken runs `token create` (serve is not running, so it writes the
// database directly) and returns the token.
func (b *bench) createToken(policy string) (string, error) {
	cmd := exec.Command(b.bin, "token", "create", "--policy", policy)
	cmd.Dir = b.dir
	cmd.Env = b.env
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("creating a token: %w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("creating a token: %w", err)
	}
	m := tokenLine.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("creating a token: no Token: line in %q", out)
	}
	return string(m[1]), nil
}

// fillTokens adds n tokens to the database, so serve's memory and start
// cover a fleet's worth: nine in ten with the contractor policy, the rest
// without rules, each naming one of 20 teams in its metadata (as the
// seed's role policies name role and team), so the fleet holds 40 distinct
// policies. It writes through the store package in one transaction, as n
// runs of `token create` would one by one (too slow for 10,000); serve is
// not running. The tokens themselves are not kept: only the two runs'
// tokens send requests.
func (b *bench) fillTokens(n int) error {
	if n <= 0 {
		return nil
	}
	db, err := store.Open(filepath.Join(b.dir, "tokenomics.db"), store.Options{HashKey: []byte(hashKey)})
	if err != nil {
		return fmt.Errorf("opening the token database: %w", err)
	}
	defer db.Close()
	policies := make([]json.RawMessage, n)
	for i := range policies {
		base := contractorPolicy
		if i%10 == 9 {
			base = noRulesPolicy
		}
		var p map[string]any
		if err := json.Unmarshal([]byte(base), &p); err != nil {
			return fmt.Errorf("decoding a policy: %w", err)
		}
		p["metadata"] = map[string]string{"team": fmt.Sprintf("team-%d", i%20)}
		if policies[i], err = json.Marshal(p); err != nil {
			return fmt.Errorf("encoding a policy: %w", err)
		}
	}
	if _, err := db.CreateMany(policies, nil); err != nil {
		return err
	}
	return db.Close()
}

// serve starts `tokenomics serve [--cpuprofile profile]` and waits until
// /ready answers 200 and counts no rule set still loading; it returns how
// long each took from the start.
func (b *bench) serve(profile, heapProfile string) (*process, startTimes, error) {
	var st startTimes
	args := []string{"serve"}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	if heapProfile != "" {
		args = append(args, "--memprofile", heapProfile)
	}
	// serve gets the socket loadgen holds, so no other program can have
	// taken the port since newBench chose it (TOKENOMICS_LISTEN_FDS).
	f, err := b.ln.File()
	if err != nil {
		return nil, st, fmt.Errorf("handing over the proxy's port: %w", err)
	}
	env := append(append([]string{}, b.env...), "TOKENOMICS_LISTEN_FDS=1")
	start := time.Now()
	p, _, err := startProcessFiles("serve", b.dir, env, []*os.File{f}, b.cpu, false, b.bin, args...)
	_ = f.Close()
	if err != nil {
		return nil, st, err
	}
	// The socket listens from the start (loadgen holds it), so a probe
	// waits in its backlog until serve accepts: polled every 2 ms, the
	// figures are exact to a few milliseconds.
	c := &http.Client{Timeout: 5 * time.Second}
	deadline := start.Add(60 * time.Second) // the first start compiles the rule plugins
	for time.Now().Before(deadline) {
		if p.exited() {
			return nil, st, fmt.Errorf("starting serve: %w:\n%s", ErrExited, p.Logs())
		}
		if resp, err := c.Get(b.url() + "/ready"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if st.ready == 0 {
					st.ready = time.Since(start)
				}
				if bytes.Contains(body, []byte(`"rules_loading":0`)) {
					st.rules = time.Since(start)
					return p, st, nil
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.kill()
	return nil, st, fmt.Errorf("starting serve: %w after 60s:\n%s", ErrNotReady, p.Logs())
}

// holdPort binds a loopback port for the proxy and keeps it until
// loadgen exits.
func holdPort() (*net.TCPListener, error) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("binding the proxy's port: %w", err)
	}
	return ln, nil
}
