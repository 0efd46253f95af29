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

	st, err := os.Stat(filepath.Join(dir, KeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// A new host name regenerates the leaf under the same CA.
	cfg3, err := Load(Options{Dir: dir, Hosts: []string{"proxy.internal"}})
	require.NoError(t, err)
	assert.NotEqual(t, cfg1.Certificates[0].Certificate[0], cfg3.Certificates[0].Certificate[0])
	ca3, _ := os.ReadFile(filepath.Join(dir, CAFile))
	assert.Equal(t, ca1, ca3)

	// Near expiry, the leaf is renewed.
	later := func() time.Time { return time.Now().Add(380 * 24 * time.Hour) }
	cfg4, err := Load(Options{Dir: dir, Hosts: []string{"proxy.internal"}, Now: later})
	require.NoError(t, err)
	assert.NotEqual(t, cfg3.Certificates[0].Certificate[0], cfg4.Certificates[0].Certificate[0])
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
	go func() { _ = srv.Serve(&SniffListener{Listener: ln, TLS: cfg}) }()
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
