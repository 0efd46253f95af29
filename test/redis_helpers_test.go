package test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redis-server cannot take a socket handed over, so a test's Redis picks a
// port, and the test proves the server answering there is its own: the
// process it started must still run and report its own process id. A port
// lost to another program means another port, never another's server.

// errRedisPortTaken says another program had the port.
var errRedisPortTaken = errors.New("port taken by another program")

// startFresh launches the server on new ports until one is its own.
func (r *redisProc) startFresh(t *testing.T) {
	t.Helper()
	var err error
	for range 5 {
		r.port = unusedPort(t)
		if err = r.launch(); err == nil {
			return
		}
		if !errors.Is(err, errRedisPortTaken) {
			break
		}
	}
	t.Fatalf("redis-server: %v", err)
}

// unusedPort asks the kernel for a port nobody listens on right now; the
// caller must prove it got it (see launch).
func unusedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("binding a loopback port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// launch starts redis-server on r.port and waits until that very process
// answers there.
func (r *redisProc) launch() error {
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "",
		"--dir", r.dir, "--daemonize", "no", "--protected-mode", "no"}
	if r.durable {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	cmd := exec.Command("redis-server", args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &limitedWriter{w: &out, n: 8 << 10}, io.Discard
	// A test binary killed by a timeout must not leave servers behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.cmd, r.done = cmd, done
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			r.cmd = nil
			if strings.Contains(out.String(), "in use") {
				return fmt.Errorf("%w: %s", errRedisPortTaken, lastLine(out.String()))
			}
			return fmt.Errorf("exited at start: %s", lastLine(out.String()))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := c.Info(ctx, "server").Result()
		cancel()
		if err == nil {
			if pid := infoField(info, "process_id"); pid != strconv.Itoa(cmd.Process.Pid) {
				r.kill()
				return fmt.Errorf("%w: redis process %s answers, ours is %d", errRedisPortTaken, pid, cmd.Process.Pid)
			}
			return nil
		}
		if time.Now().After(deadline) {
			r.kill()
			return fmt.Errorf("does not answer after 30s: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func infoField(info, key string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v
		}
	}
	return ""
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// limitedWriter keeps the first n bytes a process writes.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	if l.n > 0 {
		k := min(len(b), l.n)
		_, _ = l.w.Write(b[:k])
		l.n -= k
	}
	return len(b), nil
}
