package cli

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ready.env")
	require.NoError(t, readyFile{"HTTP_ADDR": "127.0.0.1:1234", "ADMIN_ADDR": "127.0.0.1:5678"}.write(path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "ADMIN_ADDR=127.0.0.1:5678\nHTTP_ADDR=127.0.0.1:1234\nPID="+strconv.Itoa(os.Getpid())+"\n", string(b))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left beside it")
	removeReadyFile(path)
	assert.NoFileExists(t, path)

	assert.NoError(t, readyFile{}.write(""), "no --ready-file: nothing to do")
	assert.Error(t, readyFile{}.write(filepath.Join(dir, "missing", "ready.env")))
}

func TestEveryInterface(t *testing.T) {
	for addr, want := range map[string]bool{"0.0.0.0:80": true, "[::]:80": true, "127.0.0.1:80": false, "[::1]:80": false} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		require.NoError(t, err)
		assert.Equal(t, want, everyInterface(a), addr)
	}
}

// Without TOKENOMICS_LISTEN_FDS, listenTCP binds as net.Listen does.
func TestListenTCPWithoutInherited(t *testing.T) {
	ln, err := listenTCP("127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	assert.NotZero(t, ln.Addr().(*net.TCPAddr).Port)
	closeUnclaimed()
}
