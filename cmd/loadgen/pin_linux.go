package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pinSupported: CPU affinity is set with sched_setaffinity.
const pinSupported = true

// pinSelf moves every thread of loadgen to cpu. A thread a not yet moved
// thread creates meanwhile inherits the old mask, so the walk repeats until
// it finds every thread already pinned; new threads then inherit the pin.
func pinSelf(cpu int) error {
	var want unix.CPUSet
	want.Set(cpu)
	for range 10 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("listing loadgen's threads: %w", err)
		}
		moved := 0
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			var have unix.CPUSet
			if err := unix.SchedGetaffinity(tid, &have); err == nil && have == want {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &want); err != nil && err != unix.ESRCH {
				return fmt.Errorf("pinning thread %d to CPU %d: %w", tid, cpu, err)
			}
			moved++
		}
		if moved == 0 {
			// One CPU: more Ps would only make the load generator's own
			// goroutines compete through the scheduler.
			runtime.GOMAXPROCS(1)
			return nil
		}
	}
	return fmt.Errorf("pinning loadgen to CPU %d: threads kept appearing unpinned", cpu)
}

// startOn runs start (which forks a child) on a thread pinned to cpu, so the
// child and every thread it makes inherit that CPU from its first
// instruction; the thread gets its old mask back afterwards.
func startOn(cpu int, start func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, want unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return fmt.Errorf("reading the CPU mask: %w", err)
	}
	want.Set(cpu)
	if err := unix.SchedSetaffinity(0, &want); err != nil {
		return fmt.Errorf("pinning to CPU %d: %w", cpu, err)
	}
	startErr := start()
	if err := unix.SchedSetaffinity(0, &old); err != nil {
		return fmt.Errorf("restoring the CPU mask: %w", err) // the benchmark stops
	}
	return startErr
}

// cpusAllowed is the CPU list a process may run on, from /proc.
func cpusAllowed(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "", fmt.Errorf("reading process %d's status: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("process %d's status has no Cpus_allowed_list", pid)
}
