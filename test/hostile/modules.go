package hostile

import "github.com/tokenomics-dev/tokenomics/sdk/abi"

// Memory layout of every module: results from 1024, the input buffer the
// host fills at inputBase (tokenomics_alloc always returns it).
const (
	resultBase = 1024
	inputBase  = 4 << 16
	pages      = 6 // 384 KiB: the input buffer holds up to 128 KiB
)

var (
	sigAlloc     = FuncType{Params: []byte{I32}, Results: []byte{I32}}
	sigFree      = FuncType{Params: []byte{I32}}
	sigConfigure = FuncType{Params: []byte{I32, I32, I32}, Results: []byte{I64}}
	sigCheck     = FuncType{Params: []byte{I32, I32, I32, I32, I32}, Results: []byte{I64}}
	sigVoid      = FuncType{}
)

// configureOK is the Configure result at offset 0: ok, longest match 16,
// detectors ["w"].
var configureOK = le32(abi.ConfigOK, 16, 1, 1)

const configureLen = 17

// base is a well-behaved module whose check runs checkBody:
//
//	(module
//	  (memory (export "memory") 6)
//	  (data (i32.const 0) "\00\00\00\00\10\00\00\00\01\00\00\00\01\00\00\00w")
//	  (func (export "tokenomics_abi_v1"))
//	  (func (export "tokenomics_alloc") (param i32) (result i32) (i32.const 262144))
//	  (func (export "tokenomics_free") (param i32))
//	  (func (export "tokenomics_configure") (param i32 i32 i32) (result i64)
//	    (i64.const 17))                                  ;; Pack(0, 17)
//	  (func (export "tokenomics_check") (param i32 i32 i32 i32 i32) (result i64)
//	    checkBody))
func base(checkBody []byte, result []byte) *Module {
	m := &Module{
		MemoryPages: pages,
		Data:        []Data{{Offset: 0, Bytes: append(configureOK, 'w')}},
		Funcs: []Func{
			{Type: sigVoid, Export: abi.ExportMarker},
			{Type: sigAlloc, Export: abi.ExportAlloc, Body: I32Const(inputBase)},
			{Type: sigFree, Export: abi.ExportFree},
			{Type: sigConfigure, Export: abi.ExportConfigure, Body: Packed(0, configureLen)},
			{Type: sigCheck, Export: abi.ExportCheck, Body: checkBody},
		},
	}
	if result != nil {
		m.Data = append(m.Data, Data{Offset: resultBase, Bytes: result})
	}
	return m
}

// withResult is a module whose check always returns result.
func withResult(result []byte) *Module {
	return base(Packed(resultBase, uint32(len(result))), result)
}

// header is a Result header.
func header(flags, count, msgOff, msgLen uint32) []byte { return le32(flags, count, msgOff, msgLen) }

// match is a Result match record.
func match(text, start, end, det, replOff, replLen uint32) []byte {
	return le32(text, start, end, det, replOff, replLen)
}

// Case is one hostile module and what it attacks.
type Case struct {
	Name string
	What string
	Wasm []byte
	// LoadFails: the host refuses the module at load (compile, ABI check or
	// start function), so rules using it never run.
	LoadFails bool
}

// Allow is a well-behaved module that allows everything: (i64.const 0).
func Allow() []byte { return base(I64Const(0), nil).Encode() }

// Slow spins n iterations per check, then allows:
//
//	(local $i i32) (local.set $i (i32.const n))
//	(loop (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if 0 (local.get $i)))
//	(i64.const 0)
func Slow(n int32) []byte {
	body := append(I32Const(n), 0x21, 5) // local.set 5 (after the 5 params)
	body = append(body, opLoop, opBlockType, opLocalGet, 5)
	body = append(body, I32Const(1)...)
	body = append(body, 0x6b, 0x21, 5, opLocalGet, 5, opBrIf, 0x00, opEnd) // i32.sub, local.set, br_if
	body = append(body, I64Const(0)...)
	m := base(body, nil)
	m.Funcs[4].Locals = 1
	return m.Encode()
}

