package abi

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// Input layout (host to guest), all integers little-endian uint32 unless noted:
//
//	count
//	count x { offset, length, role u8, kind u8, reserved u16 }   (InputEntrySize bytes)
//	text bytes, concatenated
//
// offset is relative to the start of the Input.
const (
	InputHeaderSize = 4
	InputEntrySize  = 12
)

// Result layout (guest to host):
//
//	flags                 ResultBlock, ResultError
//	count                 number of match records
//	msgOffset, msgLength  block reason or error message, relative to the Result start
//	count x { text, start, end, detector, replOffset, replLength }   (ResultMatchSize bytes)
//	string bytes (reason, replacements)
//
// replOffset is NoReplacement for the host's default replacement.
const (
	ResultHeaderSize = 16
	ResultMatchSize  = 24

	ResultBlock uint32 = 1 << 0
	ResultError uint32 = 1 << 1
)

// CheckList layout (host to guest, after the Input of ExportCheckMany):
//
//	count
//	count x { configuration id, check flags }   (CheckListEntrySize bytes)
//
// Many layout (guest to host, the answer of ExportCheckMany):
//
//	count                 equal to the CheckList's
//	count x { length, Result bytes }   length 0: allow with no findings
//
// Each Result's offsets are relative to its own start.
const (
	CheckListEntrySize = 8
	ManyHeaderSize     = 4
)

// Configure result layout (guest to host):
//
//	status                ConfigOK or ConfigError
//	ConfigError: the rest is the error message.
//	ConfigOK:    maxMatch, count, count x { length, bytes }  (detector names)
//
// maxMatch is the longest match the configuration can produce (bytes); the
// host holds back that many bytes of a stream. 0 lets the host derive it from
// the matchers the guest compiled.
const (
	ConfigOK    uint32 = 0
	ConfigError uint32 = 1
)

// Role codes of an Input entry.
const (
	RoleOther uint8 = iota
	RoleSystem
	RoleUser
	RoleAssistant
	RoleTool
	RoleDeveloper
)

// Kind codes of an Input entry.
const (
	KindOther      uint8 = iota
	KindMessage          // message content
	KindToolCall         // tool call arguments
	KindToolResult       // tool result content
	KindDelta            // streamed output
	KindPrompt           // policy prompt injected by the proxy
)

var roleNames = [...]string{"", "system", "user", "assistant", "tool", "developer"}
var kindNames = [...]string{"", "message", "tool_call", "tool_result", "delta", "prompt"}

// RoleCode maps a role name to its code (RoleOther when unknown).
func RoleCode(s string) uint8 { return lookup(roleNames[:], s) }

// RoleName maps a role code to its name ("" when unknown).
func RoleName(c uint8) string { return name(roleNames[:], c) }

// KindCode maps a kind name to its code (KindOther when unknown).
func KindCode(s string) uint8 { return lookup(kindNames[:], s) }

// KindName maps a kind code to its name ("" when unknown).
func KindName(c uint8) string { return name(kindNames[:], c) }

func lookup(names []string, s string) uint8 {
	for i := 1; i < len(names); i++ {
		if names[i] == s {
			return uint8(i)
		}
	}
	return 0
}

func name(names []string, c uint8) string {
	if int(c) < len(names) {
		return names[c]
	}
	return ""
}

// U32 reads a little-endian uint32 at off.
func U32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }

// PutU32 writes a little-endian uint32 at off.
func PutU32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }

// AppendU32 appends a little-endian uint32.
func AppendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

// EncodeList encodes a list of strings for FuncMatcherCompile:
// count, then count x { length, bytes }.
func EncodeList(dst []byte, items []string) []byte {
	dst = AppendU32(dst, uint32(len(items)))
	for _, s := range items {
		dst = AppendU32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// DecodeList is the inverse of EncodeList. ok is false on a malformed blob.
func DecodeList(b []byte) (items []string, ok bool) {
	if len(b) < 4 {
		return nil, false
	}
	n := int(U32(b, 0))
	off := 4
	if n < 0 || n > len(b) {
		return nil, false
	}
	items = make([]string, 0, n)
	for i := 0; i < n; i++ {
		if off+4 > len(b) {
			return nil, false
		}
		l := int(U32(b, off))
		off += 4
		if l < 0 || l > len(b)-off {
			return nil, false
		}
		items = append(items, string(b[off:off+l]))
		off += l
	}
	return items, off == len(b)
}

// Typed configuration layout (host to guest), for a module that serves
// several rule types (the built-in module, whose plugins register with
// sdk.RegisterType):
//
//	type name bytes, 0, the rule's config blob
//
// The host frames configurations this way only for a module it knows serves
// types; a plugin registered with sdk.Register gets the config blob alone.

// AppendTypedConfig appends the typed configuration of config for typ.
func AppendTypedConfig(dst []byte, typ string, config []byte) []byte {
	dst = append(dst, typ...)
	dst = append(dst, 0)
	return append(dst, config...)
}

// SplitTypedConfig is the inverse of AppendTypedConfig. ok is false when
// blob holds no type.
func SplitTypedConfig(blob []byte) (typ string, config []byte, ok bool) {
	for i, c := range blob {
		if c == 0 {
			return string(blob[:i]), blob[i+1:], i > 0
		}
	}
	return "", nil, false
}

// Built-in rule configurations (host to the built-in module, after the type)
// are an EncodeList of key, value pairs; a list field repeats its key. The
// built-in module decodes them without encoding/json, which would add about
// 1.5 MB to the module (and 5 MB of compiled code on every proxy).

// AppendField appends one key, value pair to fields, the items of an
// EncodeList.
func AppendField(fields []string, key, value string) []string {
	return append(fields, key, value)
}

// DecodeFields decodes the pairs of b in order, calling f for each; f
// returns false for a key it does not know.
func DecodeFields(b []byte, f func(key, value string) bool) error {
	items, ok := DecodeList(b)
	if !ok || len(items)%2 != 0 {
		return errMalformedFields
	}
	for i := 0; i < len(items); i += 2 {
		if !f(items[i], items[i+1]) {
			return &UnknownFieldError{Key: items[i]}
		}
	}
	return nil
}

// UnknownFieldError is a configuration key the built-in plugin does not know.
type UnknownFieldError struct{ Key string }

func (e *UnknownFieldError) Error() string { return "unknown field " + strconv.Quote(e.Key) }

var errMalformedFields = errors.New("abi: malformed configuration fields")
