package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestSyncPushOverHTTPS: the seed's layout, pushes to a proxy's https port
// whose certificate the proxy generated. With ca_file naming the proxy's
// ca.pem the pushes arrive (sub-second, the poll is 300 s); a target
// without it gets a WARN that names ca_file.
func TestSyncPushOverHTTPS(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	cport, httpPort, tlsPort := freePort(t), freePort(t), freePort(t)
	centralURL := fmt.Sprintf("http://127.0.0.1:%d", cport)
	env := proxyEnv(
		fmt.Sprintf("TOKENOMICS_SERVER_HTTPS_PORT=%d", tlsPort),
		"TOKENOMICS_SERVER_TLS_ENABLED=true",
		"TOKENOMICS_SERVER_TLS_AUTO_GEN=true",
		"TOKENOMICS_SERVER_TLS_CERT_DIR=./certs",
	)
	// The proxy starts first, so its CA exists; it is not ready until
	// central answers.
	pdir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: httpPort, extra: syncedProxy(centralURL, 300, true)})
	p := startProc(t, pdir, env, fmt.Sprintf("http://127.0.0.1:%d", httpPort), "/health", "serve")
	pxNoRace(t, p)
	ca := filepath.Join(pdir, "certs", "ca.pem")
	require.FileExists(t, ca)

	trusted := fmt.Sprintf("https://127.0.0.1:%d/v1/webhook", tlsPort)
	untrusted := fmt.Sprintf("https://localhost:%d/v1/webhook", tlsPort)
	cdir := newCentralDir(t, centralSetup{fakeURL: fake.URL(), webhooks: []string{trusted, untrusted}})
	cfgPath := filepath.Join(cdir, "config.yaml")
	cfg, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	withCA := strings.Replace(string(cfg), "url: "+trusted+"\n", "url: "+trusted+"\n      ca_file: "+ca+"\n", 1)
	require.NotEqual(t, string(cfg), withCA)
	require.NoError(t, os.WriteFile(cfgPath, []byte(withCA), 0o600))
	central := startRemote(t, cdir, cport, proxyEnv())

	require.Eventually(t, func() bool {
		code, _ := readyStatus(t, p.URL)
		return code == 200
	}, 10*time.Second, 20*time.Millisecond, "central's start push over https makes the proxy sync")

	var took []time.Duration
	for range 5 {
		tok, hash := apiCreate(t, centralURL)
		took = append(took, waitAll(t, []string{p.URL}, tok, "hello", 200, 5*time.Second))
		apiDelete(t, centralURL, hash)
		took = append(took, waitAll(t, []string{p.URL}, tok, "hello", 401, 5*time.Second))
	}
	for _, d := range took {
		require.Less(t, d, time.Second)
	}
	t.Logf("changes reached the proxy over https in p50 %s, max %s", percentile(took, 50), percentile(took, 100))

	require.Eventually(t, func() bool {
		return strings.Contains(central.Logs(), "set ca_file on this webhook")
	}, 10*time.Second, 50*time.Millisecond, "a WARN names ca_file for the target that does not trust the certificate")
	assert.Equal(t, 1, strings.Count(central.Logs(), "set ca_file on this webhook"), "one warning per failure streak, not one per attempt")
	v, ok := metricValue(t, centralURL, `tokenomics_push_last_error{target="#1 https://localhost:`+fmt.Sprint(tlsPort)+`"}`)
	require.True(t, ok)
	assert.Equal(t, 1.0, v)
	v, ok = metricValue(t, centralURL, `tokenomics_push_last_error{target="#0 https://127.0.0.1:`+fmt.Sprint(tlsPort)+`"}`)
	require.True(t, ok)
	assert.Equal(t, 0.0, v)
}
