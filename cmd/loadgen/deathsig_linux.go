package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the child when loadgen dies (a
// killed make, a closed pipe), so no fake or serve outlives the benchmark.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
