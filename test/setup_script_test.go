package test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSetupScriptFailsOnTakenPort: when another program holds a port
// setup.sh was told to use, the script stops with the server's own error
// instead of printing "ready", and leaves no server of its own running.
func TestSetupScriptFailsOnTakenPort(t *testing.T) {
	t.Parallel()
	other, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer other.Close()
	taken := other.Addr().(*net.TCPAddr).Port
	work := t.TempDir()
	setup := exec.Command("bash", "../examples/distributed-team/setup.sh")
	setup.Env = append(os.Environ(), "BIN="+binary(t), "WORK="+work,
		fmt.Sprintf("CENTRAL_PORT=%d", taken), "TOKENOMICS_WASM_CACHE="+wasmCacheDir(t),
		"TOKENOMICS_HASH_KEY=", "TOKENOMICS_REMOTE_KEY=", "TOKENOMICS_WEBHOOK_SECRET=", "TOKENOMICS_SIGNING_KEY=")
	out, err := setup.CombinedOutput()
	require.Error(t, err, "setup.sh must fail:\n%s", out)
	assert.Contains(t, string(out), "exited during start-up")
	assert.Contains(t, string(out), "address already in use")
	assert.NotContains(t, string(out), "==> ready")
	assert.NoFileExists(t, filepath.Join(work, "central", "central.pid"))
	env := readExportFile(t, filepath.Join(work, ".env"))
	assert.NotEmpty(t, env["TOKENOMICS_ENCRYPTION_KEY"], "setup.sh generates an encryption key")
}
