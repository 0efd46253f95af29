package test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The READMEs are tested as documents: every ```sh block runs, in order,
// in one bash session started in a scratch copy of the repository root
// (its entries linked, bin/tokenomics the binary under test), as a reader
// following the text would type them. A block preceded by
//
//	<!-- doc-test: skip (reason) -->
//
// is not run (make test itself, for instance). The documented ports 9090,
// 8080 and 8443 are replaced by ports this test owns, whose sockets the
// servers receive (TOKENOMICS_LISTEN_FDS), and the variables the example
// configs read for them (CENTRAL_URL, PROXY_PORT, PROXY_TLS_PORT) are set;
// nothing else is prepared: no secret, no provider key, no config file.

// docBlock is one runnable command block.
type docBlock struct {
	line   int    // 1-based line of the opening fence
	indent string // the fence's indentation (a block inside a list item)
	text   string
	skip   string // why it is not run; "" runs it
}

var docSkipRE = regexp.MustCompile(`^<!--\s*doc-test:\s*skip\b(.*?)-->\s*$`)

// docBlocks returns the sh/bash blocks of a markdown file.
func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []docBlock
	var cur *docBlock
	var pendingSkip string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if cur != nil {
			if strings.HasPrefix(trim, "```") {
				out = append(out, *cur)
				cur = nil
				continue
			}
			cur.text += strings.TrimPrefix(line, cur.indent) + "\n"
			continue
		}
		if m := docSkipRE.FindStringSubmatch(trim); m != nil {
			pendingSkip = strings.TrimSpace(m[1])
			if pendingSkip == "" {
				pendingSkip = "marked skip"
			}
			continue
		}
		if lang, ok := strings.CutPrefix(trim, "```"); ok {
			if lang == "sh" || lang == "bash" {
				cur = &docBlock{line: n, skip: pendingSkip, indent: line[:len(line)-len(strings.TrimLeft(line, " "))]}
			}
			pendingSkip = ""
			continue
		}
		if trim != "" {
			pendingSkip = ""
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, cur, "%s: unterminated code block", path)
	return out
}

// docPorts are the documented ports and the variables the example's
// configs read them from.
var docPortRE = regexp.MustCompile(`\b(9090|8080|8443)\b`)

// runDoc runs the blocks of the markdown file rel (relative to the
// repository root) and fails naming the block that failed.
// leave lists the top-level entries the document may leave behind in the
// repository root: whatever else it creates is a trap for the next reader
// (or for git add .).
func runDoc(t *testing.T, rel string, leave ...string) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	blocks := docBlocks(t, filepath.Join(root, rel))
	require.NotEmpty(t, blocks, "%s has no sh blocks", rel)

	scratch := t.TempDir()
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	for _, e := range entries {
		switch e.Name() {
		case "bin", ".git":
			continue
		}
		require.NoError(t, os.Symlink(filepath.Join(root, e.Name()), filepath.Join(scratch, e.Name())))
	}
	require.NoError(t, os.Mkdir(filepath.Join(scratch, "bin"), 0o755))
	require.NoError(t, os.Symlink(binary(t), filepath.Join(scratch, "bin", "tokenomics")))
	home := filepath.Join(scratch, ".home")
	require.NoError(t, os.Mkdir(home, 0o700))

	owned := map[string]int{"9090": freePort(t), "8080": freePort(t), "8443": freePort(t)}
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	ran := 0
	for i, b := range blocks {
		if b.skip != "" {
			t.Logf("%s:%d: not run (%s)", rel, b.line, b.skip)
			continue
		}
		ran++
		text := docPortRE.ReplaceAllStringFunc(b.text, func(p string) string { return strconv.Itoa(owned[p]) })
		fmt.Fprintf(&script, "echo \"::doc-block %d %s:%d $(date +%%T.%%N)\" >&2\n%s\n", i, rel, b.line, text)
	}
	script.WriteString("echo '::doc-done' >&2\n")
	path := filepath.Join(t.TempDir(), "doc.sh")
	require.NoError(t, os.WriteFile(path, []byte(script.String()), 0o600))

	cmd := exec.Command("bash", path)
	cmd.Dir = scratch
	cmd.Env = append(docEnv(home),
		fmt.Sprintf("CENTRAL_URL=http://127.0.0.1:%d", owned["9090"]),
		fmt.Sprintf("PROXY_PORT=%d", owned["8080"]), fmt.Sprintf("PROXY_TLS_PORT=%d", owned["8443"]),
		"TOKENOMICS_WASM_CACHE="+wasmCacheDir(t))
	// Its own process group: servers a section leaves running are stopped
	// with the shell when the test ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	ports.handOver(t, cmd, []int{owned["9090"], owned["8080"], owned["8443"]})
	// A file, not a pipe: a server left running in the background must not
	// keep the test waiting for the end of its output.
	out, err := os.Create(filepath.Join(t.TempDir(), "doc.log"))
	require.NoError(t, err)
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	ports.started(cmd)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	select {
	case err = <-done:
	case <-time.After(5 * time.Minute):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
		err = fmt.Errorf("still running after 5 minutes: %w", err)
	}
	b, _ := os.ReadFile(out.Name())
	log := string(b)
	if err != nil || !strings.Contains(log, "::doc-done") {
		t.Fatalf("%s: %d blocks run; failed in the last one started (%v):\n%s", rel, ran, err, tail(log, 60))
	}
	t.Logf("%s: %d command blocks ran", rel, ran)

	after, err := os.ReadDir(scratch)
	require.NoError(t, err)
	for _, e := range after {
		if e.Type()&os.ModeSymlink != 0 || e.Name() == "bin" || e.Name() == ".home" || slices.Contains(leave, e.Name()) {
			continue
		}
		t.Errorf("%s left %s in the repository root", rel, e.Name())
	}
}

// docEnv is a reader's environment: the test's, minus everything the
// documents must set up themselves (secrets, keys, upstreams, listeners).
func docEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "TOKENOMICS_"), strings.HasSuffix(k, "_API_KEY"), strings.HasSuffix(k, "_UPSTREAM"),
			k == "HOME", k == "CENTRAL_URL", k == "PROXY_PORT", k == "PROXY_TLS_PORT", strings.HasPrefix(k, "FAKEUPSTREAM_"):
			continue
		}
		env = append(env, kv)
	}
	// The Go caches stay where they are: a reader's HOME has them, the
	// scratch HOME does not.
	for _, v := range []string{"GOPATH", "GOMODCACHE", "GOCACHE"} {
		if out, err := exec.Command("go", "env", v).Output(); err == nil {
			env = append(env, v+"="+strings.TrimSpace(string(out)))
		}
	}
	return append(env, "HOME="+home)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestDocsREADME runs README.md's command blocks.
func TestDocsREADME(t *testing.T) {
	t.Parallel()
	runDoc(t, "README.md", "try")
}

// TestDocsDistributedTeam runs the distributed-team walkthrough.
func TestDocsDistributedTeam(t *testing.T) {
	t.Parallel()
	runDoc(t, "examples/distributed-team/README.md")
}
