package memory

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSymlinkRefusedWithoutOpenat2 runs the walk as on kernels before 5.6,
// where openat with O_NOFOLLOW per segment stands in for openat2.
func TestSymlinkRefusedWithoutOpenat2(t *testing.T) {
	noOpenat2.Store(true)
	defer noOpenat2.Store(false)
	base, outside := t.TempDir(), t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(base, "d")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "f"), filepath.Join(base, "f.md")))
	_, _, err := openBeneath(base, "d/x.md")
	require.Error(t, err)
	_, _, err = openBeneath(base, "f.md")
	require.Error(t, err)
	f, d, err := openBeneath(base, "sub/ok.md")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	closeDir(d)
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	require.Empty(t, entries)
}
