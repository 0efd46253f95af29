package rules

import (
	"encoding/binary"
	"slices"
)

// packGap is the longest run of zero bytes packData folds into a merged
// data segment. A segment costs wazero about 90 bytes of Go heap for the
// module's life (its struct, offset expression and init slice) plus 24
// bytes per instance; Go's linker ends a segment at every run of 8 or more
// zeros, so the built-in module has 25,931 segments for 650 KB of data
// (2.4 MB of heap, and 620 KB more per instance). Folding gaps of up to 32
// bytes leaves 112 segments and 1.1 MB of data.
const packGap = 32

// Section ids and opcodes of the WebAssembly binary format that packData
// reads.
const (
	wasmSectionData      = 11
	wasmSectionDataCount = 12
	wasmOpI32Const       = 0x41
	wasmOpEnd            = 0x0b
)

// dataSeg is one active data segment of memory 0: init is a slice of the
// module's bytes.
type dataSeg struct {
	off  uint32
	init []byte
}

// packData returns wasm with adjacent active data segments merged where at
// most maxGap zero bytes lie between them, or wasm itself when there is
// nothing to merge or the module is not in the one shape it rewrites:
// every segment active on memory 0 at an i32.const offset, no two
// overlapping, no data count section (without one no instruction can name
// a segment). Memory after instantiation is the same byte for byte: a gap
// is zeros in a fresh memory and no other segment writes into it, and a
// merged segment ends where its last part did, so the bounds check fails
// exactly when one of the parts' did. The module is not validated here;
// wazero validates what it is given.
func packData(wasm []byte, maxGap uint32) []byte {
	start, end, ok := dataSection(wasm)
	if !ok {
		return wasm
	}
	segs, ok := readDataSegs(wasm[start:end])
	if !ok || len(segs) < 2 {
		return wasm
	}
	slices.SortStableFunc(segs, func(a, b dataSeg) int {
		switch {
		case a.off < b.off:
			return -1
		case a.off > b.off:
			return 1
		}
		return 0
	})
	runs := 1
	for i := 1; i < len(segs); i++ {
		prevEnd := uint64(segs[i-1].off) + uint64(len(segs[i-1].init))
		if uint64(segs[i].off) < prevEnd {
			return wasm // overlapping: the later one wins, keep the order
		}
		if uint64(segs[i].off)-prevEnd > uint64(maxGap) {
			runs++
		}
	}
	if runs == len(segs) {
		return wasm
	}

	var body []byte
	body = binary.AppendUvarint(body, uint64(runs))
	for i := 0; i < len(segs); {
		j, runEnd := i+1, uint64(segs[i].off)+uint64(len(segs[i].init))
		for j < len(segs) && uint64(segs[j].off)-runEnd <= uint64(maxGap) {
			runEnd = uint64(segs[j].off) + uint64(len(segs[j].init))
			j++
		}
		body = append(body, 0, wasmOpI32Const)
		body = appendSleb(body, int64(segs[i].off))
		body = append(body, wasmOpEnd)
		body = binary.AppendUvarint(body, runEnd-uint64(segs[i].off))
		base := len(body)
		body = append(body, make([]byte, runEnd-uint64(segs[i].off))...)
		for _, s := range segs[i:j] {
			copy(body[base+int(s.off-segs[i].off):], s.init)
		}
		i = j
	}

	// Section id and size in front of the new body; the header byte's
	// position is start minus the id byte and the old size's LEB length.
	hdr := sectionHeaderStart(wasm, start)
	out := make([]byte, 0, len(wasm)-(end-hdr)+len(body)+6)
	out = append(out, wasm[:hdr]...)
	out = append(out, wasmSectionData)
	out = binary.AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	return append(out, wasm[end:]...)
}

// dataSection finds the data section's contents, wasm[start:end]; ok is
// false when the module has none, has a data count section, or does not
// parse as a sequence of sections.
func dataSection(wasm []byte) (start, end int, ok bool) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return 0, 0, false
	}
	found := false
	for p := 8; p < len(wasm); {
		id := wasm[p]
		size, n := uvarint32(wasm[p+1:])
		if n == 0 || uint64(p+1+n)+uint64(size) > uint64(len(wasm)) {
			return 0, 0, false
		}
		body := p + 1 + n
		switch id {
		case wasmSectionDataCount:
			return 0, 0, false
		case wasmSectionData:
			if found {
				return 0, 0, false
			}
			start, end, found = body, body+int(size), true
		}
		p = body + int(size)
	}
	return start, end, found
}

// sectionHeaderStart is the position of the id byte of the section whose
// contents start at start (sections are found by walking from the front,
// so this walks again rather than decoding a LEB backwards).
func sectionHeaderStart(wasm []byte, start int) int {
	for p := 8; p < len(wasm); {
		size, n := uvarint32(wasm[p+1:])
		if p+1+n == start {
			return p
		}
		p += 1 + n + int(size)
	}
	return start // unreachable: start came from dataSection
}

// readDataSegs decodes a data section's contents; ok is false for any
// segment packData does not rewrite, or trailing bytes.
func readDataSegs(b []byte) (segs []dataSeg, ok bool) {
	count, n := uvarint32(b)
	if n == 0 || uint64(count) > uint64(len(b)) {
		return nil, false
	}
	b = b[n:]
	segs = make([]dataSeg, 0, count)
	for range count {
		// flag 0: active, memory 0, offset expression, bytes.
		if len(b) < 2 || b[0] != 0 || b[1] != wasmOpI32Const {
			return nil, false
		}
		off, n := sleb32(b[2:])
		if n == 0 || off < 0 {
			return nil, false
		}
		b = b[2+n:]
		if len(b) < 1 || b[0] != wasmOpEnd {
			return nil, false
		}
		size, n := uvarint32(b[1:])
		if n == 0 || uint64(1+n)+uint64(size) > uint64(len(b)) {
			return nil, false
		}
		segs = append(segs, dataSeg{off: uint32(off), init: b[1+n : 1+n+int(size)]})
		b = b[1+n+int(size):]
	}
	return segs, len(b) == 0
}

// uvarint32 decodes an unsigned LEB128 of at most 5 bytes; n is 0 when b
// does not start with one.
func uvarint32(b []byte) (v uint32, n int) {
	x, n := binary.Uvarint(b)
	if n <= 0 || n > 5 || x > 1<<32-1 {
		return 0, 0
	}
	return uint32(x), n
}

// sleb32 decodes a signed LEB128 of at most 5 bytes (an i32.const
// immediate); n is 0 when b does not start with one.
func sleb32(b []byte) (v int32, n int) {
	var x int64
	var shift uint
	for n < len(b) && n < 5 {
		c := b[n]
		n++
		x |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if c&0x40 != 0 {
				x |= -1 << shift
			}
			if x < -1<<31 || x > 1<<31-1 {
				return 0, 0
			}
			return int32(x), n
		}
	}
	return 0, 0
}

// appendSleb appends v as a signed LEB128.
func appendSleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
