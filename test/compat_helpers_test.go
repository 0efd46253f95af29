package test

import (
	"bufio"
	"io"
	"net/http"
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
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited early:\n%s", name, p.Logs())
		default:
		}
		resp, err := http.Get(url + probe)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready after 30s:\n%s", name, p.Logs())
	return nil
}
