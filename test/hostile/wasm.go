package hostile

import "encoding/binary"

// Value types and opcodes of the WebAssembly binary format used by the
// hostile modules. Each module's WAT equivalent is written beside it.
const (
	I32 byte = 0x7f
	I64 byte = 0x7e

	opUnreachable = 0x00
	opLoop        = 0x03
	opBlockType   = 0x40 // empty block type
	opEnd         = 0x0b
	opBr          = 0x0c
	opBrIf        = 0x0d
	opCall        = 0x10
	opDrop        = 0x1a
	opLocalGet    = 0x20
	opI32Const    = 0x41
	opI64Const    = 0x42
	opI32Eq       = 0x46
	opMemoryGrow  = 0x40
)

// FuncType is a function signature.
type FuncType struct{ Params, Results []byte }

// Import is an imported function.
type Import struct {
	Module, Name string
	Type         FuncType
}

// Func is a defined function; Export names it ("" keeps it private).
type Func struct {
	Type   FuncType
	Body   []byte // instructions, without the final end
	Export string
	Locals int // i32 locals after the parameters
}

// Data is an active data segment in memory 0.
type Data struct {
	Offset uint32
	Bytes  []byte
}

// Module is a WebAssembly module small enough to write by hand. Functions
// are indexed after the imports, in order.
type Module struct {
	Imports     []Import
	Funcs       []Func
	MemoryPages uint32 // exported as "memory"
	Data        []Data
	Start       int // 1 + index of the start function; 0 for none
}

// Encode returns the binary module.
func (m *Module) Encode() []byte {
	var types []FuncType
	typeIdx := func(t FuncType) uint32 {
		for i, u := range types {
			if string(u.Params) == string(t.Params) && string(u.Results) == string(t.Results) {
				return uint32(i)
			}
		}
		types = append(types, t)
		return uint32(len(types) - 1)
	}
	var imports, funcs, exports, code, data []byte
	imports = uleb(imports, uint32(len(m.Imports)))
	for _, im := range m.Imports {
		imports = name(imports, im.Module)
		imports = name(imports, im.Name)
		imports = append(imports, 0x00)
		imports = uleb(imports, typeIdx(im.Type))
	}
	funcs = uleb(funcs, uint32(len(m.Funcs)))
	nExports := 1
	for _, f := range m.Funcs {
		funcs = uleb(funcs, typeIdx(f.Type))
		if f.Export != "" {
			nExports++
		}
	}
	exports = uleb(exports, uint32(nExports))
	exports = name(exports, "memory")
	exports = append(exports, 0x02, 0x00)
	for i, f := range m.Funcs {
		if f.Export != "" {
			exports = name(exports, f.Export)
			exports = append(exports, 0x00)
			exports = uleb(exports, uint32(len(m.Imports)+i))
		}
	}
	code = uleb(code, uint32(len(m.Funcs)))
	for _, f := range m.Funcs {
		body := []byte{0x00}
		if f.Locals > 0 {
			body = uleb([]byte{0x01}, uint32(f.Locals))
			body = append(body, I32)
		}
		body = append(body, f.Body...)
		body = append(body, opEnd)
		code = uleb(code, uint32(len(body)))
		code = append(code, body...)
	}
	data = uleb(data, uint32(len(m.Data)))
	for _, d := range m.Data {
		data = append(data, 0x00, opI32Const)
		data = sleb(data, int64(int32(d.Offset)))
		data = append(data, opEnd)
		data = uleb(data, uint32(len(d.Bytes)))
		data = append(data, d.Bytes...)
	}
	var typeSec []byte
	typeSec = uleb(typeSec, uint32(len(types)))
	for _, t := range types {
		typeSec = append(typeSec, 0x60)
		typeSec = uleb(typeSec, uint32(len(t.Params)))
		typeSec = append(typeSec, t.Params...)
		typeSec = uleb(typeSec, uint32(len(t.Results)))
		typeSec = append(typeSec, t.Results...)
	}
	mem := uleb([]byte{0x01, 0x00}, max(m.MemoryPages, 1))

	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	out = section(out, 1, typeSec)
	if len(m.Imports) > 0 {
		out = section(out, 2, imports)
	}
	out = section(out, 3, funcs)
	out = section(out, 5, mem)
	out = section(out, 7, exports)
	if m.Start > 0 {
		out = section(out, 8, uleb(nil, uint32(len(m.Imports)+m.Start-1)))
	}
	out = section(out, 10, code)
	if len(m.Data) > 0 {
		out = section(out, 11, data)
	}
	return out
}

func section(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = uleb(out, uint32(len(body)))
	return append(out, body...)
}

func name(out []byte, s string) []byte {
	out = uleb(out, uint32(len(s)))
	return append(out, s...)
}

func uleb(out []byte, v uint32) []byte {
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

func sleb(out []byte, v int64) []byte {
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

// Instruction helpers.

// I32Const is i32.const v.
func I32Const(v int32) []byte { return sleb([]byte{opI32Const}, int64(v)) }

// I64Const is i64.const v.
func I64Const(v int64) []byte { return sleb([]byte{opI64Const}, v) }

// Forever is (loop (br 0)): a guest that never returns.
func Forever() []byte { return []byte{opLoop, opBlockType, opBr, 0x00, opEnd} }

// Unreachable traps.
func Unreachable() []byte { return []byte{opUnreachable} }

// GrowUntilRefused is (loop (br_if 0 (i32.ne (memory.grow 1) -1))) then
// unreachable: it takes every page the host allows, then traps.
func GrowUntilRefused() []byte {
	b := []byte{opLoop, opBlockType}
	b = append(b, I32Const(1)...)
	b = append(b, opMemoryGrow, 0x00)
	b = append(b, I32Const(-1)...)
	b = append(b, opI32Eq)
	b = append(b, 0x45) // i32.eqz: continue while the grow succeeded
	b = append(b, opBrIf, 0x00, opEnd, opUnreachable)
	return b
}

// Packed returns i64.const of abi.Pack(ptr, n).
func Packed(ptr, n uint32) []byte { return I64Const(int64(uint64(ptr)<<32 | uint64(n))) }

func le32(vs ...uint32) []byte {
	out := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		out = binary.LittleEndian.AppendUint32(out, v)
	}
	return out
}
