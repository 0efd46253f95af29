package sdk

import (
	"errors"

	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

// Regex is a set of RE2 patterns compiled and run by the host (Go regexp
// syntax, linear time). Compile it in Configure, use it in Check.
type Regex struct{ handle int32 }

// CompileRegex compiles patterns into one host-side matcher. Find reports
// which pattern matched in Match.Index.
func CompileRegex(patterns ...string) (*Regex, error) {
	h, err := compileMatcher(abi.MatcherRegex, 0, patterns)
	if err != nil {
		return nil, &wrapError{"compiling regex", err}
	}
	return &Regex{handle: h}, nil
}

// Find appends to dst the matches of every pattern in text: for each pattern
// its leftmost non-overlapping matches, ordered by pattern then position.
// With first set it stops after one match.
func (r *Regex) Find(text []byte, first bool, dst []Match) []Match {
	return find(r.handle, first, text, dst)
}

// FindIn is Find over every text of req, the request being checked, in one
// host call: matches are ordered by text (Match.Text), then as Find orders
// them. With first set it reports at most the first match of each text.
func (r *Regex) FindIn(req *Request, first bool, dst []Match) []Match {
	return findTexts(r.handle, first, dst)
}

// KeywordOptions tune CompileKeywords.
type KeywordOptions struct {
	CaseSensitive bool // default: ASCII letters fold
	WholeWord     bool // require a non-word byte or the text edge on both sides
}

// Keywords is a multi-keyword matcher run by the host.
type Keywords struct{ handle int32 }

// CompileKeywords compiles words into one host-side matcher; Match.Index is
// the index of the keyword in words.
func CompileKeywords(words []string, opts KeywordOptions) (*Keywords, error) {
	var flags uint32
	if !opts.CaseSensitive {
		flags |= abi.KeywordCaseInsensitive
	}
	if opts.WholeWord {
		flags |= abi.KeywordWholeWord
	}
	h, err := compileMatcher(abi.MatcherKeywords, flags, words)
	if err != nil {
		return nil, &wrapError{"compiling keywords", err}
	}
	return &Keywords{handle: h}, nil
}

// Find appends to dst every keyword occurrence in text, ordered by end
// position. With first set it stops after one.
func (k *Keywords) Find(text []byte, first bool, dst []Match) []Match {
	return find(k.handle, first, text, dst)
}

// FindIn is Find over every text of req, the request being checked, in one
// host call: occurrences are ordered by text (Match.Text), then by end.
// With first set it reports at most the first of each text.
func (k *Keywords) FindIn(req *Request, first bool, dst []Match) []Match {
	return findTexts(k.handle, first, dst)
}

func compileMatcher(kind, flags uint32, items []string) (int32, error) {
	h := callCompile(kind, flags, abi.EncodeList(nil, items))
	if h < 0 {
		return 0, errors.New(callLastError())
	}
	return h, nil
}

// findBuf is the guest-side buffer the host writes match records into.
var findBuf = make([]byte, 64*abi.MatchRecordSize)

func find(handle int32, first bool, text []byte, dst []Match) []Match {
	var flags uint32
	if first {
		flags = abi.FindFirst
	}
	n := callFind(handle, flags, text, findBuf)
	if n < 0 {
		return dst
	}
	if int(n)*abi.MatchRecordSize > len(findBuf) {
		findBuf = make([]byte, int(n)*abi.MatchRecordSize)
		n = callFind(handle, flags, text, findBuf)
	}
	for i := 0; i < int(n); i++ {
		o := i * abi.MatchRecordSize
		dst = append(dst, Match{
			Start: int(abi.U32(findBuf, o)),
			End:   int(abi.U32(findBuf, o+4)),
			Index: int(abi.U32(findBuf, o+8)),
		})
	}
	return dst
}

// findTextsBuf is the guest-side buffer for FuncMatcherFindTexts records.
var findTextsBuf = make([]byte, 64*abi.TextMatchRecordSize)

func findTexts(handle int32, first bool, dst []Match) []Match {
	var flags uint32
	if first {
		flags = abi.FindFirst
	}
	n := callFindTexts(handle, flags, findTextsBuf)
	if n >= 0 && int(n)*abi.TextMatchRecordSize > len(findTextsBuf) {
		findTextsBuf = make([]byte, int(n)*abi.TextMatchRecordSize)
		n = callFindTexts(handle, flags, findTextsBuf)
	}
	if n < 0 {
		// Finding nothing would let the texts through unread: the check
		// fails instead (Check's recover turns this into a rule error).
		panic("finding matches in the texts: " + callLastError())
	}
	n = min(n, int32(len(findTextsBuf)/abi.TextMatchRecordSize))
	for i := 0; i < int(n); i++ {
		o := i * abi.TextMatchRecordSize
		dst = append(dst, Match{
			Text:  int(abi.U32(findTextsBuf, o)),
			Start: int(abi.U32(findTextsBuf, o+4)),
			End:   int(abi.U32(findTextsBuf, o+8)),
			Index: int(abi.U32(findTextsBuf, o+12)),
		})
	}
	return dst
}

// Level is a log level for Log.
type Level uint32

// Log levels.
const (
	LevelDebug = Level(abi.LevelDebug)
	LevelInfo  = Level(abi.LevelInfo)
	LevelWarn  = Level(abi.LevelWarn)
	LevelError = Level(abi.LevelError)
)

// Log writes a line to the host's log, attributed to the plugin. Never log
// the texts: they may hold the very secrets a rule protects.
func Log(level Level, msg string) { callLog(uint32(level), msg) }

// wrapError is fmt.Errorf("<doing>: %w", err) without fmt (see Config.Decode).
type wrapError struct {
	doing string
	err   error
}

func (e *wrapError) Error() string { return e.doing + ": " + e.err.Error() }
func (e *wrapError) Unwrap() error { return e.err }
