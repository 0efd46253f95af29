package abi

// Names of the guest's exports and of the host's import module.
const (
	// ExportMarker is an exported function () -> () whose presence declares ABI v1.
	ExportMarker = "tokenomics_abi_v1"
	// ExportAlloc is (size i32) -> (ptr i32): a buffer the guest keeps alive
	// until ExportFree is called with ptr. 0 means out of memory.
	ExportAlloc = "tokenomics_alloc"
	// ExportFree is (ptr i32) -> (): releases a buffer from ExportAlloc.
	ExportFree = "tokenomics_free"
	// ExportConfigure is (id i32, ptr i32, len i32) -> (packed i64): prepares
	// configuration id from the config blob at ptr. The answer is a Configure
	// result (see ConfigOK) at Unpack(packed).
	ExportConfigure = "tokenomics_configure"
	// ExportCheck is (id i32, phase i32, flags i32, ptr i32, len i32) -> (packed i64):
	// checks the Input at ptr with configuration id. 0 means allow with no
	// findings; otherwise Unpack(packed) locates a Result.
	ExportCheck = "tokenomics_check"
	// ExportCheckMany is (phase i32, ptr i32, len i32, listOffset i32) ->
	// (packed i64), optional: checks one Input with several configurations
	// in one call. The buffer at ptr holds the Input in [0, listOffset) and
	// a CheckList in [listOffset, len); Unpack(packed) locates a Many
	// result. A host uses it for consecutive rules served by one module.
	ExportCheckMany = "tokenomics_check_many"
	// ExportMemory is the exported linear memory.
	ExportMemory = "memory"

	// ImportModule is the module name of the host functions of ABI v1.
	ImportModule = "tokenomics_v1"
	// WASIModule is the only other import module a guest may use.
	WASIModule = "wasi_snapshot_preview1"
)

// Host functions in ImportModule. All parameters and results are i32.
const (
	// FuncLog is (level, ptr, len) -> (): writes a log line at level.
	FuncLog = "log"
	// FuncMatcherCompile is (kind, flags, ptr, len) -> (handle): compiles a
	// pattern list (see EncodeList) into a host-side matcher. A negative result
	// is an error; FuncLastError tells which.
	FuncMatcherCompile = "matcher_compile"
	// FuncMatcherFind is (handle, flags, textPtr, textLen, outPtr, outCap) -> (total):
	// scans the text and writes min(total, outCap) Match records at outPtr.
	// total may exceed outCap; the guest then retries with a larger buffer.
	FuncMatcherFind = "matcher_find"
	// FuncMatcherFindTexts is (handle, flags, outPtr, outCap) -> (total):
	// FuncMatcherFind over every text of the Input being checked, in order,
	// in one call; it writes TextMatch records. With FindFirst it reports at
	// most the first match of each text. Outside a check it answers -1.
	FuncMatcherFindTexts = "matcher_find_texts"
	// FuncLastError is (ptr, cap) -> (len): copies the last host error message
	// of this instance and returns its full length.
	FuncLastError = "last_error"
)

// Matcher kinds for FuncMatcherCompile.
const (
	// MatcherRegex compiles each list entry as an RE2 regular expression.
	MatcherRegex uint32 = 1
	// MatcherKeywords compiles the list entries as literal keywords.
	MatcherKeywords uint32 = 2
)

// Flags for FuncMatcherCompile (keywords only).
const (
	// KeywordCaseInsensitive folds ASCII letters when matching.
	KeywordCaseInsensitive uint32 = 1 << 0
	// KeywordWholeWord requires a word boundary on both sides of a match.
	KeywordWholeWord uint32 = 1 << 1
)

// Flags for FuncMatcherFind and ExportCheck.
const (
	// FindFirst stops after the first match: enough when any match blocks.
	FindFirst uint32 = 1 << 0
	// CheckFirst tells the guest that one match decides (a blocking rule),
	// so it may stop early.
	CheckFirst uint32 = 1 << 0
)

// Log levels for FuncLog.
const (
	LevelDebug uint32 = 1
	LevelInfo  uint32 = 2
	LevelWarn  uint32 = 3
	LevelError uint32 = 4
)

// Phase values for ExportCheck.
const (
	PhaseInput  uint32 = 1
	PhaseOutput uint32 = 2
)

// MatchRecordSize is the size of one FuncMatcherFind record:
// start u32, end u32, index u32 (which pattern or keyword matched).
const MatchRecordSize = 12

// TextMatchRecordSize is the size of one FuncMatcherFindTexts record:
// text u32 (an index into the Input's texts), start u32, end u32, index u32.
const TextMatchRecordSize = 16

// NoReplacement in a Result match's replacement offset asks the host for its
// default replacement ("[REDACTED:<detector>]").
const NoReplacement = 0xFFFFFFFF

// Pack puts a guest pointer and length into the i64 returned by
// ExportConfigure and ExportCheck.
func Pack(ptr, n uint32) uint64 { return uint64(ptr)<<32 | uint64(n) }

// Unpack is the inverse of Pack.
func Unpack(v uint64) (ptr, n uint32) { return uint32(v >> 32), uint32(v) }
