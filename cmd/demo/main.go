package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

const (
	openAIKey    = "sk-demo-openai"
	anthropicKey = "sk-ant-demo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

func run(args []string, out io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	bin := fs.String("bin", "bin/tokenomics", "tokenomics binary")
	example := fs.String("example", "examples/distributed-team", "the distributed-team example directory")
	keep := fs.Bool("keep", false, "leave the servers and files in place (prints where)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	d, err := newDemo(out, *bin, *example)
	if err != nil {
		fmt.Fprintln(out, "demo:", err)
		return 1
	}
	defer d.cleanup(*keep)
	if err := d.start(); err != nil {
		fmt.Fprintln(out, "demo:", err)
		d.dumpLogs()
		return 1
	}
	d.walk()
	return d.summary()
}

// demo holds the running system and the outcome of each step.
type demo struct {
	out        io.Writer
	bin        string
	example    string
	work       string
	fake       *fakeupstream.Server
	proxy      string // proxy base URL
	env        []string
	tokens     map[string]string // ROLE → token
	hashes     map[string]string
	passed     int
	failed     []string
	centralDir string
	held       []*net.TCPListener // the demo's ports, closed at cleanup
}

func newDemo(out io.Writer, bin, example string) (*demo, error) {
	absBin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(absBin); err != nil {
		return nil, fmt.Errorf("no binary at %s: run make build first", bin)
	}
	absEx, err := filepath.Abs(example)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "tokenomics-demo-")
	if err != nil {
		return nil, err
	}
	return &demo{out: out, bin: absBin, example: absEx, work: work, tokens: map[string]string{}, hashes: map[string]string{},
		centralDir: filepath.Join(work, "central")}, nil
}

// start runs the fake provider, then the example's setup script.
func (d *demo) start() error {
	d.title("Starting a fake provider, the central server and a proxy on loopback")
	d.fake = fakeupstream.New(fakeupstream.Options{OpenAIKey: openAIKey, AnthropicKey: anthropicKey,
		OpenAIModels:    []string{"gpt-4o", "gpt-4o-mini", "o3-mini", "o4-mini"},
		AnthropicModels: []string{"claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5"}})
	fakeURL, err := d.fake.Start("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the fake provider: %w", err)
	}
	// The demo owns its ports: it binds them here and hands the sockets to
	// the servers setup.sh starts, so no other program can take one in
	// between (see TOKENOMICS_LISTEN_FDS in cmd/cli/listeners.go).
	held, files, err := holdPorts(3)
	d.held = held
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range files {
			_ = f.Close()
		}
	}()
	central, proxyPort, tlsPort := port(held[0]), port(held[1]), port(held[2])
	d.proxy = fmt.Sprintf("http://127.0.0.1:%d", proxyPort)
	d.env = append(os.Environ(),
		"BIN="+d.bin, "WORK="+d.work,
		fmt.Sprintf("CENTRAL_PORT=%d", central), fmt.Sprintf("PROXY_PORT=%d", proxyPort), fmt.Sprintf("PROXY_TLS_PORT=%d", tlsPort),
		"OPENAI_UPSTREAM="+fakeURL, "ANTHROPIC_UPSTREAM="+fakeURL,
		"OPENAI_API_KEY="+openAIKey, "ANTHROPIC_API_KEY="+anthropicKey,
		// Compiled plugins survive between runs: the second demo starts fast.
		"TOKENOMICS_WASM_CACHE="+filepath.Join(os.TempDir(), "tokenomics-wasm-cache"),
		"TOKENOMICS_HASH_KEY=", "TOKENOMICS_ENCRYPTION_KEY=", "TOKENOMICS_REMOTE_KEY=", "TOKENOMICS_WEBHOOK_SECRET=", "TOKENOMICS_SIGNING_KEY=")
	cmd := exec.Command("bash", filepath.Join(d.example, "setup.sh"))
	cmd.Env = append(d.env, fmt.Sprintf("TOKENOMICS_LISTEN_FDS=%d", len(files)))
	cmd.ExtraFiles = files
	cmd.Stdout, cmd.Stderr = indent(d.out), indent(d.out)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("setup.sh: %w", err)
	}
	if err := d.readEnvFile(filepath.Join(d.work, ".env")); err != nil {
		return err
	}
	return d.readTokens(filepath.Join(d.work, "tokens.env"))
}