// Cases returns every hostile module of the suite.
func Cases() []Case {
	var cs []Case
	add := func(name, what string, m *Module, loadFails bool) {
		cs = append(cs, Case{Name: name, What: what, Wasm: m.Encode(), LoadFails: loadFails})
	}

	// (func $check ... (loop (br 0)) unreachable)
	add("loop_call", "a check that never returns", base(append(Forever(), Unreachable()...), nil), false)
	// (func $check ... unreachable)
	add("trap", "a check that traps", base(Unreachable(), nil), false)
	// (loop (br_if 0 (i32.eqz (i32.eq (memory.grow 1) -1)))) unreachable
	add("grow", "a check that takes all memory, then traps", base(GrowUntilRefused(), nil), false)
	// (i64.const 0xFFFF000000000040): a result past the end of memory
	add("result_out_of_memory", "a result pointer outside guest memory", base(Packed(0xFFFF0000, 64), nil), false)
	add("span_out_of_range", "a match ending past its text",
		withResult(append(header(0, 1, 0, 0), match(0, 0, 1_000_000, 0, abi.NoReplacement, 0)...)), false)
	add("text_out_of_range", "a match in a text that does not exist",
		withResult(append(header(0, 1, 0, 0), match(7, 0, 1, 0, abi.NoReplacement, 0)...)), false)
	add("detector_out_of_range", "a match naming an unknown detector",
		withResult(append(header(0, 1, 0, 0), match(0, 0, 1, 9, abi.NoReplacement, 0)...)), false)
	add("count_lies", "a match count larger than the result",
		withResult(header(0, 1_000_000, 0, 0)), false)
	// A 100 KB replacement for one byte: past the per-replacement cap.
	add("huge_replacement", "one replacement of 100 KB",
		withResult(append(header(0, 1, 0, 0), match(0, 0, 1, 0, 40, 100_000)...)), false)
	// 5000 default replacements of an empty span: past the per-check growth cap.
	many := header(0, 5000, 0, 0)
	for range 5000 {
		many = append(many, match(0, 0, 0, 0, abi.NoReplacement, 0)...)
	}
	add("many_replacements", "5000 replacements for a short text", withResult(many), false)
	// Block with a 5000-byte reason: past the reason cap.
	add("huge_reason", "a block reason of 5000 bytes", withResult(header(abi.ResultBlock, 0, 16, 5000)), false)
	// An error result whose message imitates a Go panic with a stack trace.
	panicMsg := "panic: runtime error: index out of range\n\ngoroutine 1 [running]:\nmain.check(0x10)\n\t/src/main.go:42 +0x1d\nwasm stack trace:\n\t.$42(i32)"
	add("error_result", "an error result with panic text",
		withResult(append(header(abi.ResultError, 0, 16, uint32(len(panicMsg))), panicMsg...)), false)
	// configure traps: no configuration can be prepared.
	cfgTrap := base(I64Const(0), nil)
	cfgTrap.Funcs[3].Body = Unreachable()
	add("configure_trap", "a configure that traps", cfgTrap, false)

	// Start section that loops: (start $spin) (func $spin (loop (br 0)))
	loopStart := base(I64Const(0), nil)
	loopStart.Funcs = append(loopStart.Funcs, Func{Type: sigVoid, Body: Forever()})
	loopStart.Start = len(loopStart.Funcs)
	add("loop_start", "a start section that never returns", loopStart, true)
	// (func (export "_initialize") (loop (br 0)))
	loopInit := base(I64Const(0), nil)
	loopInit.Funcs = append(loopInit.Funcs, Func{Type: sigVoid, Body: Forever(), Export: "_initialize"})
	add("loop_initialize", "an _initialize that never returns", loopInit, true)
	// (start $t) (func $t unreachable)
	trapStart := base(I64Const(0), nil)
	trapStart.Funcs = append(trapStart.Funcs, Func{Type: sigVoid, Body: Unreachable()})
	trapStart.Start = len(trapStart.Funcs)
	add("trap_start", "a start section that traps", trapStart, true)
	// (import "tokenomics_v1" "spawn_shell" (func))
	unknown := base(I64Const(0), nil)
	unknown.Imports = []Import{{Module: abi.ImportModule, Name: "spawn_shell", Type: sigVoid}}
	add("unknown_host_import", "an import of a host function that does not exist", unknown, true)
	// (import "env" "socket" (func))
	foreign := base(I64Const(0), nil)
	foreign.Imports = []Import{{Module: "env", Name: "socket", Type: sigVoid}}
	add("foreign_import", "an import from a module other than the ABI's and WASI", foreign, true)
	// (func (export "tokenomics_abi_v2"))
	v2 := base(I64Const(0), nil)
	v2.Funcs[0].Export = "tokenomics_abi_v2"
	add("wrong_abi", "a module speaking ABI v2", v2, true)
	// (func (export "tokenomics_check") (param i32) (result i64) ...)
	badSig := base(I64Const(0), nil)
	badSig.Funcs[4].Type = FuncType{Params: []byte{I32}, Results: []byte{I64}}
	add("bad_signature", "tokenomics_check with the wrong signature", badSig, true)
	return cs
}

// Overlapping returns a module whose check masks three overlapping spans,
// [0,5), [2,8) and [1,3), with default replacements: the host merges them.
func Overlapping() []byte {
	r := header(0, 3, 0, 0)
	r = append(r, match(0, 0, 5, 0, abi.NoReplacement, 0)...)
	r = append(r, match(0, 2, 8, 0, abi.NoReplacement, 0)...)
	r = append(r, match(0, 1, 3, 0, abi.NoReplacement, 0)...)
	return withResult(r).Encode()
}

// ControlReason returns a module that blocks with a reason full of control
// characters and a forged log line: the host sanitizes it.
func ControlReason() []byte {
	msg := "bad\x1b[31m\r\nlevel=INFO msg=\"all good\"\u202e"
	return withResult(append(header(abi.ResultBlock, 0, 16, uint32(len(msg))), msg...)).Encode()
}

// AllowTagged is Allow with tag as a data segment at 8192, so distinct tags
// give distinct valid modules (distinct sha256).
func AllowTagged(tag string) []byte {
	m := base(I64Const(0), nil)
	m.Data = append(m.Data, Data{Offset: 8192, Bytes: []byte(tag)})
	return m.Encode()
}

// Replace1000 masks the first byte of the first text with 1000 bytes of
// 'x': within the host's per-replacement cap, so only the proxy's body cap
// (server.max_body_bytes) can stop it.
func Replace1000() []byte {
	r := append(header(0, 1, 0, 0), match(0, 0, 1, 0, 40, 1000)...)
	for range 1000 {
		r = append(r, 'x')
	}
	return withResult(r).Encode()
}

// Block returns a well-behaved module that blocks every check with reason.
func Block(reason string) []byte {
	return withResult(append(header(abi.ResultBlock, 0, 16, uint32(len(reason))), reason...)).Encode()
}
