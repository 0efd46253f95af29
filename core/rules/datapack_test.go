package rules

import (
	"bytes"
	"context"
	"encoding/binary"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
)

// seg is one data segment of a test module: flag 0 (active, memory 0)
// unless passive.
type seg struct {
	off     int32
	data    string
	passive bool
}

// testModule builds a module with one memory of pages pages, exported as
// "mem", and segs as its data section; dataCount adds a data count section.
func testModule(pages byte, dataCount bool, segs ...seg) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, 5, 3, 1, 0, pages)               // memory section: one memory, min pages
	m = append(m, 7, 7, 1, 3, 'm', 'e', 'm', 2, 0) // export section: "mem", memory 0
	if dataCount {
		m = append(m, wasmSectionDataCount, 1, byte(len(segs)))
	}
	body := binary.AppendUvarint(nil, uint64(len(segs)))
	for _, s := range segs {
		if s.passive {
			body = append(body, 1)
		} else {
			body = append(body, 0, wasmOpI32Const)
			body = appendSleb(body, int64(s.off))
			body = append(body, wasmOpEnd)
		}
		body = binary.AppendUvarint(body, uint64(len(s.data)))
		body = append(body, s.data...)
	}
	m = append(m, wasmSectionData)
	m = binary.AppendUvarint(m, uint64(len(body)))
	return append(m, body...)
}

// memoryAfter instantiates wasm with wazero's interpreter and returns its
// memory, or the instantiation error.
func memoryAfter(t *testing.T, wasm []byte) ([]byte, error) {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		return nil, err
	}
	mem, ok := mod.Memory().Read(0, mod.Memory().Size())
	require.True(t, ok)
	return bytes.Clone(mem), nil
}

func TestPackData(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wasm     []byte
		segments int // after packing; 0: returned unchanged
	}{
		{"gap within limit", testModule(1, false, seg{off: 10, data: "ab"}, seg{off: 15, data: "cd"}), 1},
		{"adjacent", testModule(1, false, seg{off: 10, data: "ab"}, seg{off: 12, data: "cd"}, seg{off: 14, data: "e"}), 1},
		{"out of order", testModule(1, false, seg{off: 100, data: "x"}, seg{off: 10, data: "ab"}, seg{off: 13, data: "c"}), 2},
		{"large offset", testModule(2, false, seg{off: 70000, data: "y"}, seg{off: 70002, data: "z"}), 1},
		{"gap too long", testModule(1, false, seg{off: 10, data: "ab"}, seg{off: 12 + packGap + 1, data: "cd"}), 0},
		{"overlapping", testModule(1, false, seg{off: 10, data: "abcd"}, seg{off: 12, data: "XY"}), 0},
		{"same offset", testModule(1, false, seg{off: 10, data: "ab"}, seg{off: 10, data: "XY"}), 0},
		{"passive segment", testModule(1, true, seg{off: 10, data: "ab"}, seg{data: "cd", passive: true}), 0},
		{"data count section", testModule(1, true, seg{off: 10, data: "ab"}, seg{off: 12, data: "cd"}), 0},
		{"one segment", testModule(1, false, seg{off: 10, data: "ab"}), 0},
		{"out of bounds", testModule(1, false, seg{off: 65534, data: "ab"}, seg{off: 65536, data: "c"}), 1},
		{"negative offset", testModule(1, false, seg{off: -1, data: "ab"}, seg{off: 2, data: "c"}), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			packed := packData(tc.wasm, packGap)
			if tc.segments == 0 {
				assert.Same(t, &tc.wasm[0], &packed[0], "returned unchanged")
				return
			}
			start, end, ok := dataSection(packed)
			require.True(t, ok)
			segs, ok := readDataSegs(packed[start:end])
			require.True(t, ok)
			assert.Len(t, segs, tc.segments)
			want, wantErr := memoryAfter(t, tc.wasm)
			got, gotErr := memoryAfter(t, packed)
			if wantErr != nil {
				assert.Error(t, gotErr, "a module that does not instantiate still does not")
				return
			}
			require.NoError(t, gotErr)
			assert.True(t, bytes.Equal(want, got), "memory after instantiation is the same")
		})
	}
}

// TestPackDataNotWasm: bytes that are not a module in the rewritten shape
// come back as they are.
func TestPackDataNotWasm(t *testing.T) {
	full := testModule(1, false, seg{off: 10, data: "ab"}, seg{off: 12, data: "cd"})
	for _, b := range [][]byte{nil, []byte("\x00asm"), []byte("not wasm at all"), full[:len(full)-1], append(bytes.Clone(full), 0)} {
		assert.Equal(t, b, packData(b, packGap))
	}
}

// TestPackDataBuiltin: the built-in module's memory image is the same
// after packing, with far fewer segments.
func TestPackDataBuiltin(t *testing.T) {
	wasm, err := fs.ReadFile(builtinsFS(t), builtinModuleName+".wasm")
	require.NoError(t, err)
	packed := packData(wasm, packGap)
	before, after := imageOf(t, wasm), imageOf(t, packed)
	assert.True(t, bytes.Equal(before, after), "same memory image")
	start, end, ok := dataSection(packed)
	require.True(t, ok)
	segs, ok := readDataSegs(packed[start:end])
	require.True(t, ok)
	assert.Less(t, len(segs), 1000, "segments after packing")
	// Everything outside the data section is untouched.
	ws, we, _ := dataSection(wasm)
	assert.Equal(t, wasm[we:], packed[end:])
	assert.Equal(t, wasm[:sectionHeaderStart(wasm, ws)], packed[:sectionHeaderStart(packed, start)])
}

// imageOf applies a module's data segments, in order, to a blank memory.
func imageOf(t *testing.T, wasm []byte) []byte {
	t.Helper()
	start, end, ok := dataSection(wasm)
	require.True(t, ok)
	segs, ok := readDataSegs(wasm[start:end])
	require.True(t, ok)
	var img []byte
	for _, s := range segs {
		if e := int(s.off) + len(s.init); e > len(img) {
			img = append(img, make([]byte, e-len(img))...)
		}
		copy(img[s.off:], s.init)
	}
	return img
}

// FuzzPackData: packing never panics, and whatever it rewrites
// instantiates to the same memory as the original.
func FuzzPackData(f *testing.F) {
	f.Add(testModule(1, false, seg{off: 10, data: "ab"}, seg{off: 15, data: "cd"}))
	f.Add(testModule(1, false, seg{off: 100, data: "x"}, seg{off: 10, data: "ab"}, seg{off: 13, data: "c"}))
	f.Add(testModule(1, false, seg{off: 65534, data: "ab"}, seg{off: 65536, data: "c"}))
	f.Add(testModule(1, true, seg{off: 10, data: "ab"}))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		packed := packData(wasm, packGap)
		if len(packed) == len(wasm) && bytes.Equal(packed, wasm) {
			return
		}
		want, wantErr := memoryAfter(t, wasm)
		got, gotErr := memoryAfter(t, packed)
		if wantErr != nil {
			if gotErr == nil {
				t.Fatalf("original fails (%v), packed instantiates", wantErr)
			}
			return
		}
		if gotErr != nil {
			t.Fatalf("original instantiates, packed fails: %v", gotErr)
		}
		if !bytes.Equal(want, got) {
			t.Fatal("memory differs after packing")
		}
	})
}
