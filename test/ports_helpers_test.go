package test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Ports a test owns. freePort binds 127.0.0.1:0 and keeps the socket; a
// server started on that port receives the socket itself (as file
// descriptor 3, 4, … with TOKENOMICS_LISTEN_FDS set) instead of binding,
// so no other program on the machine can take the port between the
// test's choice and the server's start. While no server of the test runs
// on it the port is closed, so a stopped server looks stopped (connection
// refused); a restart binds the same port again before handing it over.

// listenFDsEnv is the variable serve and remote read the count from.
const listenFDsEnv = "TOKENOMICS_LISTEN_FDS"

type heldPort struct {
	ln *net.TCPListener // nil while released
}

type portRegistry struct {
	mu   sync.Mutex
	held map[int]*heldPort
}

var ports = &portRegistry{held: map[int]*heldPort{}}

// reserve binds a fresh loopback port for the test's lifetime.
func (r *portRegistry) reserve(t *testing.T) int {
	t.Helper()
	return r.reserveOn(t, net.IPv4(127, 0, 0, 1))
}

// reserveOn binds a fresh port on ip (IPv4zero: every interface).
func (r *portRegistry) reserveOn(t *testing.T, ip net.IP) int {
	t.Helper()
	ln, err := listenOutsideEphemeral(ip)
	if err != nil {
		t.Fatalf("binding a loopback port: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	r.mu.Lock()
	r.held[port] = &heldPort{ln: ln}
	r.mu.Unlock()
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if h := r.held[port]; h != nil && h.ln != nil {
			_ = h.ln.Close()
		}
		delete(r.held, port)
	})
	return port
}

// listenOutsideEphemeral binds a port below the kernel's ephemeral range
// when it can. A port from the range (what binding port 0 gives) can be
// handed to any outgoing connection on the machine while a test has it
// released between a server's stop and its restart, which on a busy machine
// happened; below the range only an explicit bind can take it, and every
// such bind here picks a port the same careful way. Falls back to port 0.
func listenOutsideEphemeral(ip net.IP) (*net.TCPListener, error) {
	low := ephemeralLow()
	if low > 10000 {
		for range 64 {
			p := 10000 + rand.IntN(low-10000)
			if ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: p}); err == nil {
				return ln, nil
			}
		}
	}
	return net.ListenTCP("tcp", &net.TCPAddr{IP: ip})
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}

// handOver passes the sockets of the owned ports among want to cmd and
// returns the ports handed over. A released port is bound again first;
// if another program took it meanwhile the test fails saying so.
func (r *portRegistry) handOver(t *testing.T, cmd *exec.Cmd, want []int) []int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var handed []int
	seen := map[int]bool{}
	for _, p := range want {
		h := r.held[p]
		if h == nil || seen[p] {
			continue
		}
		seen[p] = true
		if h.ln == nil {
			ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				t.Fatalf("port %d, owned by this test, was taken by another program while its server was down: %v", p, err)
			}
			h.ln = ln
		}
		f, err := h.ln.File()
		if err != nil {
			t.Fatalf("handing over port %d: %v", p, err)
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
		handed = append(handed, p)
	}
	if len(handed) > 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", listenFDsEnv, len(handed)))
	}
	return handed
}

// started closes the parent's copies of the descriptors handed to cmd.
func (r *portRegistry) started(cmd *exec.Cmd) {
	for _, f := range cmd.ExtraFiles {
		_ = f.Close()
	}
}

// release closes the test's sockets of ports whose server has exited.
func (r *portRegistry) release(handed []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range handed {
		if h := r.held[p]; h != nil && h.ln != nil {
			_ = h.ln.Close()
			h.ln = nil
		}
	}
}

var (
	configPortRE = regexp.MustCompile(`(?m)^\s*(?:http_port:\s*|https_port:\s*|metrics_addr:\s*"?[^:\s]*:)(\d+)`)
	argPortRE    = regexp.MustCompile(`:(\d+)(?:/|$)`)
	envPortRE    = regexp.MustCompile(`^TOKENOMICS_SERVER_(?:HTTPS?_PORT=|METRICS_ADDR=[^:]*:)(\d+)$`)
)

// portsNamed lists the ports a server started with args and env in dir
// will bind: those of its arguments (remote --addr), of the server port
// and metrics_addr overrides in env, and config.yaml's server ports.
func portsNamed(dir string, args, env []string, urls ...string) []int {
	var out []int
	for _, e := range env {
		if m := envPortRE.FindStringSubmatch(e); m != nil {
			if p, err := strconv.Atoi(m[1]); err == nil {
				out = append(out, p)
			}
		}
	}
	for _, a := range append(append([]string{}, args...), urls...) {
		for _, m := range argPortRE.FindAllStringSubmatch(a, -1) {
			if p, err := strconv.Atoi(m[1]); err == nil {
				out = append(out, p)
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err == nil {
		for _, m := range configPortRE.FindAllStringSubmatch(string(b), -1) {
			if p, err := strconv.Atoi(m[1]); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// readyInfo is a process's --ready-file: KEY=value lines.
type readyInfo map[string]string

// readReady returns nil while the file does not exist; the server writes
// it atomically, so an existing file is complete.
func readReady(path string) readyInfo {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := readyInfo{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			out[k] = v
		}
	}
	return out
}

// addr is the address clients use: serve's HTTP listener (or its HTTPS one,
// which answers plain HTTP too), else remote's API; an address on every
// interface is reached through loopback.
func (r readyInfo) addr() string {
	for _, k := range []string{"HTTP_ADDR", "HTTPS_ADDR", "API_ADDR"} {
		if a := r[k]; a != "" {
			host, port, err := net.SplitHostPort(a)
			if err != nil {
				return a
			}
			if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
				host = "127.0.0.1"
			}
			return net.JoinHostPort(host, port)
		}
	}
	return ""
}

// deadPort returns a loopback port the test holds bound but not listening:
// connections to it are refused, and no other program can start listening
// on it while the test runs. It stands for a provider nobody runs.
func deadPort(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("getsockname: %v", err)
	}
	return sa.(*syscall.SockaddrInet4).Port
}
