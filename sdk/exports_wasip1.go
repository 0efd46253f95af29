//go:build wasip1

package sdk

import (
	"unsafe"

	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

// live keeps host-requested buffers reachable so the Go GC does not free
// memory the host writes into.
var live = map[uint32][]byte{}

//go:wasmexport tokenomics_abi_v1
func abiV1() {}

//go:wasmexport tokenomics_alloc
func alloc(size uint32) uint32 {
	if size == 0 {
		size = 1
	}
	b := make([]byte, size)
	p := uint32(uintptr(unsafe.Pointer(&b[0])))
	live[p] = b
	return p
}

//go:wasmexport tokenomics_free
func free(ptr uint32) {
	if ptr == lastPtr {
		lastPtr, lastBuf = 0, nil
	}
	delete(live, ptr)
}

//go:wasmexport tokenomics_configure
func configure(id, ptr, n uint32) uint64 {
	return packSlice(disp.configure(id, bytesAt(ptr, n)))
}

//go:wasmexport tokenomics_check
func check(id, phase, flags, ptr, n uint32) uint64 {
	return packSlice(disp.check(id, phase, flags, bytesAt(ptr, n)))
}

//go:wasmexport tokenomics_check_many
func checkMany(phase, ptr, n, listOff uint32) uint64 {
	buf := bytesAt(ptr, n)
	if listOff > uint32(len(buf)) {
		return 0
	}
	return packSlice(disp.checkMany(phase, buf[:listOff], buf[listOff:]))
}

// bytesAt returns n bytes of the buffer at ptr. The host only passes buffers
// it got from tokenomics_alloc, so the lookup also rejects stray pointers
// (nil: the dispatcher then reports a malformed input).
func bytesAt(ptr, n uint32) []byte {
	if n == 0 {
		return nil
	}
	if ptr != lastPtr {
		b, ok := live[ptr]
		if !ok {
			return nil
		}
		lastPtr, lastBuf = ptr, b
	}
	if int(n) > len(lastBuf) {
		return nil
	}
	return lastBuf[:n]
}

var (
	lastPtr uint32
	lastBuf []byte
)

func packSlice(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return abi.Pack(uint32(uintptr(unsafe.Pointer(&b[0]))), uint32(len(b)))
}
