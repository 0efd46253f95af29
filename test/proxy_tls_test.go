package test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestProxyTLS: with tls.enabled and auto_gen the proxy serves https on
// https_port with a certificate signed by a CA it generates once in
// cert_dir (the same CA after a restart), and the same port answers plain
// http for `init --insecure` clients.
// autoTLSProxyDir makes a proxy directory in front of a fresh fake
// upstream, and the environment that serves https on tlsPort with a
// certificate generated into ./certs, plus extra.
func autoTLSProxyDir(t *testing.T, extra ...string) (dir string, httpPort, tlsPort int, env []string) {
	t.Helper()
	fake := startFake(t, fakeupstream.Options{})
	httpPort, tlsPort = freePort(t), freePort(t)
	dir = newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: httpPort})
	env = proxyEnv(append([]string{
		fmt.Sprintf("TOKENOMICS_SERVER_HTTPS_PORT=%d", tlsPort),
		"TOKENOMICS_SERVER_TLS_ENABLED=true",
		"TOKENOMICS_SERVER_TLS_AUTO_GEN=true",
		"TOKENOMICS_SERVER_TLS_CERT_DIR=./certs",
	}, extra...)...)
	return dir, httpPort, tlsPort, env
}

func TestProxyTLS(t *testing.T) {
	t.Parallel()
	dir, httpPort, tlsPort, env := autoTLSProxyDir(t)
	tok, _ := createToken(t, dir, env, `{"model":"gpt-4o","max_tokens":10000}`)

	caPEM := func() []byte {
		b, err := os.ReadFile(filepath.Join(dir, "certs", "ca.pem"))
		require.NoError(t, err)
		return b
	}
	chat := func(c *http.Client, url string) int {
		req, err := http.NewRequest("POST", url+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"over tls"}]}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}

	p := startServe(t, dir, httpPort, env)
	first := caPEM()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(first))
	httpsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	assert.Equal(t, 200, chat(httpsClient, fmt.Sprintf("https://localhost:%d", tlsPort)), "https verified against ca.pem")
	assert.Equal(t, 200, chat(http.DefaultClient, fmt.Sprintf("http://127.0.0.1:%d", tlsPort)), "plain http on the https port")
	// An untrusting client refuses the generated certificate: it is real TLS.
	_, err := http.Get(fmt.Sprintf("https://localhost:%d/health", tlsPort))
	require.Error(t, err)
	p.Stop(t)

	p = startServe(t, dir, httpPort, env)
	assert.Equal(t, first, caPEM(), "the CA is reused across restarts")
	assert.Equal(t, 200, chat(httpsClient, fmt.Sprintf("https://localhost:%d", tlsPort)))
	p.Stop(t)
}
