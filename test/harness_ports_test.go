package test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestHarnessOwnsPorts: a proxy started by the harness serves on the
// socket the test bound (nobody else can bind the port while it runs),
// writes its addresses to --ready-file, and once stopped its port refuses
// connections; a restart gets the same port back.
func TestHarnessOwnsPorts(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	env := proxyEnv()
	p := startServe(t, dir, port, env)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	assert.Equal(t, addr, p.Ready["HTTP_ADDR"], "ready file: %v", p.Ready)
	assert.NotEmpty(t, p.Ready["ADMIN_ADDR"])
	assert.Equal(t, fmt.Sprint(p.cmd.Process.Pid), p.Ready["PID"])
	_, err := net.Listen("tcp", addr)
	require.Error(t, err, "the port is taken while the proxy runs")

	p.Stop(t)
	_, err = net.DialTimeout("tcp", addr, 5*time.Second)
	require.Error(t, err, "a stopped proxy's port refuses connections")

	p = startServe(t, dir, port, env)
	assert.Equal(t, "http://"+addr, p.URL)
	p.Stop(t)
}

// TestServeDiesOnTakenPort: a proxy whose port belongs to another program
// exits with the bind error instead of leaving a client to reach that
// program; the harness reports it as not ready.
func TestServeDiesOnTakenPort(t *testing.T) {
	t.Parallel()
	other, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer other.Close()
	port := other.Addr().(*net.TCPAddr).Port
	fake := startFake(t, fakeupstream.Options{})
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	ready := filepath.Join(dir, "ready.env")
	cmd := exec.Command(binary(t), "serve", "--ready-file", ready)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, proxyEnv()...)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "serve must exit non-zero:\n%s", out)
	assert.Contains(t, string(out), "address already in use")
	assert.NoFileExists(t, ready, "no ready file for a server that never listened")
}

// TestStartupReport: start-up says what serve listens on (and that it is
// every interface), what it loaded and how long it took.
func TestStartupReport(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	env := proxyEnv()
	createToken(t, dir, env, `{"max_tokens":1000}`)
	p := startServe(t, dir, port, env)
	logs := p.Logs()
	for _, want := range []string{"starting proxy", "starting the rule host", "builtin_plugins=1", "loading tokens", "tokens loaded",
		"listening: addr=127.0.0.1:" + fmt.Sprint(port), "proxy ready", "tokens=1", "took="} {
		assert.Contains(t, logs, want)
	}
	assert.Less(t, strings.Index(logs, "starting the rule host"), strings.Index(logs, "proxy ready"))

	// A socket on every interface is said to be one, as a warning.
	anyPort := ports.reserveOn(t, net.IPv4zero)
	dir2 := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: anyPort})
	all := startServe(t, dir2, anyPort, env)
	assert.Contains(t, all.Logs(), "every network interface")
	assert.True(t, strings.HasSuffix(all.Ready["HTTP_ADDR"], fmt.Sprintf(":%d", anyPort)), all.Ready["HTTP_ADDR"])
}
