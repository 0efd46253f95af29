package tokenapi

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiscoveryRoundTrip(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "tokenomics.db")
	assert.Equal(t, dbPath+".admin", DiscoveryPath(dbPath))

	_, err := ReadDiscovery(dbPath)
	require.ErrorIs(t, err, ErrNoServer)

	want := Discovery{Addr: "127.0.0.1:4567", Secret: "s", PID: os.Getpid()}
	require.NoError(t, WriteDiscovery(dbPath, want))
	fi, err := os.Stat(DiscoveryPath(dbPath))
	require.NoError(t, err)
	if runtime.GOOS != "windows" {
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}
	got, err := ReadDiscovery(dbPath)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// Overwriting is atomic and leaves no temp files behind.
	want.Addr = "[::1]:1"
	require.NoError(t, WriteDiscovery(dbPath, want))
	got, err = ReadDiscovery(dbPath)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	entries, err := os.ReadDir(filepath.Dir(dbPath))
	require.NoError(t, err)
	assert.Len(t, entries, 1)

	require.NoError(t, RemoveDiscovery(dbPath))
	require.NoError(t, RemoveDiscovery(dbPath), "removing twice is fine")
	_, err = ReadDiscovery(dbPath)
	require.ErrorIs(t, err, ErrNoServer)
}

func TestWriteDiscoveryLoopbackOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		addr string
		ok   bool
	}{
		{name: "ipv4 loopback", addr: "127.0.0.1:9", ok: true},
		{name: "other 127/8", addr: "127.0.0.2:9", ok: true},
		{name: "ipv6 loopback", addr: "[::1]:9", ok: true},
		{name: "localhost", addr: "localhost:9", ok: true},
		{name: "all interfaces", addr: ":9"},
		{name: "unspecified ipv4", addr: "0.0.0.0:9"},
		{name: "private address", addr: "10.0.0.1:9"},
		{name: "hostname", addr: "admin.example.com:9"},
		{name: "no port", addr: "127.0.0.1"},
		{name: "empty port", addr: "127.0.0.1:"},
		{name: "empty", addr: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dbPath := filepath.Join(t.TempDir(), "t.db")
			err := WriteDiscovery(dbPath, Discovery{Addr: tc.addr, Secret: "s", PID: os.Getpid()})
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrNotLoopback)
			_, statErr := os.Stat(DiscoveryPath(dbPath))
			assert.True(t, os.IsNotExist(statErr), "nothing written")
		})
	}
}

func TestReadDiscoveryRefusesOpenPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	t.Parallel()
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		dbPath := filepath.Join(t.TempDir(), "t.db")
		require.NoError(t, WriteDiscovery(dbPath, Discovery{Addr: "127.0.0.1:9", Secret: "s", PID: os.Getpid()}))
		require.NoError(t, os.Chmod(DiscoveryPath(dbPath), mode))
		_, err := ReadDiscovery(dbPath)
		require.ErrorIs(t, err, ErrInsecureDiscovery, "mode %o", mode)
		assert.Contains(t, err.Error(), "readable by group or others")
		assert.NotContains(t, err.Error(), `"s"`)
	}
}

func TestReadDiscoveryStalePID(t *testing.T) {
	t.Parallel()
	// A process that has exited: its PID names nobody (reuse within the
	// test is vanishingly unlikely).
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	require.NoError(t, cmd.Run())
	deadPID := cmd.ProcessState.Pid()

	dbPath := filepath.Join(t.TempDir(), "t.db")
	require.NoError(t, WriteDiscovery(dbPath, Discovery{Addr: "127.0.0.1:9", Secret: "s", PID: deadPID}))
	_, err := ReadDiscovery(dbPath)
	require.ErrorIs(t, err, ErrNoServer)
	_, statErr := os.Stat(DiscoveryPath(dbPath))
	assert.True(t, os.IsNotExist(statErr), "the stale file is removed")
}

func TestReadDiscoveryBadContent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
	}{
		{name: "not json", content: "{"},
		{name: "remote address", content: `{"addr":"10.1.1.1:80","secret":"s","pid":1}`},
		{name: "no secret", content: `{"addr":"127.0.0.1:80","pid":1}`},
		{name: "no pid", content: `{"addr":"127.0.0.1:80","secret":"s"}`},
		{name: "huge", content: `{"secret":"` + string(make([]byte, maxDiscoveryBytes)) + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dbPath := filepath.Join(t.TempDir(), "t.db")
			require.NoError(t, os.WriteFile(DiscoveryPath(dbPath), []byte(tc.content), 0o600))
			_, err := ReadDiscovery(dbPath)
			require.Error(t, err)
			assert.NotErrorIs(t, err, ErrNoServer)
		})
	}
}

func FuzzParseDiscovery(f *testing.F) {
	good, _ := json.Marshal(Discovery{Addr: "127.0.0.1:1", Secret: "s", PID: 1})
	f.Add(good)
	f.Add([]byte(`{"addr":"[::1]:0"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseDiscovery(data)
		if err != nil {
			return
		}
		if checkLoopback(d.Addr) != nil || d.Secret == "" || d.PID <= 0 {
			t.Fatalf("accepted %+v", d)
		}
	})
}
