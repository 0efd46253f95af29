package test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"
)

// startCmd starts cmd in dir (minimal environment plus env) and waits for
// url+probe to answer 200, like startProc but for any command, such as a
// shell script that ends by exec'ing the binary.
func startCmd(t *testing.T, cmd *exec.Cmd, dir string, env []string, url, probe, name string) *proc {
	t.Helper()
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	// Owned ports the script, its environment or url name are handed
	// over, as startProc does (see ports_helpers_test.go).
	handed := ports.handOver(t, cmd, portsNamed(dir, cmd.Args, env, url))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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
	deadline := time.Now().Add(60 * time.Second) // a busy machine compiles plugins slowly
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited early:\n%s", name, p.Logs())
		default:
		}
		resp, err := probeClient.Get(url + probe)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready after 60s:\n%s", name, p.Logs())
	return nil
}
