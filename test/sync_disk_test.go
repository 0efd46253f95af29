package test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory, or skips
// the test when this process may not mount (not root).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	mnt := filepath.Join(dir, "small-disk")
	require.NoError(t, os.Mkdir(mnt, 0o700))
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): run as root to test a full disk", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	return mnt
}

// fillDisk writes a file until the file system is full.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			require.True(t, errors.Is(err, syscall.ENOSPC), "filling the disk: %v", err)
			break
		}
	}
	// Smaller writes take the last blocks.
	for _, err := f.Write(buf[:4096]); err == nil; _, err = f.Write(buf[:4096]) {
	}
	return path
}

// TestSyncFullDiskProxy: a proxy whose synced copy sits on a full disk
// still refuses a token deleted on central within a second (the deletion
// is applied in memory), reports not ready with the reason, paces its
// retries, and becomes ready again once the disk has room.
func TestSyncFullDiskProxy(t *testing.T) {
	t.Parallel()
	disk := mountTmpfs(t, 4<<20)
	fake := startFake(t, fakeupstream.Options{})
	env := proxyEnv()
	cport, pport := freePort(t), freePort(t)
	centralURL := fmt.Sprintf("http://127.0.0.1:%d", cport)
	cdir := newCentralDir(t, centralSetup{fakeURL: fake.URL(), webhooks: []string{fmt.Sprintf("http://127.0.0.1:%d/v1/webhook", pport)}})
	startRemote(t, cdir, cport, env)
	victim, victimHash := apiCreate(t, centralURL)
	keeper, _ := apiCreate(t, centralURL)

	extra := syncedProxy(centralURL, 300, true)
	pdir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: pport, extra: extra})
	cfg, err := os.ReadFile(filepath.Join(pdir, "config.yaml"))
	require.NoError(t, err)
	cfg = []byte(strings.Replace(string(cfg), "db_path: ./tokenomics.db", "db_path: "+filepath.Join(disk, "tokenomics.db"), 1))
	require.NoError(t, os.WriteFile(filepath.Join(pdir, "config.yaml"), cfg, 0o600))
	p := startServe(t, pdir, pport, env)
	pxNoRace(t, p)
	waitAll(t, []string{p.URL}, keeper, "hello", 200, 10*time.Second)

	filler := fillDisk(t, disk)
	// Enough changes that the proxy's write needs pages the full disk
	// cannot give, then the delete.
	apiBurst(t, centralURL, 300, 4)
	apiDelete(t, centralURL, victimHash)
	took := waitAll(t, []string{p.URL}, victim, "hello", 401, 5*time.Second)
	require.Less(t, took, time.Second)
	t.Logf("deleted token refused %s after the delete returned, on a full disk", took)
	assert.Equal(t, 200, chatStatus(t, p.URL, keeper, "hello"), "the other token still works")

	require.Eventually(t, func() bool {
		code, _ := readyStatus(t, p.URL)
		return code == 503
	}, 5*time.Second, 20*time.Millisecond)
	_, body := readyStatus(t, p.URL)
	assert.Contains(t, body, "cannot persist synced tokens")
	v, ok := metricValue(t, p.URL, "tokenomics_sync_persist_failing")
	require.True(t, ok)
	assert.Equal(t, 1.0, v)

	// Pushes keep coming, one per change; the pulls they start are paced
	// (200 ms apart at the least) instead of one per push.
	const failedLine = "sync with the central server failed"
	before, t0 := strings.Count(p.Logs(), failedLine), time.Now()
	for range 40 {
		apiCreate(t, centralURL)
	}
	time.Sleep(time.Second)
	failed := strings.Count(p.Logs(), failedLine) - before
	limit := int(time.Since(t0)/(200*time.Millisecond)) + 2
	assert.LessOrEqual(t, failed, limit, "failed syncs in %s while the disk is full", time.Since(t0))
	t.Logf("%d failed syncs in %s of pushes on a full disk", failed, time.Since(t0))

	// Room again: the next change (or the backoff retry) persists and the
	// proxy is ready.
	require.NoError(t, os.Remove(filler))
	apiCreate(t, centralURL)
	require.Eventually(t, func() bool {
		code, _ := readyStatus(t, p.URL)
		return code == 200
	}, 15*time.Second, 50*time.Millisecond)
	assert.Equal(t, 401, chatStatus(t, p.URL, victim, "hello"))
}

// TestSyncCorruptProxyDB: a proxy whose synced copy is truncated or
// garbled moves it aside at start and rebuilds it from central.
func TestSyncCorruptProxyDB(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"truncated", func(t *testing.T, path string) {
			st, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, st.Size()/3))
		}},
		{"garbled", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			for i := 4096 * 2; i < len(b); i += 7 {
				b[i] ^= 0x5a
			}
			require.NoError(t, os.WriteFile(path, b, 0o600))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := startCentralPair(t, true)
			tok, _ := apiCreate(t, c.centralURL)
			for range 50 {
				apiCreate(t, c.centralURL)
			}
			waitAll(t, c.urls()[:1], tok, "hello", 200, 10*time.Second)
			c.proxies[0].Stop(t)
			path := filepath.Join(c.proxyDirs[0], "tokenomics.proxy.db")
			tc.damage(t, path)

			p := startServe(t, c.proxyDirs[0], c.proxyPorts[0], c.env)
			pxNoRace(t, p)
			assert.Equal(t, 200, chatStatus(t, p.URL, tok, "hello"))
			assert.Contains(t, p.Logs(), "moved it aside")
			aside, err := filepath.Glob(path + ".corrupt-*")
			require.NoError(t, err)
			assert.Len(t, aside, 1)
		})
	}
}

// TestSyncCorruptCentralDB: central refuses to start on a damaged file
// with one line naming the file and what to do.
func TestSyncCorruptCentralDB(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	dir := newCentralDir(t, centralSetup{fakeURL: fake.URL()})
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*31 + 7)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenomics.db"), garbage, 0o600))
	cmd := exec.Command(binary(t), "remote", "--addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--api-key", centralKey)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, proxyEnv()...)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "central started on a garbage database:\n%s", out)
	text := string(out)
	assert.Contains(t, text, "tokenomics.db")
	assert.Contains(t, text, "damaged")
	assert.Contains(t, text, "backup")
	assert.NotContains(t, text, "goroutine", "no stack trace")
}