// readEnvFile adds the secrets setup.sh generated to the demo's environment,
// so token commands on the central machine can run.
func (d *demo) readEnvFile(path string) error {
	vars, err := readExports(path)
	if err != nil {
		return err
	}
	for k, v := range vars {
		d.env = append(d.env, k+"="+v)
	}
	return nil
}

func (d *demo) readTokens(path string) error {
	vars, err := readExports(path)
	if err != nil {
		return err
	}
	for k, v := range vars {
		if r, ok := strings.CutSuffix(k, "_TOKEN"); ok {
			d.tokens[r] = v
		}
		if r, ok := strings.CutSuffix(k, "_HASH"); ok {
			d.hashes[r] = v
		}
	}
	for _, r := range []string{"LEAD_ENGINEER", "DEVELOPER", "CONTRACTOR", "CI_PIPELINE"} {
		if d.tokens[r] == "" {
			return fmt.Errorf("setup.sh wrote no token for %s", r)
		}
	}
	return nil
}

// readExports reads `export NAME=value` lines.
func readExports(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out, sc.Err()
}

// tokenomics runs a token command on the central machine.
func (d *demo) tokenomics(args ...string) (string, error) {
	cmd := exec.Command(d.bin, args...)
	cmd.Dir = d.centralDir
	cmd.Env = d.env
	b, err := cmd.CombinedOutput()
	return string(b), err
}

func (d *demo) cleanup(keep bool) {
	if keep {
		fmt.Fprintf(d.out, "\nLeft running; stop with %s/stop.sh\n", d.work)
		return
	}
	if _, err := os.Stat(filepath.Join(d.work, "stop.sh")); err == nil {
		_ = exec.Command("bash", filepath.Join(d.work, "stop.sh")).Run()
	}
	if d.fake != nil {
		_ = d.fake.Close()
	}
	for _, l := range d.held {
		_ = l.Close()
	}
	_ = os.RemoveAll(d.work)
}

func (d *demo) dumpLogs() {
	for _, f := range []string{"central/central.log", "proxy/proxy.log"} {
		b, err := os.ReadFile(filepath.Join(d.work, f))
		if err == nil {
			fmt.Fprintf(d.out, "--- %s (last lines)\n%s\n", f, tail(string(b), 30))
		}
	}
}

func (d *demo) summary() int {
	fmt.Fprintln(d.out)
	if len(d.failed) == 0 {
		fmt.Fprintf(d.out, "\033[32mAll %d steps behaved as shown.\033[0m\n", d.passed)
		return 0
	}
	fmt.Fprintf(d.out, "\033[31m%d of %d steps did not behave as expected:\033[0m\n", len(d.failed), d.passed+len(d.failed))
	for _, f := range d.failed {
		fmt.Fprintln(d.out, "  -", f)
	}
	d.dumpLogs()
	return 1
}

// holdPorts binds n loopback ports and returns them with duplicates of
// their descriptors to hand to a child process.
func holdPorts(n int) ([]*net.TCPListener, []*os.File, error) {
	var lns []*net.TCPListener
	var files []*os.File
	for range n {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return lns, files, fmt.Errorf("binding a loopback port: %w", err)
		}
		lns = append(lns, ln)
		f, err := ln.File()
		if err != nil {
			return lns, files, err
		}
		files = append(files, f)
	}
	return lns, files, nil
}

func port(l *net.TCPListener) int { return l.Addr().(*net.TCPAddr).Port }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// indent prefixes what setup.sh prints, so the demo's own lines stand out.
func indent(w io.Writer) io.Writer { return &prefixWriter{w: w, bol: true} }

type prefixWriter struct {
	w   io.Writer
	bol bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	for _, c := range b {
		if p.bol {
			if _, err := io.WriteString(p.w, "    │ "); err != nil {
				return 0, err
			}
		}
		if _, err := p.w.Write([]byte{c}); err != nil {
			return 0, err
		}
		p.bol = c == '\n'
	}
	return len(b), nil
}
