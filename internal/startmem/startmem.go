package startmem

import "runtime/debug"

// Release returns the start's garbage to the OS and unmaps the pages of the
// running binary's code and read-only data (Linux; elsewhere only the
// heap). It reports how many bytes of the binary were unmapped; an error
// means the binary's pages stayed as they were (the heap was still freed).
func Release() (int64, error) {
	debug.FreeOSMemory()
	return releaseBinary()
}
