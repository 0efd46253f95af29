package test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// consolePage GETs a console page with c and returns the path it ended on
// (a missing session redirects to /ui/signin) and the body.
func consolePage(t *testing.T, c *http.Client, url string) (string, string) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	return resp.Request.URL.Path, string(b)
}

// TestConsoleSessionSharedAndKept: a console session made on one replica
// of a PostgreSQL central works on the other (no sticky load balancer
// needed), and a bbolt central keeps its sessions over a restart.
func TestConsoleSessionSharedAndKept(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	t.Run("postgres replicas", func(t *testing.T) {
		t.Parallel()
		env := proxyEnv("TOKENOMICS_POSTGRES_DSN=" + pgtest.FreshDSN(t))
		var urls []string
		for range 2 {
			port := freePort(t)
			dir := newCentralDir(t, centralSetup{fakeURL: fake.URL()})
			postgresCentral(t, dir)
			startRemote(t, dir, port, env)
			urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", port))
		}
		c := consoleSignin(t, urls[0], "op-on-a") // cookies for 127.0.0.1 go to both ports
		path, _ := consolePage(t, c, urls[1]+"/ui/tokens")
		require.Equal(t, "/ui/tokens", path, "replica B does not know the session made on A")
		path, _ = consolePage(t, c, urls[0]+"/ui/tokens")
		require.Equal(t, "/ui/tokens", path)
	})
	t.Run("bbolt restart", func(t *testing.T) {
		t.Parallel()
		port := freePort(t)
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		dir := newCentralDir(t, centralSetup{fakeURL: fake.URL()})
		p := startRemote(t, dir, port, proxyEnv())
		c := consoleSignin(t, base, "op")
		p.Stop(t)
		startRemote(t, dir, port, proxyEnv())
		path, _ := consolePage(t, c, base+"/ui/tokens")
		require.Equal(t, "/ui/tokens", path, "a restart signed the operator out")
	})
}
