package certs

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAutoGenReusedAcrossRestarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg1, err := Load(Options{Dir: dir})
	require.NoError(t, err)
	ca1, err := os.ReadFile(filepath.Join(dir, CAFile))
	require.NoError(t, err)
	cfg2, err := Load(Options{Dir: dir})
	require.NoError(t, err)
	ca2, _ := os.ReadFile(filepath.Join(dir, CAFile))
	assert.Equal(t, ca1, ca2, "the CA must be reused")
	assert.Equal(t, cfg1.Certificates[0].Certificate[0], cfg2.Certificates[0].Certificate[0], "the server certificate must be reused")
	_, err = os.Stat(filepath.Join(dir, CAKeyFile))
	assert.ErrorIs(t, err, os.ErrNotExist, "the CA key is never kept")

	st, err := os.Stat(filepath.Join(dir, KeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// A new host name (server.tls.hosts) needs a new issuance: a new CA,
	// whose certificate names the host.
	cfg3, err := Load(Options{Dir: dir, Hosts: []string{"proxy.internal", "10.0.0.7"}})
	require.NoError(t, err)
	assert.NotEqual(t, cfg1.Certificates[0].Certificate[0], cfg3.Certificates[0].Certificate[0])
	ca3, _ := os.ReadFile(filepath.Join(dir, CAFile))
	assert.NotEqual(t, ca1, ca3)
	leaf, err := x509.ParseCertificate(cfg3.Certificates[0].Certificate[0])
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca3))
	for _, h := range []string{"proxy.internal", "10.0.0.7", "localhost", "127.0.0.1"} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: pool})
		assert.NoError(t, err, h)
	}
	ca, err := loadCert(filepath.Join(dir, CAFile))
	require.NoError(t, err)
	assert.Contains(t, ca.PermittedDNSDomains, "proxy.internal", "the CA may only vouch for the proxy's names")
	assert.True(t, ca.NotAfter.Before(time.Now().Add(400*24*time.Hour)), "the CA lives as long as its one certificate")

	// Near expiry, the leaf is renewed.
	later := func() time.Time { return time.Now().Add(380 * 24 * time.Hour) }
	cfg4, err := Load(Options{Dir: dir, Hosts: []string{"proxy.internal"}, Now: later})
	require.NoError(t, err)
	assert.NotEqual(t, cfg3.Certificates[0].Certificate[0], cfg4.Certificates[0].Certificate[0])
}

// A directory from an older build (ca-key.pem beside the server key) is
// served as it is, and the CA key is removed.
func TestOldCAKeyRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	ca, key, err := newCA(Options{Dir: dir}, now)
	require.NoError(t, err)
	require.NoError(t, writePEM(dir, CAFile, CAKeyFile, ca.Raw, key))
	require.NoError(t, newServerCert(Options{Dir: dir}, ca, key, now))
	var logged []string
	_, err = Load(Options{Dir: dir, Log: func(msg string, _ ...any) { logged = append(logged, msg) }})
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, CAKeyFile))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.NotEmpty(t, logged)
	caNow, err := os.ReadFile(filepath.Join(dir, CAFile))
	require.NoError(t, err)
	assert.Contains(t, string(caNow), "CERTIFICATE", "clients keep the CA they trust")
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"cert without key", Options{CertFile: "a.pem"}, "set together"},
		{"missing files", Options{CertFile: "/nonexistent/a.pem", KeyFile: "/nonexistent/b.pem"}, "/nonexistent/a.pem"},
		{"no dir", Options{}, "cert_dir"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tc.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestSniffListener: one port answers both https (verified against ca.pem)
// and plain http.
func TestSniffListener(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, err := Load(Options{Dir: dir})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})}
	go func() { _ = srv.Serve(&SniffListener{Listener: ln, TLS: cfg, AllowPlainHTTP: true}) }()
	t.Cleanup(func() { _ = srv.Close() })

	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	require.NoError(t, err)
	require.True(t, pool.AppendCertsFromPEM(caPEM))
	httpsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	addr := ln.Addr().(*net.TCPAddr)

	for _, tc := range []struct {
		name string
		c    *http.Client
		url  string
	}{
		{"https", httpsClient, "https://localhost:" + itoa(addr.Port) + "/"},
		{"http", http.DefaultClient, "http://127.0.0.1:" + itoa(addr.Port) + "/"},
	} {
		resp, err := tc.c.Get(tc.url)
		require.NoError(t, err, tc.name)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, tc.name)
		assert.Equal(t, "ok", string(body), tc.name)
	}
}

func itoa(n int) string { return (&net.TCPAddr{Port: n}).String()[1:] }

// With plain HTTP off, a plain request gets 400 https_required and never
// reaches the handler; https still works.
func TestSniffListenerRefusesPlainHTTP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, err := Load(Options{Dir: dir})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	reached := make(chan struct{}, 10)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- struct{}{}
		_, _ = io.WriteString(w, "ok")
	})}
	go func() { _ = srv.Serve(&SniffListener{Listener: ln, TLS: cfg}) }()
	t.Cleanup(func() { _ = srv.Close() })
	port := itoa(ln.Addr().(*net.TCPAddr).Port)

	resp, err := http.Get("http://127.0.0.1:" + port + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
	assert.Contains(t, string(body), "https_required")
	assert.Empty(t, reached, "a plain request is never routed")

	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	require.NoError(t, err)
	require.True(t, pool.AppendCertsFromPEM(caPEM))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err = c.Get("https://localhost:" + port + "/")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}
