//go:build !linux

package main

import "os/exec"

// dieWithParent is Linux only; elsewhere loadgen's own cleanup has to do.
func dieWithParent(*exec.Cmd) {}
