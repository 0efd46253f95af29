package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrExited means a child process ended before it was ready.
var ErrExited = errors.New("loadgen: process exited early")

// ErrNotPinned means a child did not end up on the CPU it was started on.
var ErrNotPinned = errors.New("loadgen: child not pinned")

// process is a child (the fake upstream or serve) whose stderr is kept, the
// last logTail bytes of it, for error reports.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}

	mu   sync.Mutex
	logs []byte
}

const logTail = 16 << 10

// noCPU starts a child wherever the scheduler likes.
const noCPU = -1

// startProcess runs bin with args in dir, pinned to cpu unless it is noCPU.
// When firstLine is true it waits for the first line of stdout and returns
// it (the fake prints its URL).
func startProcess(name, dir string, env []string, cpu int, firstLine bool, bin string, args ...string) (*process, string, error) {
	return startProcessFiles(name, dir, env, nil, cpu, firstLine, bin, args...)
}

// startProcessFiles is startProcess handing files to the child as file
// descriptors 3, 4, … (listening sockets the parent owns).
func startProcessFiles(name, dir string, env []string, files []*os.File, cpu int, firstLine bool, bin string, args ...string) (*process, string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.ExtraFiles = files
	dieWithParent(cmd)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", fmt.Errorf("piping %s stderr: %w", name, err)
	}
	var stdout io.ReadCloser
	if firstLine {
		if stdout, err = cmd.StdoutPipe(); err != nil {
			return nil, "", fmt.Errorf("piping %s stdout: %w", name, err)
		}
	}
	if cpu == noCPU {
		err = cmd.Start()
	} else {
		err = startOn(cpu, cmd.Start)
	}
	if err != nil {
		return nil, "", fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	var copying sync.WaitGroup
	copying.Go(func() { _, _ = io.Copy(p, stderr) })
	line := make(chan string, 1)
	if firstLine {
		copying.Go(func() {
			sc := bufio.NewScanner(stdout)
			if sc.Scan() {
				line <- strings.TrimSpace(sc.Text())
			}
			close(line)
			_, _ = io.Copy(io.Discard, stdout)
		})
	}
	go func() {
		copying.Wait() // Wait closes the pipes, so read them to EOF first
		_ = cmd.Wait()
		close(p.done)
	}()
	if cpu != noCPU {
		// Proof rather than trust: the figures are only comparable if
		// the child really runs on its CPU.
		if got, err := cpusAllowed(cmd.Process.Pid); err != nil || got != strconv.Itoa(cpu) {
			p.kill()
			return nil, "", fmt.Errorf("starting %s pinned to CPU %d: runs on %q: %w", name, cpu, got, errors.Join(ErrNotPinned, err))
		}
	}
	if !firstLine {
		return p, "", nil
	}
	select {
	case l, ok := <-line:
		if ok && l != "" {
			return p, l, nil
		}
	case <-time.After(20 * time.Second):
	}
	p.kill()
	return nil, "", fmt.Errorf("reading %s's first line: %w:\n%s", name, ErrExited, p.Logs())
}

// Write keeps the tail of the child's stderr.
func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	p.logs = append(p.logs, b...)
	if len(p.logs) > 2*logTail {
		p.logs = append(p.logs[:0], p.logs[len(p.logs)-logTail:]...)
	}
	p.mu.Unlock()
	return len(b), nil
}

// Logs returns the last bytes the child wrote to stderr.
func (p *process) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.logs) > logTail {
		return string(p.logs[len(p.logs)-logTail:])
	}
	return string(p.logs)
}

// exited reports whether the child has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM (serve then writes its CPU profile) and waits; after
// timeout it kills the child.
func (p *process) stop(timeout time.Duration) error {
	if p.exited() {
		return fmt.Errorf("stopping %s: %w:\n%s", p.name, ErrExited, p.Logs())
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if st := p.cmd.ProcessState; st != nil && !st.Success() {
			return fmt.Errorf("stopping %s: %s:\n%s", p.name, st, p.Logs())
		}
		return nil
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("stopping %s: no exit %s after SIGTERM, killed", p.name, timeout)
	}
}

// kill ends the child at once; it is safe to call on an ended one.
func (p *process) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}
