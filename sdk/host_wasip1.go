//go:build wasip1

package sdk

import "unsafe"

//go:wasmimport tokenomics_v1 log
func hostLog(level uint32, ptr unsafe.Pointer, n uint32)

//go:wasmimport tokenomics_v1 matcher_compile
func hostMatcherCompile(kind, flags uint32, ptr unsafe.Pointer, n uint32) int32

//go:wasmimport tokenomics_v1 matcher_find
func hostMatcherFind(handle int32, flags uint32, text unsafe.Pointer, textLen uint32, out unsafe.Pointer, outCap uint32) int32

//go:wasmimport tokenomics_v1 matcher_find_texts
func hostMatcherFindTexts(handle int32, flags uint32, out unsafe.Pointer, outCap uint32) int32

//go:wasmimport tokenomics_v1 last_error
func hostLastError(ptr unsafe.Pointer, n uint32) uint32

func ptrOf(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

func callLog(level uint32, msg string) {
	b := unsafe.Slice(unsafe.StringData(msg), len(msg))
	hostLog(level, ptrOf(b), uint32(len(b)))
}

func callCompile(kind, flags uint32, blob []byte) int32 {
	return hostMatcherCompile(kind, flags, ptrOf(blob), uint32(len(blob)))
}

func callFind(handle int32, flags uint32, text, out []byte) int32 {
	return hostMatcherFind(handle, flags, ptrOf(text), uint32(len(text)), ptrOf(out), uint32(len(out)/12))
}

func callFindTexts(handle int32, flags uint32, out []byte) int32 {
	return hostMatcherFindTexts(handle, flags, ptrOf(out), uint32(len(out)/16))
}

func callLastError() string {
	var buf [512]byte
	n := hostLastError(unsafe.Pointer(&buf[0]), uint32(len(buf)))
	return string(buf[:min(int(n), len(buf))])
}
