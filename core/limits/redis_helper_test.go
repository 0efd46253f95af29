package limits

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// Redis for tests: TOKENOMICS_TEST_REDIS_ADDR if set (CI), else a
// redis-server started here on a random loopback port, else the Redis tests
// skip.
var (
	testRedisAddr string
	testRedisSkip string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if addr := os.Getenv("TOKENOMICS_TEST_REDIS_ADDR"); addr != "" {
		testRedisAddr = addr
		return m.Run()
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		testRedisSkip = "no Redis: set TOKENOMICS_TEST_REDIS_ADDR or put redis-server on PATH"
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "limits-redis-")
	if err != nil {
		testRedisSkip = "creating a directory for redis-server: " + err.Error()
		return m.Run()
	}
	defer os.RemoveAll(dir)
	srv, err := startRedisServer(dir, 0, false)
	if err != nil {
		testRedisSkip = "starting redis-server: " + err.Error()
		return m.Run()
	}
	defer srv.kill()
	testRedisAddr = srv.addr()
	return m.Run()
}

// needRedis returns the test Redis address or skips.
func needRedis(tb testing.TB) string {
	tb.Helper()
	if testRedisAddr == "" {
		tb.Skip(testRedisSkip)
	}
	return testRedisAddr
}

func newTestClient(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{
		Addr: addr,
		// Generous client timeouts: a loaded 2-core CI box running -race
		// must not turn slowness into refusals. Tests of the outage paths
		// bound each call with RedisOptions.Timeout (a context deadline).
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
		PoolTimeout:           2 * time.Second,
		PoolSize:              64,
	})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

func newTestRedis(tb testing.TB, addr string, timeout time.Duration) *Redis {
	tb.Helper()
	r, err := NewRedis(newTestClient(tb, addr), RedisOptions{Timeout: timeout, Prefix: "tkntest"})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = r.Close() })
	return r
}

// uniqueSubject keeps tests apart in a shared Redis.
func uniqueSubject(tb testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "subj-" + hex.EncodeToString(b[:])
}

// redisServer is a redis-server subprocess that can be stopped, frozen and
// restarted on the same port.
type redisServer struct {
	dir     string
	port    int
	durable bool
	cmd     *exec.Cmd
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startRedisServer starts redis-server on port (0 picks one). A durable
// server writes an fsync-always AOF in dir, so its data survives a kill.
func startRedisServer(dir string, port int, durable bool) (*redisServer, error) {
	if port == 0 {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	s := &redisServer{dir: dir, port: port, durable: durable}
	return s, s.start()
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *redisServer) start() error {
	args := []string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--dir", s.dir, "--daemonize", "no"}
	if s.durable {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	s.cmd = exec.Command("redis-server", args...)
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if err := s.cmd.Start(); err != nil {
		return err
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("redis-server on port %d not answering: %w", s.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *redisServer) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// outage cuts a test's Redis and brings it back with its data.
type outage interface {
	addr() string
	down(t *testing.T)   // connections refused
	freeze(t *testing.T) // connections accepted, nothing answered
	up(t *testing.T)
}

// newOutage prefers a real redis-server it can kill and restart on the same
// port; with only TOKENOMICS_TEST_REDIS_ADDR it puts a TCP relay in front of
// that Redis and cuts the relay instead.
func newOutage(t *testing.T) outage {
	t.Helper()
	if os.Getenv("TOKENOMICS_TEST_REDIS_ADDR") == "" {
		if _, err := exec.LookPath("redis-server"); err == nil {
			srv, err := startRedisServer(t.TempDir(), 0, true)
			require.NoError(t, err)
			o := &serverOutage{srv: srv}
			t.Cleanup(o.cleanup)
			return o
		}
	}
	target := needRedis(t)
	r := newRelay(t, target)
	return r
}

type serverOutage struct {
	srv    *redisServer
	frozen bool
}

func (o *serverOutage) addr() string { return o.srv.addr() }

func (o *serverOutage) down(t *testing.T) {
	t.Helper()
	o.srv.kill()
}

func (o *serverOutage) freeze(t *testing.T) {
	t.Helper()
	require.NoError(t, o.srv.cmd.Process.Signal(syscall.SIGSTOP))
	o.frozen = true
}

func (o *serverOutage) up(t *testing.T) {
	t.Helper()
	if o.frozen {
		require.NoError(t, o.srv.cmd.Process.Signal(syscall.SIGCONT))
		o.frozen = false
		return
	}
	require.NoError(t, o.srv.start())
}

func (o *serverOutage) cleanup() {
	if o.frozen && o.srv.cmd != nil {
		_ = o.srv.cmd.Process.Signal(syscall.SIGCONT)
	}
	o.srv.kill()
}

// relay forwards TCP to a Redis; down closes everything and refuses,
// freeze swallows traffic, up restores forwarding on the same port.
type relay struct {
	target string
	port   int
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	frozen atomic.Bool
}

func newRelay(t *testing.T, target string) *relay {
	t.Helper()
	r := &relay{target: target, conns: make(map[net.Conn]struct{})}
	r.listen(t)
	t.Cleanup(func() { r.close() })
	return r
}

func (r *relay) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *relay) listen(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(r.port))
	require.NoError(t, err)
	r.port = ln.Addr().(*net.TCPAddr).Port
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	go r.accept(ln)
}

func (r *relay) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go r.serve(c)
	}
}

func (r *relay) serve(c net.Conn) {
	u, err := net.Dial("tcp", r.target)
	if err != nil {
		_ = c.Close()
		return
	}
	if !r.track(c, u) {
		return
	}
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !r.frozen.Load() {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		_ = dst.Close()
		_ = src.Close()
	}
	go pipe(u, c)
	pipe(c, u)
}

func (r *relay) track(cs ...net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln == nil {
		for _, c := range cs {
			_ = c.Close()
		}
		return false
	}
	for _, c := range cs {
		r.conns[c] = struct{}{}
	}
	return true
}

func (r *relay) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		_ = r.ln.Close()
		r.ln = nil
	}
	for c := range r.conns {
		_ = c.Close()
		delete(r.conns, c)
	}
}

func (r *relay) down(t *testing.T) { r.close() }

func (r *relay) freeze(t *testing.T) { r.frozen.Store(true) }

func (r *relay) up(t *testing.T) {
	t.Helper()
	if r.frozen.Swap(false) {
		// Conversations broken mid-reply cannot resume.
		r.close()
	}
	r.mu.Lock()
	open := r.ln != nil
	r.mu.Unlock()
	if !open {
		r.listen(t)
	}
}

// isUnavailable is errors.Is with a clearer failure message.
func isUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }
