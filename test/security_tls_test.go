package test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurityTLSSettings: server.tls.hosts puts extra names in the
// generated certificate, the CA key is not kept in cert_dir, and with
// server.tls.allow_plain_http false the https port answers plain http
// with 400 https_required (never routing the request). Unset, the seed's
// `init --insecure` flow keeps working and the proxy warns at start.
func TestSecurityTLSSettings(t *testing.T) {
	t.Parallel()
	dir, httpPort, tlsPort, base := autoTLSProxyDir(t, "TOKENOMICS_SERVER_TLS_HOSTS=proxy.internal,10.11.12.13")
	strict := append(append([]string(nil), base...), "TOKENOMICS_SERVER_TLS_ALLOW_PLAIN_HTTP=false")
	p := startServe(t, dir, httpPort, strict)

	caPEM, err := os.ReadFile(filepath.Join(dir, "certs", "ca.pem"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "certs", "ca-key.pem"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the CA key must not sit beside the server key")
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(caPEM))
	// Reach the proxy as proxy.internal: dial loopback, verify the name.
	internal := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "proxy.internal"},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", tlsPort))
		},
	}}
	code, body := getWith(t, internal, "https://proxy.internal/health")
	assert.Equal(t, 200, code, body)

	code, body = getWith(t, http.DefaultClient, fmt.Sprintf("http://127.0.0.1:%d/health", tlsPort))
	assert.Equal(t, 400, code)
	assert.Contains(t, body, "https_required")
	assert.NotContains(t, p.Logs(), "also answers plain http")
	p.Stop(t)

	// Unset (the seed's proxy-config.yaml): plain http still answered, with a warning.
	p = startServe(t, dir, httpPort, base)
	code, _ = getWith(t, http.DefaultClient, fmt.Sprintf("http://127.0.0.1:%d/health", tlsPort))
	assert.Equal(t, 200, code)
	assert.Contains(t, p.Logs(), "also answers plain http")
	p.Stop(t)
}

func getWith(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

// TestSecurityInitWarnsAndTrusts: `init --insecure` (SEED.txt's line) still
// prints the http URL and warns on stderr that the token travels in clear
// text; `init --tls --ca-file` prints what the SDKs need to trust the CA.
func TestSecurityInitWarnsAndTrusts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok := "tkn_" + strings.Repeat("A", 43)
	res := run(t, dir, nil, "init", "--token", tok, "--host", "proxy.internal", "--port", "8443", "--insecure")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "OPENAI_BASE_URL='http://proxy.internal:8443/v1'")
	assert.Contains(t, res.stderr, "clear text")

	ca := filepath.Join(dir, "ca.pem")
	caDir := t.TempDir()
	// Any real certificate will do: the proxy's generator makes one.
	httpPort := freePort(t)
	pdir := newProxyDir(t, proxySetup{fakeURL: "http://127.0.0.1:9", port: httpPort})
	env := proxyEnv(fmt.Sprintf("TOKENOMICS_SERVER_HTTPS_PORT=%d", freePort(t)), "TOKENOMICS_SERVER_TLS_ENABLED=true",
		"TOKENOMICS_SERVER_TLS_AUTO_GEN=true", "TOKENOMICS_SERVER_TLS_CERT_DIR="+caDir)
	p := startServe(t, pdir, httpPort, env)
	p.Stop(t)
	b, err := os.ReadFile(filepath.Join(caDir, "ca.pem"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(ca, b, 0o644))

	res = run(t, dir, nil, "init", "--token", tok, "--host", "proxy.internal", "--port", "8443", "--tls", "--ca-file", "ca.pem")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "OPENAI_BASE_URL='https://proxy.internal:8443/v1'")
	for _, v := range []string{"SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE"} {
		assert.Contains(t, res.stdout, "export "+v+"='"+ca+"';", v)
	}
	assert.NotContains(t, res.stderr, "clear text")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.pem"), []byte("not a cert"), 0o644))
	res = run(t, dir, nil, "init", "--token", tok, "--tls", "--ca-file", "bad.pem")
	assert.NotEqual(t, 0, res.code)
	assert.Contains(t, res.stderr, "no PEM certificate")
}
