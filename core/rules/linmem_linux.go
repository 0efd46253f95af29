//go:build linux

package rules

import (
	"os"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// memoryAllocator backs each linear memory with its own anonymous mapping:
// the whole maximum is reserved without access, and pages become readable
// and writable as the guest grows, so the address never moves.
func (g *memoryGate) memoryAllocator() experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(_, max uint64) experimental.LinearMemory {
		if max == 0 || max > 1<<32 {
			return &heapMemory{}
		}
		buf, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
		if err != nil {
			return &heapMemory{} // out of address space or mappings: the Go heap still works
		}
		return &mappedMemory{gate: g, buf: buf}
	})
}

type mappedMemory struct {
	gate *memoryGate
	buf  []byte // the reservation
	rw   int    // bytes readable and writable
}

var pageSize = os.Getpagesize()

func (m *mappedMemory) Reallocate(size uint64) []byte {
	if m.buf == nil || size > uint64(len(m.buf)) {
		return nil // past the memory limit: the guest's grow fails
	}
	if n := int(size); n > m.rw {
		end := min((n+pageSize-1)/pageSize*pageSize, len(m.buf))
		if err := syscall.Mprotect(m.buf[m.rw:end], syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
			return nil
		}
		m.rw = end
	}
	return m.buf[:size:size]
}

func (m *mappedMemory) Free() {
	if m.buf == nil || m.gate.leak.Load() {
		return
	}
	_ = syscall.Munmap(m.buf)
	m.buf = nil
}
