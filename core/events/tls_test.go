package events

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTransportCAFile: without the CA the certificate check fails (and is
// recognised as such); a ca_file written after the transport was built is
// picked up; insecure skips the check.
func TestTransportCAFile(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	get := func(tr *http.Transport) error {
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	plain, err := NewTransport(TLSOptions{})
	require.NoError(t, err)
	err = get(plain)
	require.Error(t, err)
	assert.True(t, IsCertError(err), "%v", err)

	ca := filepath.Join(t.TempDir(), "ca.pem")
	lazy, err := NewTransport(TLSOptions{CAFile: ca})
	require.NoError(t, err, "a ca_file that does not exist yet is not an error")
	err = get(lazy)
	require.ErrorIs(t, err, ErrCAFile)
	assert.True(t, IsCertError(err))

	der := srv.Certificate().Raw
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, get(lazy), "the ca_file is read once it exists")

	bad := filepath.Join(t.TempDir(), "bad.pem")
	require.NoError(t, os.WriteFile(bad, []byte("not a certificate"), 0o600))
	_, err = NewTransport(TLSOptions{CAFile: bad})
	require.ErrorIs(t, err, ErrCAFile, "an existing file must hold a certificate")

	insecure, err := NewTransport(TLSOptions{Insecure: true})
	require.NoError(t, err)
	require.NoError(t, get(insecure))
}
