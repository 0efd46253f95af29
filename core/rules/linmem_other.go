//go:build !linux

package rules

import "github.com/tetratelabs/wazero/experimental"

// memoryAllocator is nil elsewhere: wazero keeps memories in the Go heap.
func (g *memoryGate) memoryAllocator() experimental.MemoryAllocator { return nil }
