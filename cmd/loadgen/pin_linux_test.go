package main

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestStartPinned: a child started on a CPU runs there from its start (the
// kernel's CPU list for it says so), and the starting thread gets its own
// mask back.
func TestStartPinned(t *testing.T) {
	var before unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &before))
	if !before.IsSet(serverCPU) {
		t.Skipf("CPU %d is not available to this process", serverCPU)
	}
	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	p, _, err := startProcess("sleep", t.TempDir(), nil, serverCPU, false, sleep, "30")
	require.NoError(t, err)
	defer p.kill()
	got, err := cpusAllowed(p.cmd.Process.Pid)
	require.NoError(t, err)
	assert.Equal(t, "1", got)

	var after unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &after))
	assert.Equal(t, before, after, "the caller's mask is restored")
	assert.Greater(t, peakRSS(p.cmd.Process.Pid), int64(0), "VmHWM is read")
}
